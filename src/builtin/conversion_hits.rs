//! The two builtin tables that evaluate the config's conversion conditions:
//! `event_conversion_hits` (event-scope `when` over `session_events`) and
//! `session_conversion_hits` (session-scope `when` over `sessions`). They
//! are DataFrames built from parsed expressions, not templated SQL.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{cast, lit, when, Expr};
use datafusion::prelude::{col, DataFrame, SessionContext};
use datafusion::scalar::ScalarValue;

use super::Builtin;
use crate::catalog::Params;
use crate::config::sections::conversions::{Conversion, Scope};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::schema::timestamp_type;

/// The conversion hits of one scope.
#[derive(Debug)]
pub struct ConversionHits {
    scope: Scope,
}

/// `event_conversion_hits`: event-scope conditions over `session_events`.
pub const EVENT_HITS: ConversionHits = ConversionHits {
    scope: Scope::Event,
};
/// `session_conversion_hits`: session-scope conditions over `sessions`.
pub const SESSION_HITS: ConversionHits = ConversionHits {
    scope: Scope::Session,
};

#[async_trait]
impl Builtin for ConversionHits {
    fn name(&self) -> &'static str {
        match self.scope {
            Scope::Event => "event_conversion_hits",
            Scope::Session => "session_conversion_hits",
        }
    }

    fn description(&self) -> &'static str {
        match self.scope {
            Scope::Event => "one row per event x event-scope conversion whose `when` it meets",
            Scope::Session => {
                "one row per session x session-scope conversion whose `when` it meets"
            }
        }
    }

    fn reads(&self) -> &'static [&'static str] {
        match self.scope {
            Scope::Event => &["session_events"],
            Scope::Session => &["sessions"],
        }
    }

    async fn build(
        &self,
        ctx: &SessionContext,
        settings: &Settings,
        _params: &Params,
    ) -> Result<DataFrame> {
        build(ctx, self.scope, self.reads()[0], &settings.conversions).await
    }

    async fn explain(&self, ctx: &SessionContext, settings: &Settings, err: Error) -> Error {
        failing(ctx, self.scope, self.reads()[0], &settings.conversions)
            .await
            .unwrap_or(err)
    }
}

fn hits_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Utf8, true),
        Field::new("user_id", DataType::Utf8, true),
        Field::new("session_id", DataType::Utf8, true),
        Field::new("event_time", timestamp_type(), true),
        Field::new("conversion", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
    ]))
}

/// The columns a conversion of `scope` is evaluated on: `session_events`
/// (the canonical events, `event_seq`, `dwell_seconds`) or `sessions`. The
/// config is checked against these before any data is read; a test checks
/// that they are the columns of the real tables.
pub fn scope_schema(scope: Scope, keep: &[String]) -> Arc<Schema> {
    use DataType::{Boolean, Float64, Int64, Utf8};
    let f = |name: &str, dt: DataType| Field::new(name, dt, true);
    match scope {
        Scope::Event => {
            let mut fields: Vec<Field> = crate::schema::events_schema()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone())
                .collect();
            fields.push(f("event_seq", Int64));
            fields.push(f("dwell_seconds", Float64));
            // kept source columns: their type is the source's, known only
            // once the input is read; NULL-typed here, they take whatever
            // type an expression needs
            fields.extend(keep.iter().map(|name| f(name, DataType::Null)));
            Arc::new(Schema::new(fields))
        }
        Scope::Session => Arc::new(Schema::new(vec![
            f("session_id", Utf8),
            f("user_id", Utf8),
            f("session_start", timestamp_type()),
            f("session_end", timestamp_type()),
            f("duration_seconds", Float64),
            f("events", Int64),
            f("pageviews", Int64),
            f("landing_page", Utf8),
            f("channel", Utf8),
            f("source", Utf8),
            f("medium", Utf8),
            f("campaign", Utf8),
            f("device", Utf8),
            f("country", Utf8),
            f("micro_conversions", Int64),
            f("macro_conversions", Int64),
            f("revenue", Float64),
            f("engaged", Boolean),
        ])),
    }
}

/// Check every conversion's `when` (a boolean condition on one row: no
/// aggregate, no window) and `value` (a number) against the columns of its
/// scope, by planning it over an empty table. Errors name the conversion.
pub fn check(ctx: &SessionContext, conversions: &[Conversion], keep: &[String]) -> Result<()> {
    use datafusion::logical_expr::utils::{find_aggregate_exprs, find_window_exprs};
    use datafusion::logical_expr::ExprSchemable;
    for def in conversions {
        let empty = crate::input::empty_table(scope_schema(def.scope, keep))?;
        let df = ctx.read_table(empty)?;
        let bad = |key: &'static str, expr: &str, message: String| Error::ConversionExpr {
            name: def.name.clone(),
            key,
            expr: expr.to_string(),
            source: Box::new(DataFusionError::Plan(message)),
        };
        let (cond, value) = super::conversion_exprs(&df, def)?;
        let raw_value = match &def.value {
            Some(text) => Some((text.as_str(), df.parse_sql_expr(text)?)),
            None => None,
        };
        let checks = std::iter::once(("when", def.when.as_str(), cond.clone()))
            .chain(raw_value.iter().map(|(t, e)| ("value", *t, e.clone())));
        for (key, text, e) in checks {
            if !find_aggregate_exprs([&e]).is_empty() {
                return Err(bad(
                    key,
                    text,
                    "an aggregate is not allowed: it is evaluated on one row at a time".into(),
                ));
            }
            if !find_window_exprs([&e]).is_empty() {
                return Err(bad(
                    key,
                    text,
                    "a window function is not allowed: it is evaluated on one row at a time".into(),
                ));
            }
            let dt = e
                .get_type(df.schema())
                .map_err(|source| Error::ConversionExpr {
                    name: def.name.clone(),
                    key,
                    expr: text.to_string(),
                    source: Box::new(source),
                })?;
            let ok = match key {
                "when" => matches!(dt, DataType::Boolean | DataType::Null),
                _ => dt.is_numeric() || dt == DataType::Null,
            };
            if !ok {
                let want = if key == "when" {
                    "a boolean condition"
                } else {
                    "a number"
                };
                return Err(bad(key, text, format!("must be {want}, not {dt}")));
            }
        }
        // planning and optimizing checks function arguments and casts
        let planned = df
            .filter(cond)
            .and_then(|df| df.select(vec![value.unwrap_or(lit(ScalarValue::Float64(None)))]))
            .and_then(|df| df.into_optimized_plan());
        if let Err(source) = planned {
            return Err(Error::ConversionExpr {
                name: def.name.clone(),
                key: "when",
                expr: def.when.clone(),
                source: Box::new(source),
            });
        }
    }
    Ok(())
}

/// Which conversion fails on the data when the union of all of them did:
/// each is run alone; the first that fails is named. `None` when none
/// fails alone.
pub async fn failing(
    ctx: &SessionContext,
    scope: Scope,
    base: &str,
    conversions: &[Conversion],
) -> Option<Error> {
    for def in conversions.iter().filter(|c| c.scope == scope) {
        let one = build(ctx, scope, base, std::slice::from_ref(def)).await;
        let result = match one {
            Ok(df) => df.count().await.map(|_| ()).map_err(Error::from),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            return Some(Error::ConversionFailed {
                name: def.name.clone(),
                table: base.to_string(),
                source: Box::new(e),
            });
        }
    }
    None
}

/// Every `scope` conversion's matches in table `base`, in one pass over it
/// (a UNION of one filtered scan per conversion read the table once per
/// conversion): the rows that meet at least one `when` get the list of the
/// conversions they meet (`array_compact` of one `CASE WHEN when_i THEN i`
/// per conversion), which is unnested into one row per hit; its name and
/// value are then picked by that index.
async fn build(
    ctx: &SessionContext,
    scope: Scope,
    base: &str,
    conversions: &[Conversion],
) -> Result<DataFrame> {
    let defs: Vec<&Conversion> = conversions.iter().filter(|c| c.scope == scope).collect();
    if defs.is_empty() {
        return Ok(ctx.read_table(crate::input::empty_table(hits_schema())?)?);
    }
    let df = ctx.table(base).await?;
    let mut any: Option<Expr> = None;
    let mut tags = Vec::with_capacity(defs.len());
    let mut names = Vec::with_capacity(defs.len());
    let mut values = Vec::with_capacity(defs.len());
    for (i, def) in defs.iter().enumerate() {
        let (cond, value) = super::conversion_exprs(&df, def)?;
        let index = lit(i as i64);
        tags.push(when(cond.clone(), index.clone()).end()?);
        any = Some(match any {
            None => cond,
            Some(a) => a.or(cond),
        });
        // a NaN or infinite value cannot be summed or averaged; the input
        // stage rejects the rows where it can see one (conversions on
        // canonical columns), the rest have no value
        let value = match value {
            Some(v) => when(
                crate::input::flag::not_finite(v.clone()),
                lit(ScalarValue::Float64(None)),
            )
            .otherwise(v)?,
            None => lit(ScalarValue::Float64(None)),
        };
        names.push((index.clone(), lit(def.name.clone())));
        values.push((index, value));
    }
    // CASE _hit WHEN 0 THEN x0 WHEN 1 THEN x1 ... ELSE x_last END: the
    // index is always one of them, and with an ELSE a name is not NULL
    let by_hit = |mut pairs: Vec<(Expr, Expr)>| -> Expr {
        let last = pairs.pop().map(|(_, x)| Box::new(x));
        if pairs.is_empty() {
            // one conversion: its value, no CASE (which needs a WHEN)
            return last.map_or(lit(ScalarValue::Null), |x| *x);
        }
        Expr::Case(datafusion::logical_expr::Case::new(
            Some(Box::new(col(HIT))),
            pairs
                .into_iter()
                .map(|(w, t)| (Box::new(w), Box::new(t)))
                .collect(),
            last,
        ))
    };
    let (event_id, time): (Expr, Expr) = match scope {
        Scope::Event => (col("event_id"), col("event_time")),
        Scope::Session => (lit(ScalarValue::Utf8(None)), col("session_start")),
    };
    let any = any.unwrap_or(lit(false));
    let hits = df
        .filter(any)?
        .with_column(
            HIT,
            datafusion::functions_nested::expr_fn::array_compact(
                datafusion::functions_nested::expr_fn::make_array(tags),
            ),
        )?
        .unnest_columns(&[HIT])?
        .select(vec![
            event_id.alias("event_id"),
            col("user_id"),
            col("session_id"),
            cast(time, timestamp_type()).alias("event_time"),
            by_hit(names).alias("conversion"),
            cast(by_hit(values), DataType::Float64).alias("value"),
        ])?;
    Ok(hits)
}

/// The column holding the index of the conversion a row is a hit of.
const HIT: &str = "_hit";
