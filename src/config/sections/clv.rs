//! The `[clv]` config section (customer lifetime value) and its validated
//! form.

use serde::{Deserialize, Serialize};

use crate::config::units::parse_duration;
use crate::error::{Error, Result};

/// `[clv]` as written by the user.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClvConfig {
    /// Unit of recency, T and the horizon in the models.
    pub time_unit: Option<ClvTimeUnit>,
    /// Prediction horizon, whole days ("365d", "52w").
    pub horizon: Option<String>,
    /// Discount rate per month (30 days) for the predicted CLV, e.g. 0.01.
    pub monthly_discount_rate: Option<f64>,
    /// Hold out the last part of the history to validate the model ("90d").
    pub holdout: Option<String>,
    /// How purchases are grouped before counting them.
    pub purchase_grain: Option<PurchaseGrain>,
}

/// The unit of recency, T and the horizon in the CLV models.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClvTimeUnit {
    #[default]
    Days,
    Weeks,
}

impl ClvTimeUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            ClvTimeUnit::Days => "days",
            ClvTimeUnit::Weeks => "weeks",
        }
    }

    pub fn days(self) -> f64 {
        match self {
            ClvTimeUnit::Days => 1.0,
            ClvTimeUnit::Weeks => 7.0,
        }
    }
}

/// How purchases are grouped before they are counted: lifetimes' freq "D"
/// (the default) or "h" (for customers who buy several times a day).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseGrain {
    #[default]
    Day,
    Hour,
}

/// Validated CLV settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ClvSettings {
    pub time_unit: ClvTimeUnit,
    pub horizon_days: i64,
    pub monthly_discount_rate: f64,
    /// 0 when no holdout is configured.
    pub holdout_days: i64,
    /// Purchase periods per day: 1 (`purchase_grain = "day"`) or 24 ("hour").
    pub periods_per_day: i64,
}

impl Default for ClvSettings {
    fn default() -> Self {
        ClvSettings {
            time_unit: ClvTimeUnit::Days,
            horizon_days: 365,
            monthly_discount_rate: 0.01,
            holdout_days: 0,
            periods_per_day: 1,
        }
    }
}

/// A duration of whole days, at least one.
fn whole_days(key: &str, text: &str) -> Result<i64> {
    let seconds = parse_duration(text).map_err(|m| Error::setting(key, m))?;
    if seconds <= 0 || seconds % 86_400 != 0 {
        return Err(Error::setting(
            key,
            format!("`{text}` must be a positive number of whole days, like 90d or 52w"),
        ));
    }
    Ok(seconds / 86_400)
}

impl ClvConfig {
    pub fn validate(&self) -> Result<ClvSettings> {
        let d = ClvSettings::default();
        let horizon_days = match &self.horizon {
            Some(h) => whole_days("clv.horizon", h)?,
            None => d.horizon_days,
        };
        let monthly_discount_rate = self
            .monthly_discount_rate
            .unwrap_or(d.monthly_discount_rate);
        if !(0.0..1.0).contains(&monthly_discount_rate) {
            return Err(Error::setting(
                "clv.monthly_discount_rate",
                format!(
                    "{monthly_discount_rate} must be at least 0 and below 1 (0.01 = 1% a month)"
                ),
            ));
        }
        let holdout_days = match &self.holdout {
            Some(h) => whole_days("clv.holdout", h)?,
            None => 0,
        };
        let periods_per_day = match self.purchase_grain.unwrap_or_default() {
            PurchaseGrain::Day => 1,
            PurchaseGrain::Hour => 24,
        };
        Ok(ClvSettings {
            time_unit: self.time_unit.unwrap_or_default(),
            horizon_days,
            monthly_discount_rate,
            holdout_days,
            periods_per_day,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ClvSettings> {
        #[derive(Deserialize)]
        struct T {
            clv: ClvConfig,
        }
        let t: T = toml::from_str(text).map_err(|e| Error::setting("toml", e.to_string()))?;
        t.clv.validate()
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(parse("[clv]\n").unwrap(), ClvSettings::default());
        let s = parse(
            "[clv]\ntime_unit = \"weeks\"\nhorizon = \"52w\"\nmonthly_discount_rate = 0.02\nholdout = \"90d\"\npurchase_grain = \"hour\"\n",
        )
        .unwrap();
        assert_eq!(s.periods_per_day, 24);
        assert_eq!(s.time_unit.days(), 7.0);
        assert_eq!(s.horizon_days, 364);
        assert_eq!(s.holdout_days, 90);
        assert_eq!(s.monthly_discount_rate, 0.02);
    }

    #[test]
    fn bad_values_name_their_key_or_value() {
        for (text, key) in [
            ("[clv]\ntime_unit = \"months\"\n", "months"),
            ("[clv]\nhorizon = \"36h\"\n", "clv.horizon"),
            ("[clv]\nhorizon = \"soon\"\n", "clv.horizon"),
            ("[clv]\nholdout = \"0d\"\n", "clv.holdout"),
            ("[clv]\npurchase_grain = \"week\"\n", "week"),
            (
                "[clv]\nmonthly_discount_rate = 1.5\n",
                "clv.monthly_discount_rate",
            ),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
    }
}
