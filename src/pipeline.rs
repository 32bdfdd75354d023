//! The steps of a run that do not depend on where results are kept: map
//! and flag the input, register reference tables and parameters, and run
//! each DAG node. `run` (Parquet staging) and the SQL tests (memory) share it.

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::{DateTime, NaiveDate};
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{DataFrame, SessionContext};
use datafusion::scalar::ScalarValue;

use crate::catalog;
use crate::builtin::clv_activity_after_as_of;
use crate::builtin::conversion_hits;
use crate::dag::{self, Node, NodeKind};
use crate::error::{Error, Result};
use crate::input::{self, InputCounts};
use crate::dag::query_file;
use crate::config::settings::Settings;
use crate::sink::Store;

/// The internal table holding every input row with its reject reason.
pub const FLAGGED: &str = "_input";

/// Tables that exist before any query runs.
pub fn source_tables() -> BTreeSet<String> {
    let mut s: BTreeSet<String> = catalog::REFERENCE_TABLES
        .iter()
        .map(|t| t.to_string())
        .collect();
    s.insert("events".into());
    s.insert("rejected_events".into());
    s
}

/// Load the queries and plan the DAG (bundled + user + builtin nodes).
pub fn plan(ctx: &SessionContext, settings: &Settings, select: &[String]) -> Result<Vec<Node>> {
    let queries = query_file::load(&settings.query_dirs)?;
    let table_functions: BTreeSet<String> = ctx.state().table_functions().keys().cloned().collect();
    let builtins = conversion_hits::builtin_nodes()
        .into_iter()
        .chain(clv_activity_after_as_of::builtin_nodes())
        .collect();
    let nodes = dag::plan(queries, builtins, &source_tables(), &table_functions)?;
    dag::select(nodes, select)
}

/// What the input stage found.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub as_of: NaiveDate,
    pub counts: InputCounts,
    pub params: Vec<(String, ScalarValue)>,
    pub rejected_rows: u64,
    pub event_rows: u64,
    pub rejected_schema: datafusion::arrow::datatypes::Schema,
    /// Wall time and peak RSS of the input stage.
    pub seconds: f64,
    pub peak_rss_bytes: Option<u64>,
}

/// Flag the mapped input, fix the as-of date, register reference tables,
/// and materialize `events` (internal) and `rejected_events`.
pub async fn prepare(
    ctx: &SessionContext,
    settings: &Settings,
    mapped: DataFrame,
    store: &dyn Store,
) -> Result<Prepared> {
    let started = Instant::now();
    crate::peak_rss::reset_peak();
    let flagged = input::flag_rows(ctx, mapped, settings).await?;
    store.materialize(ctx, FLAGGED, flagged, true).await?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "input read, mapped and flagged"
    );
    let end_us = settings.as_of.map(as_of_end_us);
    let counts = input::count(ctx, FLAGGED, end_us).await?;
    let Some(max_us) = counts.max_event_time_us else {
        return Err(Error::NoEvents);
    };
    let as_of = match settings.as_of {
        Some(d) => d,
        None => DateTime::from_timestamp_micros(max_us)
            .ok_or(Error::NoEvents)?
            .date_naive(),
    };
    let params = catalog::params(settings, as_of);
    catalog::register(ctx, settings, &params)?;
    let events = ctx
        .sql(&input::events_sql(FLAGGED))
        .await?
        .with_param_values(params.clone())?;
    let event_rows = store.materialize(ctx, "events", events, true).await?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "events materialized"
    );
    let rejected = ctx.sql(&input::rejected_sql(FLAGGED)).await?;
    let rejected_schema = rejected.schema().as_arrow().clone();
    let rejected_rows = store
        .materialize(ctx, "rejected_events", rejected, false)
        .await?;
    Ok(Prepared {
        as_of,
        counts,
        params,
        rejected_rows,
        event_rows,
        rejected_schema,
        seconds: started.elapsed().as_secs_f64(),
        peak_rss_bytes: crate::peak_rss::peak_bytes(),
    })
}

/// Exclusive end of the as-of day in microseconds since the epoch.
pub fn as_of_end_us(as_of: NaiveDate) -> i64 {
    as_of
        .succ_opt()
        .unwrap_or(as_of)
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp_micros()
}

/// Build the DataFrame of one node.
pub async fn node_frame(
    ctx: &SessionContext,
    node: &Node,
    settings: &Settings,
    params: &[(String, ScalarValue)],
) -> Result<DataFrame> {
    let failed = |e: datafusion::error::DataFusionError| Error::QueryFailed {
        name: node.name.clone(),
        path: node.path().to_string(),
        source: Box::new(e),
    };
    match &node.kind {
        NodeKind::Sql(q) => {
            let options = SQLOptions::new()
                .with_allow_ddl(false)
                .with_allow_dml(false)
                .with_allow_statements(false);
            let df = ctx
                .sql_with_options(&q.sql, options)
                .await
                .map_err(failed)?;
            df.with_param_values(params.to_vec()).map_err(failed)
        }
        NodeKind::Builtin { .. } if node.name == clv_activity_after_as_of::TABLE => {
            clv_activity_after_as_of::build(ctx, settings, params).await
        }
        NodeKind::Builtin { .. } => conversion_hits::build(ctx, &node.name, settings).await,
    }
}

/// One node's result.
#[derive(Debug, Clone)]
pub struct NodeResult {
    pub name: String,
    pub rows: u64,
    pub seconds: f64,
    pub schema: datafusion::arrow::datatypes::Schema,
    pub peak_rss_bytes: Option<u64>,
}

/// Run one node and keep its result in `store`.
pub async fn run_node(
    ctx: &SessionContext,
    node: &Node,
    settings: &Settings,
    params: &[(String, ScalarValue)],
    store: &dyn Store,
) -> Result<NodeResult> {
    let started = Instant::now();
    crate::peak_rss::reset_peak();
    let df = node_frame(ctx, node, settings, params).await?;
    let schema = df.schema().as_arrow().clone();
    let rows = store
        .materialize(ctx, &node.name, df, node.internal())
        .await
        .map_err(|e| match e {
            Error::DataFusion(source) => Error::QueryFailed {
                name: node.name.clone(),
                path: node.path().to_string(),
                source: Box::new(source),
            },
            other => other,
        })?;
    tracing::info!(table = %node.name, rows, "done");
    Ok(NodeResult {
        name: node.name.clone(),
        rows,
        seconds: started.elapsed().as_secs_f64(),
        schema,
        peak_rss_bytes: crate::peak_rss::peak_bytes(),
    })
}
