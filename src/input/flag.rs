//! Flagging the mapped input: derive `channel` where the source has none,
//! give every row that cannot be used its reject reason, and count. The SQL
//! is in `input/sql/*.sql`; the config's channel rules are parsed
//! expressions, never pasted into query text.

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::logical_expr::{lit, when, Expr};
use datafusion::prelude::{col, DataFrame, SessionContext};
use datafusion::scalar::ScalarValue;

use crate::config::sections::channels::ChannelRule;
use crate::error::{Error, Result};
use crate::schema::UTC;

/// The internal table holding every input row with its reject reason.
pub const FLAGGED: &str = "_input";
/// The view the flagging SQL reads: the mapped input with its channel.
const MAPPED: &str = "_input_mapped";

const FLAG_SQL: &str = include_str!("sql/flag.sql");
const EVENTS_SQL: &str = include_str!("sql/events.sql");
const REJECTED_SQL: &str = include_str!("sql/rejected.sql");
const COUNTS_SQL: &str = include_str!("sql/counts.sql");

/// Derive `channel` where the source has none (first matching rule, else
/// `other`), then flag rejected rows (missing or unparseable required
/// values, duplicate `event_id`). The result is what [`FLAGGED`] holds.
pub async fn flag_rows(
    ctx: &SessionContext,
    mapped: DataFrame,
    rules: &[ChannelRule],
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
    ctx.deregister_table(MAPPED)?;
    ctx.register_table(MAPPED, mapped.into_view())?;
    Ok(ctx.sql(FLAG_SQL).await?)
}

/// The canonical `events`: good rows of [`FLAGGED`] before `as_of_end`.
pub async fn events(ctx: &SessionContext, as_of_end: ScalarValue) -> Result<DataFrame> {
    let df = ctx.sql(EVENTS_SQL).await?;
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

/// Count [`FLAGGED`] rows by reason and find the latest valid event;
/// `as_of_end_us` (exclusive) counts the valid events after the as-of day.
pub async fn count(ctx: &SessionContext, as_of_end_us: Option<i64>) -> Result<InputCounts> {
    let end = ScalarValue::TimestampMicrosecond(as_of_end_us, Some(UTC.into()));
    let batches = ctx
        .sql(COUNTS_SQL)
        .await?
        .with_param_values(vec![("as_of_end", end)])?
        .collect()
        .await?;
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
            .filter(|l| !l.starts_with("--"))
            .collect::<Vec<_>>()
            .join(" ");
        let list = select
            .split("SELECT")
            .nth(1)
            .and_then(|s| s.split("FROM").next())
            .unwrap();
        let names: Vec<&str> = list.split(',').map(str::trim).collect();
        let canonical: Vec<&str> = crate::schema::COLUMNS.iter().map(|c| c.name).collect();
        assert_eq!(names, canonical);
    }
}
