//! `[sessions]`: sessionization and what makes a session engaged.

use serde::{Deserialize, Serialize};

use crate::config::units::{parse_duration, parse_positive_duration};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsConfig {
    /// Inactivity timeout, e.g. "30m".
    pub timeout: Option<String>,
    /// Event names counted as page views.
    pub pageview_events: Option<Vec<String>>,
    /// A session is engaged when it lasts at least this long ("10s") ...
    pub engaged_duration: Option<String>,
    /// ... or has at least this many page views, or a macro conversion.
    pub engaged_pageviews: Option<u32>,
}

/// Validated `[sessions]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSettings {
    pub timeout_seconds: i64,
    pub pageview_events: Vec<String>,
    pub engaged_seconds: i64,
    pub engaged_pageviews: i64,
}

impl SessionsConfig {
    pub fn validate(&self) -> Result<SessionSettings> {
        let timeout = self.timeout.as_deref().unwrap_or("30m");
        let timeout_seconds =
            parse_positive_duration(timeout).map_err(|m| Error::setting("sessions.timeout", m))?;
        let engaged = self.engaged_duration.as_deref().unwrap_or("10s");
        let engaged_seconds =
            parse_duration(engaged).map_err(|m| Error::setting("sessions.engaged_duration", m))?;
        Ok(SessionSettings {
            timeout_seconds,
            pageview_events: self
                .pageview_events
                .clone()
                .unwrap_or_else(|| vec!["page_view".into(), "product_view".into()]),
            engaged_seconds,
            engaged_pageviews: i64::from(self.engaged_pageviews.unwrap_or(2)),
        })
    }
}
