//! `parse_event_time(text)`: lenient ISO-8601 parsing into a UTC timestamp.
//! Returns NULL (never an error) for text it cannot read, so the input layer
//! can quarantine those rows with a reason instead of failing the run.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
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

#[cfg(test)]
mod tests {
    use super::parse_micros;

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
}
