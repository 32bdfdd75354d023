//! The engine seam: where a job's queries execute. Every engine starts from
//! the same local session state: runtime (memory pool, spill directory),
//! DataFusion options (defaults, then the config's `[datafusion]` table),
//! and every microconv function ([`session`]). [`start`] then either keeps
//! it (`[engine] mode = "local"`) or hands it to Ballista (`standalone`, a
//! scheduler and an executor inside this process; `cluster`, a remote
//! scheduler), which plans each query here, ships the logical plan to the
//! scheduler and streams the result back (see [`ballista`]).
//!
//! What changes for a distributed session is marked on its config
//! ([`is_distributed`]): a plan shipped to executors may only reference
//! what they can rebuild from the plan itself, so reference tables are
//! registered as `VALUES` plans instead of in-memory tables
//! (`catalog::tables`) and the input stage plans its tables on a view of
//! the input instead of an in-process tee (`Job::prepare`).

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, LogicalPlan};

use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::windows::WindowAggExec;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::config::sections::engine::EngineMode;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::functions;

#[cfg(feature = "ballista")]
pub mod ballista;

/// A running engine: the session every query is planned in, and whatever
/// keeps the engine behind it alive (an in-process Ballista cluster).
pub struct Engine {
    pub ctx: SessionContext,
    _keep: Option<Box<dyn std::any::Any + Send + Sync>>,
}

/// `[datafusion]` keys with this prefix are Ballista's options
/// (`"ballista.job.name"`...), set on a Ballista session only.
pub const BALLISTA_PREFIX: &str = "ballista.";

/// Marks a session config whose plans run on Ballista.
#[derive(Debug)]
pub struct Distributed;

/// Whether `ctx`'s plans are shipped to Ballista executors.
pub fn is_distributed(ctx: &SessionContext) -> bool {
    ctx.state()
        .config()
        .get_extension::<Distributed>()
        .is_some()
}

/// How Ballista's scheduler reports a job whose tasks an executor could not
/// decode (in 55.0 the executor's reason stays in its own log).
const REJECTED: &str = "task could not be prepared or was rejected by executor";

/// `err` from running `plan`, with its likely cause when Ballista's
/// executors rejected the tasks: an executor that is not `microconv
/// executor` (a stock Ballista one) does not know the microconv functions
/// the plan calls, named here.
pub fn explain_rejection(ctx: &SessionContext, plan: &LogicalPlan, err: Error) -> Error {
    let text = crate::error::report(&err);
    if !is_distributed(ctx) || !text.contains(REJECTED) {
        return err;
    }
    let calls = own_functions_in(plan);
    let calls = if calls.is_empty() {
        String::new()
    } else {
        format!(
            "; the query calls microconv's {}",
            calls.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    Error::Engine {
        what: "executors".into(),
        message: format!(
            "{text}{calls}: every executor must be `microconv executor`, a stock \
             Ballista executor does not know microconv's functions (its log names \
             what it could not decode)"
        ),
    }
}

/// The microconv functions (not DataFusion's own) that `plan` calls.
pub fn own_functions_in(plan: &LogicalPlan) -> BTreeSet<String> {
    let ours = SessionContext::new();
    functions::register_all(&ours);
    let (ours, stock) = (ours.state(), SessionContext::new().state());
    let own = |name: &str| {
        let known = |s: &datafusion::execution::SessionState| {
            s.scalar_functions().contains_key(name)
                || s.aggregate_functions().contains_key(name)
                || s.window_functions().contains_key(name)
        };
        known(&ours) && !known(&stock)
    };
    let mut found = BTreeSet::new();
    collect_calls(plan, &own, &mut found);
    found
}

/// Adds the names of the functions `plan` calls that `own` accepts to
/// `found`, looking inside subqueries and the views it scans (a view's
/// plan travels with the query's to the executors).
fn collect_calls(plan: &LogicalPlan, own: &dyn Fn(&str) -> bool, found: &mut BTreeSet<String>) {
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            if let Some(view) = scan.source.get_logical_plan() {
                collect_calls(&view, own, found);
            }
        }
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                let name = match e {
                    Expr::ScalarFunction(f) => Some(f.name()),
                    Expr::AggregateFunction(f) => Some(f.func.name()),
                    Expr::WindowFunction(w) => Some(w.fun.name()),
                    _ => None,
                };
                if let Some(name) = name.filter(|n| own(n)) {
                    found.insert(name.to_string());
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    });
}

/// Start the engine `settings.engine` names.
pub fn start(settings: &Settings) -> Result<Engine> {
    match &settings.engine {
        EngineMode::Local => Ok(Engine {
            ctx: session(settings)?,
            _keep: None,
        }),
        #[cfg(feature = "ballista")]
        mode => {
            let state = ballista::client_state(session(settings)?.state(), settings)?;
            let (ctx, keep) = ballista::connect(mode, state)?;
            functions::register_all(&ctx);
            Ok(Engine { ctx, _keep: keep })
        }
        #[cfg(not(feature = "ballista"))]
        other => Err(Error::setting(
            "engine",
            format!("`{}` needs the `ballista` feature", other.describe()),
        )),
    }
}

/// Spill files merged in one pass of a spilled sort under a memory limit
/// of `limit` bytes (see `session`).
fn merge_fan_in(limit: usize) -> usize {
    const MERGE_BYTES_PER_RUN: usize = 128 << 20;
    (limit / MERGE_BYTES_PER_RUN).max(16)
}

/// How many windows of a physical plan hold all of their input in memory:
/// DataFusion computes a window over whole partitions (an `OVER` without
/// `ORDER BY`, or a frame that ends `UNBOUNDED FOLLOWING`) in a
/// `WindowAggExec`, which reads its whole input before it returns a row and
/// counts none of it against the memory limit. A running window (the
/// frame ends at the current row or before) streams over its sort
/// instead, and a sort spills. A table whose plan has one gets a warning
/// that says so, unless it is one of [`SMALL_WHOLE_INPUT_WINDOWS`] (a test
/// runs the bundled job and checks that nothing else warns).
pub fn whole_input_windows(plan: &Arc<dyn ExecutionPlan>) -> usize {
    let here = usize::from(plan.is::<WindowAggExec>());
    here + plan
        .children()
        .into_iter()
        .map(whole_input_windows)
        .sum::<usize>()
}

/// The bundled tables whose queries have windows over whole partitions,
/// with why their input stays small. Any other table's would be a defect:
/// it holds a large input in memory, uncounted.
pub const SMALL_WHOLE_INPUT_WINDOWS: [(&str, &str); 7] = [
    (
        "path_edges",
        "shares of each node's transitions: one row per pair of nodes",
    ),
    (
        "friction_points",
        "counts of the tests of each funnel: one row per funnel step",
    ),
    (
        "experiments",
        "Benjamini-Hochberg q-values over an experiment's tests: one row per variant and metric",
    ),
    (
        "micro_conversion_lift",
        "Benjamini-Hochberg q-values over the micro conversions: one row each",
    ),
    (
        "micro_conversion_lift_by_segment",
        "Benjamini-Hochberg q-values: one row per micro conversion and segment",
    ),
    (
        "clv_rfm",
        "percent ranks over customers (buyers): one row per customer, after an aggregation",
    ),
    (
        "clv_predictions",
        "a percent rank over customers (buyers): one row per customer",
    ),
];

/// DataFusion's memory pool under a memory limit of `limit` bytes: the
/// limit is the process's, and an eighth of it is kept for the memory the
/// pool does not see (Parquet pages being decoded and row groups being
/// encoded, the allocator's free lists, the binary itself). At 100M events
/// under 2 GiB that part was 1.2 GB before the allocator handed freed
/// memory back (`peak_rss::hand_back_freed_memory`); at 10M under 256 MiB
/// it is about 190 MB since.
fn pool_size(limit: usize) -> usize {
    limit - limit / 8
}

/// The local session a job runs in (every engine starts from it).
pub fn session(settings: &Settings) -> Result<SessionContext> {
    let mut config = SessionConfig::new()
        .with_information_schema(true)
        .with_create_default_catalog_and_schema(true);
    let options = config.options_mut();
    options.execution.parquet.compression = Some(format!("zstd({})", settings.output.zstd_level));
    options.execution.parquet.max_row_group_size = settings.output.max_row_group_size;
    options.execution.parquet.statistics_enabled = Some("page".into());
    // Strings come back as plain Utf8 so output schemas are stable and
    // readable by every Parquet reader.
    options.execution.parquet.schema_force_view_types = false;
    options.sql_parser.map_string_types_to_utf8view = false;
    // Rows hash-partitioned by a bucket (of users, of sessions) stay where
    // they are for any later step keyed by that bucket and more: an
    // aggregate GROUP BY bucket, session_id, ... then runs in the
    // partitions the window ran in, on rows still in order, instead of
    // being repartitioned by all its keys. DataFusion does this only from
    // 4 partitions up by default; the plans partitioned by bucket (see
    // queries/journeys/path_edges.sql) want it at any count.
    options.optimizer.subset_repartition_threshold = 1;
    for (key, value) in &settings.datafusion {
        // Ballista's own options apply to a Ballista session only
        if key.starts_with(BALLISTA_PREFIX) {
            continue;
        }
        // keys may be written with or without the `datafusion.` prefix
        let full = if key.starts_with("datafusion.") {
            key.clone()
        } else {
            format!("datafusion.{key}")
        };
        options
            .set(&full, value)
            .map_err(|e| Error::setting(format!("datafusion.\"{key}\""), e.to_string()))?;
    }

    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = settings.memory_limit {
        let pool = TrackConsumersPool::new(
            FairSpillPool::new(pool_size(limit)),
            std::num::NonZeroUsize::new(5).expect("5 is non-zero"),
        );
        runtime = runtime.with_memory_pool(Arc::new(pool));
    }
    if let Some(dir) = &settings.spill_dir {
        runtime = runtime.with_disk_manager_builder(
            DiskManagerBuilder::default()
                .with_mode(DiskManagerMode::Directories(vec![dir.clone()])),
        );
    }
    if let Some(limit) = settings.memory_limit {
        // DataFusion merges a spilled sort's runs in as few passes as its
        // memory allows (fan-in unlimited by default): the first sort to
        // merge takes most of the pool for its read buffers, and another
        // sort of the same plan (a sort-merge join sorts both sides at
        // once) then cannot reserve its first 10 MB and fails. A fan-in of
        // one run per MERGE_BYTES_PER_RUN of the limit (16 at 2 GiB, at
        // least 16) leaves the pool to be shared, for a pass more over the
        // spill files of a sort of more runs.
        runtime = runtime.with_max_spill_merge_fan_in(merge_fan_in(limit));
    }
    let runtime = runtime.build_arc()?;
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .build();
    let ctx = SessionContext::new_with_state(state);
    functions::register_all(&ctx);
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datafusion_options_pass_through_with_or_without_prefix() {
        let s = Settings::from_toml("[datafusion]\n\"execution.target_partitions\" = \"3\"\n\"datafusion.execution.batch_size\" = 1000\n").unwrap();
        let ctx = session(&s).unwrap();
        assert_eq!(ctx.state().config().target_partitions(), 3);
        assert_eq!(ctx.state().config().batch_size(), 1000);
    }

    #[tokio::test]
    async fn own_functions_are_found_inside_views_and_subqueries() {
        let ctx = session(&Settings::from_toml("").unwrap()).unwrap();
        ctx.sql("CREATE VIEW v AS SELECT hash_bucket(x) AS b FROM (VALUES ('a')) t(x)")
            .await
            .unwrap();
        let plan = |sql: &'static str| {
            let ctx = ctx.clone();
            async move { ctx.sql(sql).await.unwrap().logical_plan().clone() }
        };
        // only in the view
        let found = own_functions_in(&plan("SELECT upper(CAST(b AS VARCHAR)) FROM v").await);
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["hash_bucket"]);
        // only in a subquery
        let found =
            own_functions_in(&plan("SELECT 1 WHERE EXISTS (SELECT hash_bucket('x'))").await);
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["hash_bucket"]);
        // DataFusion's own functions are not microconv's
        assert!(own_functions_in(&plan("SELECT upper('x')").await).is_empty());
    }

    #[tokio::test]
    async fn windows_over_whole_partitions_are_found_and_running_ones_are_not() {
        let ctx = session(&Settings::from_toml("").unwrap()).unwrap();
        let count = |sql: String| {
            let ctx = ctx.clone();
            async move {
                let plan = ctx
                    .sql(&sql)
                    .await
                    .unwrap()
                    .create_physical_plan()
                    .await
                    .unwrap();
                whole_input_windows(&plan)
            }
        };
        let t = "(SELECT value % 7 AS k, value AS v FROM generate_series(1, 100) t(value))";
        // no ORDER BY: the whole partition
        let sql = format!("SELECT COUNT(*) OVER (PARTITION BY k) FROM {t}");
        assert_eq!(count(sql).await, 1);
        // a frame to UNBOUNDED FOLLOWING, and one in a subquery beside a running one
        let sql = format!(
            "SELECT SUM(v) OVER (PARTITION BY k ORDER BY v ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING), \
             (SELECT MAX(n) FROM (SELECT MIN(v) OVER (PARTITION BY k) AS n FROM {t})) FROM {t}"
        );
        assert_eq!(count(sql).await, 2);
        // running windows stream
        let sql = format!(
            "SELECT ROW_NUMBER() OVER (PARTITION BY k ORDER BY v), \
             SUM(v) OVER (PARTITION BY k ORDER BY v ROWS UNBOUNDED PRECEDING) FROM {t}"
        );
        assert_eq!(count(sql).await, 0);
    }

    #[test]
    fn the_pool_keeps_an_eighth_of_the_limit_for_the_rest_of_the_process() {
        assert_eq!(pool_size(2 << 30), 1792 << 20);
        assert_eq!(pool_size(16 << 20), 14 << 20);
    }

    #[test]
    fn merge_fan_in_grows_with_the_memory_limit_from_16() {
        assert_eq!(merge_fan_in(500 << 20), 16);
        assert_eq!(merge_fan_in(2 << 30), 16);
        assert_eq!(merge_fan_in(8 << 30), 64);
    }

    #[test]
    fn unknown_datafusion_option_names_the_key() {
        let s = Settings::from_toml("[datafusion]\n\"execution.nope\" = \"1\"\n").unwrap();
        let Err(err) = session(&s) else {
            panic!("expected an error")
        };
        assert!(err.to_string().contains("execution.nope"), "{err}");
        assert_eq!(err.exit_code(), 2);
    }
}
