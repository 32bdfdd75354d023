//! Flagging the mapped input: derive `channel` where the source has none,
//! give every row that cannot be used its reject reason, and count. The SQL
//! is in `input/sql/*.sql`; the config's channel rules are parsed
//! expressions, never pasted into query text.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::logical_expr::{lit, try_cast, when, Expr};
use datafusion::prelude::{col, DataFrame, SessionContext};
use datafusion::scalar::ScalarValue;

use crate::catalog::InputParams;
use crate::config::sections::channels::ChannelRule;
use crate::config::sections::conversions::{Conversion, Scope};
use crate::error::{Error, Result};

/// The name under which the queries of the input stage read every input
/// row with its reject reason (see [`super::tee`]: never materialised).
pub const FLAGGED: &str = "_input";
/// The internal table of good input rows after the as-of day.
pub const AFTER_AS_OF: &str = "_events_after_as_of";
/// The view the flagging SQL reads: the mapped input with its channel.
const MAPPED: &str = "_input_mapped";
/// The column naming a conversion whose value is not finite on the row.
const BAD_VALUE_CONVERSION: &str = "_bad_value_conversion";

const FLAG_SQL: &str = include_str!("sql/flag.sql");
const EVENTS_SQL: &str = include_str!("sql/events.sql");
const REJECTED_SQL: &str = include_str!("sql/rejected.sql");
const COUNTS_SQL: &str = include_str!("sql/counts.sql");
const AFTER_AS_OF_SQL: &str = include_str!("sql/after_as_of.sql");
const EVENTS_STITCHED_SQL: &str = include_str!("sql/events_stitched.sql");
const AFTER_AS_OF_STITCHED_SQL: &str = include_str!("sql/after_as_of_stitched.sql");

/// Derive `channel` where the source has none (first matching rule, else
/// `other`), then flag rejected rows (missing, unparseable or unsupported
/// values, non-finite conversion values, duplicates). The result is what
/// [`FLAGGED`] holds.
pub async fn flag_rows(
    ctx: &SessionContext,
    mapped: DataFrame,
    rules: &[ChannelRule],
    conversions: &[Conversion],
    params: &InputParams,
) -> Result<DataFrame> {
    let mut case: Option<datafusion::logical_expr::conditional_expressions::CaseBuilder> = None;
    for rule in rules {
        let cond = mapped
            .parse_sql_expr(&rule.when)
            .map_err(|e| Error::ChannelExpr {
                name: rule.name.clone(),
                expr: rule.when.clone(),
                source: Box::new(e),
            })?;
        let value = lit(rule.name.clone());
        case = Some(match case {
            None => when(cond, value),
            Some(mut b) => b.when(cond, value),
        });
    }
    let derived: Expr = match case {
        Some(mut b) => b.otherwise(lit("other"))?,
        None => lit("other"),
    };
    let channel = datafusion::functions::core::expr_fn::coalesce(vec![
        datafusion::functions::core::expr_fn::nullif(col("channel"), lit("")),
        derived,
    ]);
    let mapped = mapped.with_column("channel", channel)?;
    let bad_value = bad_value_conversion(&mapped, conversions);
    let mapped = mapped.with_column(BAD_VALUE_CONVERSION, bad_value)?;
    ctx.deregister_table(MAPPED)?;
    ctx.register_table(MAPPED, mapped.into_view())?;
    Ok(ctx
        .sql(FLAG_SQL)
        .await?
        .with_param_values(params.to_values())?)
}

/// The name of the first event-scope conversion a row meets whose `value`
/// is NaN or infinite on it (NULL when none). Only conversions whose `when`
/// and `value` read canonical columns can be checked here; the others (on
/// `dwell_seconds`, say) are checked where their hits are built.
fn bad_value_conversion(mapped: &DataFrame, conversions: &[Conversion]) -> Expr {
    let mut case: Option<datafusion::logical_expr::conditional_expressions::CaseBuilder> = None;
    for def in conversions.iter().filter(|c| c.scope == Scope::Event) {
        let Some(value) = &def.value else { continue };
        let (Ok(cond), Ok(value)) = (
            mapped.parse_sql_expr(&def.when),
            mapped.parse_sql_expr(value),
        ) else {
            continue;
        };
        let bad = cond.and(not_finite(try_cast(value, DataType::Float64)));
        let name = lit(def.name.clone());
        case = Some(match case {
            None => when(bad, name),
            Some(mut b) => b.when(bad, name),
        });
    }
    match case {
        Some(mut b) => b
            .otherwise(lit(ScalarValue::Utf8(None)))
            .expect("CASE with a WHEN is valid"),
        None => lit(ScalarValue::Utf8(None)),
    }
}

/// `x` is NaN or infinite (NULL stays NULL).
pub fn not_finite(x: Expr) -> Expr {
    datafusion::functions::math::expr_fn::isnan(x.clone())
        .or(datafusion::functions::math::expr_fn::abs(x).gt(lit(f64::MAX)))
}

/// The canonical `events`: good rows of [`FLAGGED`] before `as_of_end`
/// (all of them when it is NULL).
pub async fn events(
    ctx: &SessionContext,
    as_of_end: ScalarValue,
    stitch: bool,
) -> Result<DataFrame> {
    let sql = if stitch {
        EVENTS_STITCHED_SQL
    } else {
        EVENTS_SQL
    };
    let df = ctx.sql(sql).await?;
    Ok(df.with_param_values(vec![("as_of_end", as_of_end)])?)
}

/// [`AFTER_AS_OF`]: good rows of [`FLAGGED`] from `as_of_end` on (none
/// when it is NULL).
pub async fn after_as_of(
    ctx: &SessionContext,
    as_of_end: ScalarValue,
    stitch: bool,
) -> Result<DataFrame> {
    let sql = if stitch {
        AFTER_AS_OF_STITCHED_SQL
    } else {
        AFTER_AS_OF_SQL
    };
    let df = ctx.sql(sql).await?;
    Ok(df.with_param_values(vec![("as_of_end", as_of_end)])?)
}

/// `rejected_events`: every rejected row of [`FLAGGED`], with file and reason.
pub async fn rejected(ctx: &SessionContext) -> Result<DataFrame> {
    Ok(ctx.sql(REJECTED_SQL).await?)
}

/// Row counts of the flagged input.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InputCounts {
    pub rows: u64,
    pub rejected: BTreeMap<String, u64>,
    pub valid: u64,
    pub after_as_of: u64,
    /// Latest valid event time, microseconds since the epoch.
    pub max_event_time_us: Option<i64>,
}

impl InputCounts {
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

/// The query counting [`FLAGGED`] rows by reason and finding the latest
/// valid event; `as_of_end` (exclusive, NULL for none) counts the valid
/// events after the as-of day. [`read_counts`] reads its result.
pub async fn count(ctx: &SessionContext, as_of_end: ScalarValue) -> Result<DataFrame> {
    Ok(ctx
        .sql(COUNTS_SQL)
        .await?
        .with_param_values(vec![("as_of_end", as_of_end)])?)
}

/// Run the [`count`] query.
pub async fn read_counts(df: DataFrame) -> Result<InputCounts> {
    let batches = df.collect().await?;
    let mut counts = InputCounts::default();
    for b in &batches {
        let reasons = datafusion::arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let reasons = reasons.as_string::<i32>();
        let n = b.column(1).as_primitive::<Int64Type>();
        let max = b.column(2).as_primitive::<Int64Type>();
        let after = b.column(3).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            let rows = n.value(i) as u64;
            counts.rows += rows;
            if reasons.value(i).is_empty() {
                counts.valid = rows;
                counts.max_event_time_us = (!max.is_null(i)).then(|| max.value(i));
                counts.after_as_of = if after.is_null(i) {
                    0
                } else {
                    after.value(i) as u64
                };
            } else {
                counts.rejected.insert(reasons.value(i).to_string(), rows);
            }
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_sql_selects_the_canonical_columns_in_order() {
        let select = EVENTS_SQL
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join(" ");
        let list = select
            .split("SELECT")
            .nth(1)
            .and_then(|s| s.split("FROM").next())
            .unwrap();
        // the canonical columns, then the kept ones: every other column
        let (named, rest) = list.split_once("* EXCEPT (").unwrap();
        let names: Vec<&str> = named
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        let canonical: Vec<&str> = crate::schema::COLUMNS.iter().map(|c| c.name).collect();
        assert_eq!(names, canonical);
        let excepted: Vec<&str> = rest
            .split(')')
            .next()
            .unwrap()
            .split(',')
            .map(str::trim)
            .collect();
        for name in canonical {
            assert!(excepted.contains(&name), "{name} is selected twice");
        }
    }
}
