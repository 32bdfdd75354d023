//! The named SQL parameters of a run (`$as_of`, `$session_timeout_seconds`,
//! ...): every scalar setting, typed, built once the as-of date is known.

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::scalar::ScalarValue;

use crate::config::sections::input::Dedupe;
use crate::config::sections::params::ParamValue;
use crate::config::Settings;
use crate::schema::UTC;

/// The parameters of one run. Queries see them as `$name`; Rust code reads
/// the few it needs through typed accessors, never by name.
#[derive(Debug, Clone)]
pub struct Params {
    as_of: NaiveDate,
    values: Vec<(String, ScalarValue)>,
}

/// Exclusive end of the as-of day (midnight UTC after it), microseconds
/// since the epoch.
pub fn as_of_end_us(as_of: NaiveDate) -> i64 {
    as_of
        .succ_opt()
        .unwrap_or(as_of)
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_micros()
}

/// The supported event times: from 1900-01-01 (inclusive) to 2201-01-01
/// (exclusive), UTC, in microseconds. Outside it a row is rejected as
/// `event_time out of range` (DataFusion's nanosecond timestamps, which
/// several queries use, end in 1677 and 2262).
pub const EVENT_TIME_MIN_US: i64 = -2_208_988_800_000_000;
pub const EVENT_TIME_END_US: i64 = 7_289_654_400_000_000;

/// The parameters of the input stage (`input/sql/flag.sql`), known before
/// the as-of date: the supported time range, the latest acceptable event
/// (the run's clock plus `[input] future_margin`) and whether duplicates
/// are rejected.
#[derive(Debug, Clone)]
pub struct InputParams {
    pub future_limit_us: i64,
    pub dedupe: bool,
}

impl InputParams {
    /// The input parameters of a run whose clock reads `now`.
    pub fn new(settings: &Settings, now: DateTime<Utc>) -> InputParams {
        let margin = settings
            .input
            .future_margin_seconds
            .saturating_mul(1_000_000);
        InputParams {
            future_limit_us: now.timestamp_micros().saturating_add(margin),
            dedupe: settings.input.dedupe != Dedupe::Off,
        }
    }

    /// The parameters as DataFusion binds them.
    pub fn to_values(&self) -> Vec<(String, ScalarValue)> {
        vec![
            timestamp("event_time_min", Some(EVENT_TIME_MIN_US)),
            timestamp("event_time_end", Some(EVENT_TIME_END_US)),
            timestamp("future_limit", Some(self.future_limit_us)),
            (
                "dedupe".to_string(),
                ScalarValue::Boolean(Some(self.dedupe)),
            ),
        ]
    }
}

fn int(name: &str, v: i64) -> (String, ScalarValue) {
    (name.to_string(), ScalarValue::Int64(Some(v)))
}

fn float(name: &str, v: f64) -> (String, ScalarValue) {
    (name.to_string(), ScalarValue::Float64(Some(v)))
}

fn text(name: &str, v: &str) -> (String, ScalarValue) {
    (name.to_string(), ScalarValue::Utf8(Some(v.to_string())))
}

fn timestamp(name: &str, micros: Option<i64>) -> (String, ScalarValue) {
    (
        name.to_string(),
        ScalarValue::TimestampMicrosecond(micros, Some(UTC.into())),
    )
}

impl Params {
    pub fn new(settings: &Settings, as_of: NaiveDate) -> Params {
        let end = as_of_end_us(as_of);
        let days = as_of
            .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch"))
            .num_days();
        let s = &settings.sessions;
        let mut v = vec![
            ("as_of".to_string(), ScalarValue::Date32(Some(days as i32))),
            timestamp("as_of_end", Some(end)),
            int("session_timeout_seconds", s.timeout_seconds),
            int("engaged_min_seconds", s.engaged_seconds),
            int("engaged_min_pageviews", s.engaged_pageviews),
        ];
        let a = &settings.attribution;
        let [first, middle, last] = a.position_weights;
        v.extend([
            int("attribution_lookback_seconds", a.lookback_seconds),
            int("time_decay_half_life_seconds", a.half_life_seconds),
            float("position_first_weight", first),
            float("position_middle_weight", middle),
            float("position_last_weight", last),
            (
                "attribute_first_conversion_only".to_string(),
                ScalarValue::Boolean(Some(a.first_conversion_only)),
            ),
            int("max_path_length", a.max_path_length),
            int("max_paths", a.max_paths),
            text("path_edge_node", a.edge_node.as_str()),
        ]);
        let c = &settings.clv;
        v.extend([
            text("clv_time_unit", c.time_unit.as_str()),
            float("clv_unit_days", c.time_unit.days()),
            int("clv_horizon_days", c.horizon_days),
            float("clv_monthly_discount_rate", c.monthly_discount_rate),
            int("clv_holdout_days", c.holdout_days),
            int("clv_periods_per_day", c.periods_per_day),
        ]);
        let l = &settings.lift;
        let start = l.lookback_seconds.map(|secs| end - secs * 1_000_000);
        v.extend([
            timestamp("lift_window_start", start),
            int("lift_min_group_users", l.min_group_users),
            int("lift_min_converters", l.min_converters),
            float("lift_confidence", l.confidence),
            float("lift_fdr", l.fdr),
            float("lift_too_good_p1", l.too_good_p1),
            float("lift_opportunity_points", l.opportunity_points),
            float("lift_srm_alpha", l.srm_alpha),
        ]);
        v.extend(settings.params.iter().map(|(k, p)| {
            let value = match p {
                ParamValue::Text(s) => ScalarValue::Utf8(Some(s.clone())),
                ParamValue::Int(i) => ScalarValue::Int64(Some(*i)),
                ParamValue::Float(f) => ScalarValue::Float64(Some(*f)),
                ParamValue::Bool(b) => ScalarValue::Boolean(Some(*b)),
            };
            (k.clone(), value)
        }));
        Params { as_of, values: v }
    }

    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    /// `$as_of_end` in microseconds since the epoch.
    pub fn as_of_end_us(&self) -> i64 {
        as_of_end_us(self.as_of)
    }

    /// `$as_of_end` as the timestamp queries see.
    pub fn as_of_end(&self) -> ScalarValue {
        ScalarValue::TimestampMicrosecond(Some(self.as_of_end_us()), Some(UTC.into()))
    }

    /// Every parameter, in a stable order (the order of `run_params`).
    pub fn values(&self) -> &[(String, ScalarValue)] {
        &self.values
    }

    /// The parameters as DataFusion binds them (`DataFrame::with_param_values`).
    pub fn to_values(&self) -> Vec<(String, ScalarValue)> {
        self.values.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_range_is_1900_to_2200_inclusive() {
        let at = |y, m, d| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_micros()
        };
        assert_eq!(EVENT_TIME_MIN_US, at(1900, 1, 1));
        assert_eq!(EVENT_TIME_END_US, at(2201, 1, 1));
    }

    #[test]
    fn as_of_end_is_the_next_midnight_and_settings_reach_their_names() {
        let s = Settings::from_toml(
            "[sessions]\ntimeout = \"45m\"\n[clv]\ntime_unit = \"weeks\"\n[lift]\nlookback = \"1d\"\n[params]\nmy_limit = 7\n",
        )
        .unwrap();
        let as_of = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let p = Params::new(&s, as_of);
        // 2026-03-02T00:00:00Z
        assert_eq!(p.as_of_end_us(), 1_772_409_600_000_000);
        let get = |k: &str| {
            p.values()
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(
            get("session_timeout_seconds"),
            ScalarValue::Int64(Some(2700))
        );
        assert_eq!(get("clv_unit_days"), ScalarValue::Float64(Some(7.0)));
        assert_eq!(get("my_limit"), ScalarValue::Int64(Some(7)));
        assert_eq!(
            get("lift_window_start"),
            ScalarValue::TimestampMicrosecond(
                Some(1_772_409_600_000_000 - 86_400_000_000),
                Some(UTC.into())
            )
        );
    }
}
