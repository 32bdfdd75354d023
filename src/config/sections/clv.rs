//! The `[clv]` config section (customer lifetime value) and its validated
//! form. Its settings reach the bundled CLV queries as named SQL parameters
//! (`$clv_unit_days`, `$clv_horizon_days`, ...).

use datafusion::scalar::ScalarValue;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::config::settings::parse_duration;

/// `[clv]` as written by the user.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClvConfig {
    /// Unit of recency, T and the horizon in the models: "days" | "weeks".
    pub time_unit: Option<String>,
    /// Prediction horizon, whole days ("365d", "52w").
    pub horizon: Option<String>,
    /// Discount rate per month (30 days) for the predicted CLV, e.g. 0.01.
    pub monthly_discount_rate: Option<f64>,
    /// Hold out the last part of the history to validate the model ("90d").
    pub holdout: Option<String>,
    /// How purchases are grouped before counting them: "day" (lifetimes'
    /// freq "D", the default) or "hour" (for customers who buy several
    /// times a day).
    pub purchase_grain: Option<String>,
}

/// Validated CLV settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ClvSettings {
    /// "days" or "weeks".
    pub time_unit: &'static str,
    /// Days per time unit: 1 or 7.
    pub unit_days: f64,
    pub horizon_days: i64,
    pub monthly_discount_rate: f64,
    /// 0 when no holdout is configured.
    pub holdout_days: i64,
    /// Purchase periods per day: 1 (`[clv] purchase_grain = "day"`) or 24 ("hour").
    pub periods_per_day: i64,
}

impl Default for ClvSettings {
    fn default() -> Self {
        ClvSettings {
            time_unit: "days",
            unit_days: 1.0,
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

impl ClvSettings {
    pub fn from_config(c: &ClvConfig) -> Result<ClvSettings> {
        let d = ClvSettings::default();
        let (time_unit, unit_days) = match c.time_unit.as_deref() {
            None | Some("days") => ("days", 1.0),
            Some("weeks") => ("weeks", 7.0),
            Some(other) => {
                return Err(Error::setting(
                    "clv.time_unit",
                    format!("`{other}` is not days or weeks"),
                ))
            }
        };
        let horizon_days = match &c.horizon {
            Some(h) => whole_days("clv.horizon", h)?,
            None => d.horizon_days,
        };
        let monthly_discount_rate = c.monthly_discount_rate.unwrap_or(d.monthly_discount_rate);
        if !(0.0..1.0).contains(&monthly_discount_rate) {
            return Err(Error::setting(
                "clv.monthly_discount_rate",
                format!(
                    "{monthly_discount_rate} must be at least 0 and below 1 (0.01 = 1% a month)"
                ),
            ));
        }
        let holdout_days = match &c.holdout {
            Some(h) => whole_days("clv.holdout", h)?,
            None => 0,
        };
        let periods_per_day = match c.purchase_grain.as_deref() {
            None | Some("day") => 1,
            Some("hour") => 24,
            Some(other) => {
                return Err(Error::setting(
                    "clv.purchase_grain",
                    format!("`{other}` is not day or hour"),
                ))
            }
        };
        Ok(ClvSettings {
            time_unit,
            unit_days,
            horizon_days,
            monthly_discount_rate,
            holdout_days,
            periods_per_day,
        })
    }

    /// The named SQL parameters of the CLV queries.
    pub fn params(&self) -> Vec<(String, ScalarValue)> {
        vec![
            (
                "clv_time_unit".into(),
                ScalarValue::Utf8(Some(self.time_unit.into())),
            ),
            (
                "clv_unit_days".into(),
                ScalarValue::Float64(Some(self.unit_days)),
            ),
            (
                "clv_horizon_days".into(),
                ScalarValue::Int64(Some(self.horizon_days)),
            ),
            (
                "clv_monthly_discount_rate".into(),
                ScalarValue::Float64(Some(self.monthly_discount_rate)),
            ),
            (
                "clv_holdout_days".into(),
                ScalarValue::Int64(Some(self.holdout_days)),
            ),
            (
                "clv_periods_per_day".into(),
                ScalarValue::Int64(Some(self.periods_per_day)),
            ),
        ]
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
        let t: T = toml::from_str(text).unwrap();
        ClvSettings::from_config(&t.clv)
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(parse("[clv]\n").unwrap(), ClvSettings::default());
        let s = parse(
            "[clv]\ntime_unit = \"weeks\"\nhorizon = \"52w\"\nmonthly_discount_rate = 0.02\nholdout = \"90d\"\npurchase_grain = \"hour\"\n",
        )
        .unwrap();
        assert_eq!(s.periods_per_day, 24);
        assert_eq!(s.unit_days, 7.0);
        assert_eq!(s.horizon_days, 364);
        assert_eq!(s.holdout_days, 90);
        assert_eq!(s.monthly_discount_rate, 0.02);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("[clv]\ntime_unit = \"months\"\n", "clv.time_unit"),
            ("[clv]\nhorizon = \"36h\"\n", "clv.horizon"),
            ("[clv]\nhorizon = \"soon\"\n", "clv.horizon"),
            ("[clv]\nholdout = \"0d\"\n", "clv.holdout"),
            ("[clv]\npurchase_grain = \"week\"\n", "clv.purchase_grain"),
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
