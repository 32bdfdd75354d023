//! Builtin tables: DAG nodes computed in Rust from the config (the
//! conversion conditions are SQL expressions from the config, evaluated as
//! parsed expressions rather than pasted into query text). Each declares the
//! tables it reads, so the DAG orders it like any query.

pub mod clv_activity_after_as_of;
pub mod conversion_hits;

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{cast, Expr};
use datafusion::prelude::{DataFrame, SessionContext};

use crate::catalog::Params;
use crate::config::sections::conversions::Conversion;
use crate::config::Settings;
use crate::error::{Error, Result};

/// A table built in Rust.
#[async_trait]
pub trait Builtin: std::fmt::Debug + Send + Sync {
    /// The table's name.
    fn name(&self) -> &'static str;
    /// What one row is and what the table is for.
    fn description(&self) -> &'static str;
    /// Every table it reads (inputs or other nodes).
    fn reads(&self) -> &'static [&'static str];
    /// The plan of the table; executed and kept by the job's store.
    async fn build(
        &self,
        ctx: &SessionContext,
        settings: &Settings,
        params: &Params,
    ) -> Result<DataFrame>;
    /// A better error than `err`, which running the table gave (naming
    /// the part of the config that failed); by default `err` itself.
    async fn explain(&self, _ctx: &SessionContext, _settings: &Settings, err: Error) -> Error {
        err
    }
}

/// Every builtin table.
pub fn all() -> Vec<Arc<dyn Builtin>> {
    vec![
        Arc::new(conversion_hits::EVENT_HITS),
        Arc::new(conversion_hits::SESSION_HITS),
        Arc::new(clv_activity_after_as_of::ClvActivityAfterAsOf),
    ]
}

/// A conversion's `when` condition and its `value` (as a double, when it
/// has one), parsed against the columns of `df`; errors name the conversion.
pub(crate) fn conversion_exprs(df: &DataFrame, def: &Conversion) -> Result<(Expr, Option<Expr>)> {
    let parse = |key: &'static str, text: &str| {
        df.parse_sql_expr(text).map_err(|e| Error::ConversionExpr {
            name: def.name.clone(),
            key,
            expr: text.to_string(),
            source: Box::new(e),
        })
    };
    let cond = parse("when", &def.when)?;
    let value = match &def.value {
        Some(v) => Some(cast(parse("value", v)?, DataType::Float64)),
        None => None,
    };
    Ok((cond, value))
}
