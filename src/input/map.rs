//! Mapping one source (a Parquet file, or any DataFrame) onto the canonical
//! event columns: renames from `[input.columns]`, type coercion (epoch
//! integers, ISO-8601 text, other timestamp units), and the flags from which
//! rows are rejected with a reason.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::DFSchema;
use datafusion::logical_expr::{cast, expr::ScalarFunction, lit, try_cast, when, Expr};
use datafusion::prelude::{ident, DataFrame};
use datafusion::scalar::ScalarValue;

use crate::config::sections::input::{EpochUnit, InputSettings};
use crate::error::{Error, Result};
use crate::functions::time::parse_event_time_udf;
use crate::schema::{self, timestamp_type, Kind};

/// Internal columns added beside the canonical ones.
pub const SOURCE_FILE: &str = "_source_file";
pub const RAW_TIME: &str = "_raw_event_time";
pub const BAD_REVENUE: &str = "_bad_revenue";

/// Select the canonical columns (typed) from `df`, plus the internal
/// columns. `source` names the input in errors; `source_file` is the
/// expression recorded as the row's file in `rejected_events`.
pub fn map_source(
    df: DataFrame,
    source: &str,
    source_file: Expr,
    mapping: &InputSettings,
) -> Result<DataFrame> {
    let schema = df.schema().clone();
    let mut exprs = Vec::with_capacity(schema::COLUMNS.len() + 3);
    let mut raw_time = lit(ScalarValue::Utf8(None));
    let mut bad_revenue = lit(false);
    for c in schema::COLUMNS {
        let source_name = mapping.columns[c.name].as_str();
        let Some(field) = find_field(&schema, source_name) else {
            if c.required {
                return Err(Error::MissingColumn {
                    path: source.into(),
                    column: source_name.to_string(),
                    canonical: c.name,
                });
            }
            exprs.push(lit(null_of(c.kind)).alias(c.name));
            continue;
        };
        let input = ident(field.0);
        let dt = field.1;
        let mapped = match c.kind {
            Kind::Text => text(input.clone(), &dt),
            Kind::Number => number(input.clone(), &dt),
            Kind::Time => time(input.clone(), &dt, mapping.epoch_unit),
        }
        .ok_or_else(|| Error::ColumnType {
            path: source.into(),
            column: source_name.to_string(),
            canonical: c.name,
            found: dt.to_string(),
            expected: c.kind.describe(),
        })?;
        if c.kind == Kind::Time {
            raw_time = cast(input.clone(), DataType::Utf8);
        }
        if c.name == "revenue" && is_text(&dt) {
            // text that is present but not a number is a bad row, not a 0
            bad_revenue = input.clone().is_not_null().and(mapped.clone().is_null());
        }
        exprs.push(mapped.alias(c.name));
    }
    exprs.push(source_file.alias(SOURCE_FILE));
    exprs.push(raw_time.alias(RAW_TIME));
    exprs.push(bad_revenue.alias(BAD_REVENUE));
    Ok(df.select(exprs)?)
}

/// Find a column by exact name, then case-insensitively.
fn find_field(schema: &DFSchema, name: &str) -> Option<(String, DataType)> {
    let fields = schema.fields();
    fields
        .iter()
        .find(|f| f.name() == name)
        .or_else(|| fields.iter().find(|f| f.name().eq_ignore_ascii_case(name)))
        .map(|f| (f.name().clone(), f.data_type().clone()))
}

fn null_of(kind: Kind) -> ScalarValue {
    match kind {
        Kind::Text => ScalarValue::Utf8(None),
        Kind::Number => ScalarValue::Float64(None),
        Kind::Time => ScalarValue::TimestampMicrosecond(None, Some(schema::UTC.into())),
    }
}

fn is_text(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

fn text(e: Expr, dt: &DataType) -> Option<Expr> {
    match dt {
        DataType::Utf8 => Some(e),
        DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..) => {
            Some(cast(e, DataType::Utf8))
        }
        d if d.is_integer()
            || d.is_floating()
            || matches!(d, DataType::Boolean | DataType::Decimal128(..)) =>
        {
            Some(cast(e, DataType::Utf8))
        }
        _ => None,
    }
}

fn number(e: Expr, dt: &DataType) -> Option<Expr> {
    match dt {
        d if d.is_integer()
            || d.is_floating()
            || matches!(d, DataType::Decimal128(..) | DataType::Decimal256(..)) =>
        {
            Some(cast(e, DataType::Float64))
        }
        d if is_text(d) => Some(try_cast(cast(e, DataType::Utf8), DataType::Float64)),
        _ => None,
    }
}

fn time(e: Expr, dt: &DataType, unit: EpochUnit) -> Option<Expr> {
    let ts = timestamp_type();
    match dt {
        DataType::Timestamp(_, _) => Some(cast(e, ts)),
        DataType::Date32 | DataType::Date64 => Some(cast(
            cast(e, DataType::Timestamp(TimeUnit::Microsecond, None)),
            ts,
        )),
        d if is_text(d) => Some(Expr::ScalarFunction(ScalarFunction::new_udf(
            std::sync::Arc::new(parse_event_time_udf()),
            vec![cast(e, DataType::Utf8)],
        ))),
        d if d.is_integer() => Some(cast(
            epoch_micros(cast(e, DataType::Int64), unit, int_lit),
            ts,
        )),
        d if d.is_floating() => {
            let micros = epoch_micros(cast(e, DataType::Float64), unit, float_lit);
            Some(cast(cast(micros, DataType::Int64), ts))
        }
        _ => None,
    }
}

/// An epoch number in `unit` to microseconds; `num` makes a literal of the
/// number's type (Int64 or Float64), so one rule serves both.
fn epoch_micros(e: Expr, unit: EpochUnit, num: fn(i64) -> Expr) -> Expr {
    match unit {
        EpochUnit::Seconds => e * num(1_000_000),
        EpochUnit::Millis => e * num(1_000),
        EpochUnit::Micros => e,
        EpochUnit::Auto => {
            // below 1e11 seconds, below 1e14 milliseconds, else microseconds
            let abs = datafusion::functions::math::expr_fn::abs(e.clone());
            when(
                abs.clone().lt(num(100_000_000_000)),
                e.clone() * num(1_000_000),
            )
            .when(abs.lt(num(100_000_000_000_000)), e.clone() * num(1_000))
            .otherwise(e)
            .expect("CASE with a WHEN is valid")
        }
    }
}

fn int_lit(n: i64) -> Expr {
    lit(n)
}

fn float_lit(n: i64) -> Expr {
    lit(n as f64)
}
