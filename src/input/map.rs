//! Mapping one source (a Parquet file, or any DataFrame) onto the canonical
//! event columns: renames from `[input.columns]`, type coercion (epoch
//! integers, ISO-8601 text, other timestamp units), and the flags from which
//! rows are rejected with a reason.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::DFSchema;
use datafusion::logical_expr::{cast, expr::ScalarFunction, lit, try_cast, when, Expr};
use datafusion::prelude::{ident, DataFrame};
use datafusion::scalar::ScalarValue;

use super::source_path::{self, find_field};
use crate::catalog::params::{EVENT_TIME_END_US, EVENT_TIME_MIN_US};
use crate::config::sections::input::{Dedupe, EpochUnit, InputSettings};
use crate::error::{Error, Result};
use crate::functions::time::parse_event_time_udf;
use crate::schema::{self, timestamp_type, Kind};

/// Internal columns added beside the canonical ones.
pub const SOURCE_FILE: &str = "_source_file";
/// The login id, a column only with `[identity] stitch`.
pub const LOGIN_ID: &str = "_login_id";
pub const RAW_TIME: &str = "_raw_event_time";
pub const BAD_REVENUE: &str = "_bad_revenue";
/// What identifies a row without an `event_id` (see [`row_key`]).
pub const ROW_KEY: &str = "_row_key";

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
    let mut exprs = Vec::with_capacity(schema::COLUMNS.len() + 4);
    let mut raw_time = lit(ScalarValue::Utf8(None));
    let mut bad_revenue = lit(false);
    for c in schema::COLUMNS {
        let source_name = mapping.columns[c.name].as_str();
        let Some((input, dt)) = source_path::resolve(&schema, source, source_name)? else {
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
    // kept source columns, as they are (NULL where a file lacks one)
    for (name, spec) in &mapping.keep {
        match source_path::resolve(&schema, source, spec)? {
            Some((e, _)) => exprs.push(e.alias(name)),
            None => exprs.push(lit(ScalarValue::Null).alias(name)),
        }
    }
    // the login id, only when stitching ([identity]): a column of NULLs
    // would be carried through every sort of the input for nothing
    if let Some(spec) = &mapping.identity.login {
        let login = match source_path::resolve(&schema, source, spec)? {
            Some((e, dt)) => text(e, &dt).ok_or_else(|| Error::ColumnType {
                path: source.into(),
                column: spec.clone(),
                canonical: "login id ([identity] login)",
                found: dt.to_string(),
                expected: Kind::Text.describe(),
            })?,
            None => lit(ScalarValue::Utf8(None)),
        };
        exprs.push(login.alias(LOGIN_ID));
    }
    exprs.push(source_file.alias(SOURCE_FILE));
    exprs.push(raw_time.alias(RAW_TIME));
    exprs.push(bad_revenue.alias(BAD_REVENUE));
    exprs.push(row_key(&schema, source, &mapping.dedupe)?.alias(ROW_KEY));
    Ok(df.select(exprs)?)
}

/// The text that identifies a row when it has no `event_id`: an md5 of the
/// whole source row (every column, mapped or not: rows that differ only in
/// a column microconv does not use are different rows), or of the
/// `[input] dedupe_key` columns. Each value is written with its length and
/// NULL apart from `''`, so different rows never give the same text.
fn row_key(schema: &DFSchema, source: &str, dedupe: &Dedupe) -> Result<Expr> {
    use datafusion::arrow::compute::can_cast_types;
    use datafusion::functions::crypto::expr_fn::md5;
    use datafusion::functions::string::expr_fn::{concat, concat_ws};
    use datafusion::functions::unicode::expr_fn::character_length;
    let fields: Vec<(String, DataType)> = match dedupe {
        Dedupe::Key(names) => names
            .iter()
            .map(|n| {
                find_field(schema, source, n)?.ok_or_else(|| Error::MissingKeyColumn {
                    path: source.into(),
                    column: n.clone(),
                })
            })
            .collect::<Result<_>>()?,
        Dedupe::WholeRow | Dedupe::Off => schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect(),
    };
    let mut parts = Vec::with_capacity(fields.len());
    for (name, dt) in fields {
        let value = ident(name.clone());
        let text = match &dt {
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => md5(value),
            d if can_cast_types(d, &DataType::Utf8) => try_cast(value, DataType::Utf8),
            other => {
                tracing::warn!(file = source, column = %name, r#type = %other, "column left out of the row key for duplicates: its type has no text form");
                continue;
            }
        };
        parts.push(
            when(text.clone().is_null(), lit("-"))
                .otherwise(concat(vec![
                    cast(character_length(text.clone()), DataType::Utf8),
                    lit(":"),
                    text,
                ]))
                .expect("CASE with a WHEN is valid"),
        );
    }
    // md5 returns Utf8View; as Utf8, `COALESCE(event_id, _row_key)` keeps
    // the source's Utf8 event_id instead of casting it to views of its
    // batches' buffers: sorted and merged, such views pull every buffer they
    // point into along, and a spilled sort wrote and read back gigabytes
    // (100M events under a 2 GiB limit failed in the merge)
    Ok(cast(md5(concat_ws(lit("|"), parts)), DataType::Utf8))
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
        // a column with no value at all (pandas writes all-None this way)
        DataType::Null => Some(cast(e, DataType::Utf8)),
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
        DataType::Null => Some(cast(e, DataType::Float64)),
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
        DataType::Null => Some(cast(e, ts)),
        // a value past the microsecond range becomes NULL (unparseable)
        DataType::Timestamp(_, _) => Some(try_cast(e, ts)),
        DataType::Date32 | DataType::Date64 => Some(try_cast(
            try_cast(e, DataType::Timestamp(TimeUnit::Microsecond, None)),
            ts,
        )),
        // text: ISO-8601 (see `parse_event_time`), else a number read as
        // an epoch in `unit` (CSV columns are text: `1772323200`)
        d if is_text(d) => {
            let text = cast(e, DataType::Utf8);
            let iso = Expr::ScalarFunction(ScalarFunction::new_udf(
                std::sync::Arc::new(parse_event_time_udf()),
                vec![text.clone()],
            ));
            let epoch = epoch_micros(try_cast(text, DataType::Float64), unit, float_lit);
            Some(datafusion::functions::core::expr_fn::coalesce(vec![
                iso,
                cast(cast(clamp_micros(epoch), DataType::Int64), ts),
            ]))
        }
        d if d.is_integer() || d.is_floating() => {
            let micros = epoch_micros(cast(e, DataType::Float64), unit, float_lit);
            Some(cast(cast(clamp_micros(micros), DataType::Int64), ts))
        }
        _ => None,
    }
}

/// Epoch microseconds (as a double) made safe to cast: NaN becomes NULL
/// (`unparseable event_time`), and values outside the supported range,
/// infinities included, are pinned just outside it, so the flagging SQL
/// rejects them as `event_time out of range` (the source value stays in
/// `_raw_event_time`). Integer epochs go through a double too: an integer
/// product would wrap around silently, and every supported microsecond
/// value (below 2^53) is exact as a double.
fn clamp_micros(micros: Expr) -> Expr {
    let below = (EVENT_TIME_MIN_US - 1) as f64;
    let above = EVENT_TIME_END_US as f64;
    when(
        datafusion::functions::math::expr_fn::isnan(micros.clone()),
        lit(ScalarValue::Float64(None)),
    )
    .when(micros.clone().lt(lit(below)), lit(below))
    .when(micros.clone().gt(lit(above)), lit(above))
    .otherwise(micros)
    .expect("CASE with a WHEN is valid")
}

/// An epoch number in `unit` to microseconds; `num` makes a literal of the
/// number's type.
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

fn float_lit(n: i64) -> Expr {
    lit(n as f64)
}
