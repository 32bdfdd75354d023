//! Time functions callable from SQL.
//!
//! - `parse_event_time(text)`: lenient ISO-8601 parsing into a UTC timestamp.
//!   Returns NULL (never an error) for text it cannot read, so the input
//!   layer can quarantine those rows with a reason instead of failing the run.
//! - `seconds_between(start, end)`: `end - start` in seconds (double), NULL
//!   when either is NULL. The difference is taken in whole microseconds and
//!   then divided by 10^6, so it is exactly what
//!   `(CAST(end AS BIGINT) - CAST(start AS BIGINT)) / 1e6` gives on
//!   microsecond timestamps, without the unit arithmetic in every query.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, TimestampMicrosecondArray};
use datafusion::arrow::compute::try_binary;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, TimestampMicrosecondType};
use datafusion::arrow::error::ArrowError;
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};

use crate::schema::{timestamp_type, UTC};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ParseEventTime {
    signature: Signature,
}

pub fn parse_event_time_udf() -> ScalarUDF {
    ScalarUDF::from(ParseEventTime {
        signature: Signature::one_of(
            vec![
                TypeSignature::Exact(vec![DataType::Utf8]),
                TypeSignature::Exact(vec![DataType::Utf8View]),
                TypeSignature::Exact(vec![DataType::LargeUtf8]),
            ],
            Volatility::Immutable,
        ),
    })
}

/// Parse one text timestamp to microseconds since the epoch (UTC).
/// Accepts RFC 3339 with offset or `Z`, `YYYY-MM-DD[ T]HH:MM:SS[.ffffff]`
/// (read as UTC) and bare dates (midnight UTC).
pub fn parse_micros(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_micros());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Some(dt.timestamp_micros());
        }
    }
    let naive = t.strip_suffix(" UTC").unwrap_or(t);
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(dt.and_utc().timestamp_micros());
        }
    }
    NaiveDate::parse_from_str(naive, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc().timestamp_micros())
}

impl ScalarUDFImpl for ParseEventTime {
    fn name(&self) -> &str {
        "parse_event_time"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(timestamp_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = args.args.as_slice() else {
            return exec_err!("parse_event_time takes one argument");
        };
        match arg {
            ColumnarValue::Scalar(s) => {
                let text = match s {
                    ScalarValue::Utf8(v) | ScalarValue::Utf8View(v) | ScalarValue::LargeUtf8(v) => {
                        v.as_deref()
                    }
                    other => return exec_err!("parse_event_time: unexpected argument {other:?}"),
                };
                Ok(ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(
                    text.and_then(parse_micros),
                    Some(UTC.into()),
                )))
            }
            ColumnarValue::Array(array) => {
                let parsed: TimestampMicrosecondArray = match array.data_type() {
                    DataType::Utf8 => array
                        .as_string::<i32>()
                        .iter()
                        .map(|v| v.and_then(parse_micros))
                        .collect(),
                    DataType::LargeUtf8 => array
                        .as_string::<i64>()
                        .iter()
                        .map(|v| v.and_then(parse_micros))
                        .collect(),
                    DataType::Utf8View => array
                        .as_string_view()
                        .iter()
                        .map(|v| v.and_then(parse_micros))
                        .collect(),
                    other => {
                        return exec_err!("parse_event_time: unexpected argument type {other}")
                    }
                };
                let out: ArrayRef = Arc::new(parsed.with_timezone(UTC));
                Ok(ColumnarValue::Array(out))
            }
        }
    }
}

/// `seconds_between(start, end)`: see the module documentation.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SecondsBetween {
    signature: Signature,
}

pub fn seconds_between_udf() -> ScalarUDF {
    ScalarUDF::from(SecondsBetween {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

/// `end - start` in seconds, from microseconds since the epoch; `None` when
/// the difference does not fit in 64 bits.
pub fn seconds_between(start: i64, end: i64) -> Option<f64> {
    end.checked_sub(start).map(|us| us as f64 / 1e6)
}

impl ScalarUDFImpl for SecondsBetween {
    fn name(&self) -> &str {
        "seconds_between"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Timestamps of any unit and time zone, dates and NULL become UTC
    /// microsecond timestamps (the instant does not depend on the zone).
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return plan_err!(
                "seconds_between takes 2 arguments (seconds_between(start, end)), got {}",
                arg_types.len()
            );
        }
        arg_types
            .iter()
            .zip(["start", "end"])
            .map(|(t, arg)| match t {
                DataType::Timestamp(_, _)
                | DataType::Date32
                | DataType::Date64
                | DataType::Null => Ok(timestamp_type()),
                other => plan_err!(
                    "seconds_between: argument `{arg}` must be a timestamp or a date, got {other}"
                ),
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    /// NULL only where an argument can be NULL, as for the arithmetic it
    /// replaces (so output schemas keep their nullability).
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let nullable = args.arg_fields.iter().any(|f| f.is_nullable());
        Ok(Arc::new(Field::new(
            self.name(),
            DataType::Float64,
            nullable,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [start, end] = arrays.as_slice() else {
            return exec_err!("seconds_between takes 2 arguments");
        };
        let start = start.as_primitive::<TimestampMicrosecondType>();
        let end = end.as_primitive::<TimestampMicrosecondType>();
        let seconds: Float64Array = try_binary(start, end, |s, e| {
            seconds_between(s, e).ok_or_else(|| {
                ArrowError::ComputeError(format!(
                    "seconds_between: the difference between {s} and {e} microseconds overflows"
                ))
            })
        })?;
        Ok(ColumnarValue::Array(Arc::new(seconds)))
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_micros, seconds_between};

    #[test]
    fn formats() {
        // 2026-03-01T12:00:00Z = 1772366400 s (date -d @1772366400 -u)
        let noon = Some(1_772_366_400_000_000);
        assert_eq!(parse_micros("2026-03-01T12:00:00Z"), noon);
        assert_eq!(parse_micros("2026-03-01T14:00:00+02:00"), noon);
        assert_eq!(parse_micros("2026-03-01 12:00:00"), noon);
        assert_eq!(parse_micros("2026-03-01 12:00:00 UTC"), noon);
        assert_eq!(parse_micros("2026-03-01T12:00:00.000"), noon);
        assert_eq!(
            parse_micros("2026-03-01T12:00:00.5Z"),
            Some(1_772_366_400_500_000)
        );
        assert_eq!(parse_micros("2026-03-01"), Some(1_772_323_200_000_000));
        assert_eq!(parse_micros("yesterday"), None);
        assert_eq!(parse_micros("2026-02-30"), None);
    }

    #[test]
    fn seconds_between_divides_whole_microseconds() {
        assert_eq!(seconds_between(1_000_000, 3_500_000), Some(2.5));
        assert_eq!(seconds_between(3_500_000, 1_000_000), Some(-2.5));
        // one microsecond is 1e-6 s, the double nearest to 10^-6
        assert_eq!(seconds_between(0, 1), Some(1e-6));
        assert_eq!(seconds_between(i64::MIN, 1), None);
    }
}
