//! The builtin table `clv_activity_after_as_of`: what happened after the
//! as-of day, for validating the CLV model on real later purchases.
//!
//! `events` stops at the end of the as-of day, so the bundled queries cannot
//! see later rows. When the input does have valid rows after it (a backtest:
//! `--as-of` in the past), this table gives one row per user × purchase
//! period (UTC day, or hour: `[clv] purchase_grain`) with a valid event after
//! the as-of day, with the macro conversions of that period.
//! Only event-scope macro definitions are evaluated, on the raw canonical
//! events (there are no sessions after the as-of day: `session_id` is the
//! source's, `event_seq` and `dwell_seconds` are NULL). Normally empty.

use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use datafusion::functions_aggregate::expr_fn::{max, sum};
use datafusion::logical_expr::{cast, lit, when, Expr};
use datafusion::prelude::{col, DataFrame, SessionContext};
use datafusion::scalar::ScalarValue;

use super::Builtin;
use crate::catalog::Params;
use crate::config::sections::conversions::{ConversionKind, Scope};
use crate::config::Settings;
use crate::error::Result;
use crate::input::AFTER_AS_OF;

/// The builtin `clv_activity_after_as_of`.
#[derive(Debug)]
pub struct ClvActivityAfterAsOf;

#[async_trait]
impl Builtin for ClvActivityAfterAsOf {
    fn name(&self) -> &'static str {
        "clv_activity_after_as_of"
    }

    fn description(&self) -> &'static str {
        "one row per user x purchase period (UTC day or hour) with a valid input event after \
         the as-of day (event-scope macro conversions evaluated on the raw events); \
         for clv_validation"
    }

    /// The good input rows after the as-of day: `events` stops at it.
    fn reads(&self) -> &'static [&'static str] {
        &[AFTER_AS_OF]
    }

    async fn build(
        &self,
        ctx: &SessionContext,
        settings: &Settings,
        params: &Params,
    ) -> Result<DataFrame> {
        build(ctx, settings, params).await
    }
}

/// Build the table: columns `user_id`, `period` (int64, as in
/// `clv_purchase_periods`), `day` (date), `orders` (int64), `revenue`
/// (double), `last_event_time` (timestamp).
async fn build(ctx: &SessionContext, settings: &Settings, params: &Params) -> Result<DataFrame> {
    let as_of_end = params.as_of_end();
    let df = ctx
        .table(AFTER_AS_OF)
        .await?
        .filter(col("event_time").gt_eq(lit(as_of_end)))?
        .with_column("event_seq", lit(ScalarValue::Int64(None)))?
        .with_column("dwell_seconds", lit(ScalarValue::Float64(None)))?;
    let mut orders: Expr = lit(0_i64);
    let mut revenue: Expr = lit(0.0_f64);
    for def in settings
        .conversions
        .iter()
        .filter(|c| c.kind == ConversionKind::Macro && c.scope == Scope::Event)
    {
        let (cond, value) = super::conversion_exprs(&df, def)?;
        let value = value.unwrap_or(lit(0.0_f64));
        orders = orders + when(cond.clone(), lit(1_i64)).otherwise(lit(0_i64))?;
        revenue = revenue
            + when(
                cond,
                datafusion::functions::core::expr_fn::coalesce(vec![value, lit(0.0_f64)]),
            )
            .otherwise(lit(0.0_f64))?;
    }
    let period_us = 86_400_000_000 / settings.clv.periods_per_day;
    let df = df
        .select(vec![
            col("user_id"),
            (cast(col("event_time"), DataType::Int64) / lit(period_us)).alias("period"),
            cast(col("event_time"), DataType::Date32).alias("day"),
            col("event_time"),
            orders.alias("orders"),
            revenue.alias("revenue"),
        ])?
        .aggregate(
            vec![col("user_id"), col("period"), col("day")],
            vec![
                sum(col("orders")).alias("orders"),
                sum(col("revenue")).alias("revenue"),
                max(col("event_time")).alias("last_event_time"),
            ],
        )?;
    Ok(df)
}
