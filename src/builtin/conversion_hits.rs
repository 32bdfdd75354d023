//! The two builtin tables that evaluate the config's conversion conditions:
//! `event_conversion_hits` (event-scope `when` over `session_events`) and
//! `session_conversion_hits` (session-scope `when` over `sessions`). They
//! are DataFrames built from parsed expressions, not templated SQL.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::logical_expr::{cast, lit, Expr};
use datafusion::prelude::{col, DataFrame, SessionContext};
use datafusion::scalar::ScalarValue;

use super::Builtin;
use crate::catalog::Params;
use crate::config::sections::conversions::{Conversion, Scope};
use crate::config::Settings;
use crate::error::Result;
use crate::schema::timestamp_type;

/// The conversion hits of one scope.
#[derive(Debug)]
pub struct ConversionHits {
    scope: Scope,
}

/// `event_conversion_hits`: event-scope conditions over `session_events`.
pub const EVENT_HITS: ConversionHits = ConversionHits {
    scope: Scope::Event,
};
/// `session_conversion_hits`: session-scope conditions over `sessions`.
pub const SESSION_HITS: ConversionHits = ConversionHits {
    scope: Scope::Session,
};

#[async_trait]
impl Builtin for ConversionHits {
    fn name(&self) -> &'static str {
        match self.scope {
            Scope::Event => "event_conversion_hits",
            Scope::Session => "session_conversion_hits",
        }
    }

    fn description(&self) -> &'static str {
        match self.scope {
            Scope::Event => "one row per event x event-scope conversion whose `when` it meets",
            Scope::Session => {
                "one row per session x session-scope conversion whose `when` it meets"
            }
        }
    }

    fn reads(&self) -> &'static [&'static str] {
        match self.scope {
            Scope::Event => &["session_events"],
            Scope::Session => &["sessions"],
        }
    }

    async fn build(
        &self,
        ctx: &SessionContext,
        settings: &Settings,
        _params: &Params,
    ) -> Result<DataFrame> {
        build(ctx, self.scope, self.reads()[0], &settings.conversions).await
    }
}

fn hits_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Utf8, true),
        Field::new("user_id", DataType::Utf8, true),
        Field::new("session_id", DataType::Utf8, true),
        Field::new("event_time", timestamp_type(), true),
        Field::new("conversion", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
    ]))
}

/// The union of every `scope` conversion's matches in table `base`.
async fn build(
    ctx: &SessionContext,
    scope: Scope,
    base: &str,
    conversions: &[Conversion],
) -> Result<DataFrame> {
    let defs: Vec<&Conversion> = conversions.iter().filter(|c| c.scope == scope).collect();
    let mut out: Option<DataFrame> = None;
    for def in defs {
        let df = ctx.table(base).await?;
        let (cond, value) = super::conversion_exprs(&df, def)?;
        let value = value.unwrap_or(lit(ScalarValue::Float64(None)));
        let (event_id, time): (Expr, Expr) = match scope {
            Scope::Event => (col("event_id"), col("event_time")),
            Scope::Session => (lit(ScalarValue::Utf8(None)), col("session_start")),
        };
        let hits = df.filter(cond)?.select(vec![
            event_id.alias("event_id"),
            col("user_id"),
            col("session_id"),
            cast(time, timestamp_type()).alias("event_time"),
            lit(def.name.clone()).alias("conversion"),
            value.alias("value"),
        ])?;
        out = Some(match out {
            None => hits,
            Some(acc) => acc.union(hits)?,
        });
    }
    match out {
        Some(df) => Ok(df),
        None => Ok(ctx.read_table(crate::input::empty_table(hits_schema())?)?),
    }
}
