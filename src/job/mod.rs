//! One run of microconv, in the order a run happens:
//!
//! 1. [`Job::new`]: build the engine's session, load the catalog (reference
//!    data such as a cost file) and plan the DAG. Bad config, a bad query
//!    file, a cycle or an unknown table fail here, before any data is read.
//! 2. [`Job::prepare`]: map and flag the input, fix the as-of date, register
//!    the reference tables and parameters, and keep `events` and
//!    `rejected_events` in a [`Store`].
//! 3. [`Job::run`]: run every node into the store, a node once the tables
//!    it reads are done, up to `[engine] parallel_tables` at a time.
//!
//! Publishing (a staging folder, then one atomic switch) is the `run`
//! command's business (`nightly`); `validate`, `sql` and the tests use the
//! same three steps with other stores.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::catalog::TableProvider;
use datafusion::error::DataFusionError;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{DataFrame, SessionContext};
use datafusion::scalar::ScalarValue;

use crate::builtin;
use crate::catalog::{self, Catalog, InputParams, Params};
use crate::config::Settings;
use crate::dag::{self, query_file, Node, NodeKind};
use crate::engine;
use crate::error::{Error, Result};
use crate::input::{self, InputCounts, InputFile, AFTER_AS_OF, FLAGGED};
use crate::peak_rss;
use crate::schema::UTC;
use crate::sink::{self, Store};

pub mod nightly;
pub mod progress;
mod schedule;

/// Tables that exist before any query runs.
pub fn source_tables() -> BTreeSet<String> {
    catalog::REFERENCE_TABLES
        .iter()
        .chain(&["events", "rejected_events", AFTER_AS_OF])
        .map(|t| t.to_string())
        .collect()
}

/// A planned run: settings, the session it runs in, its reference data and
/// its nodes in run order.
pub struct Job {
    settings: Settings,
    /// The session the run's plans go to (`engine.ctx`), and whatever keeps
    /// it running (an in-process Ballista cluster).
    engine: engine::Engine,
    catalog: Catalog,
    nodes: Vec<Node>,
    /// The run's clock: events later than this plus `[input]
    /// future_margin` are rejected.
    now: DateTime<Utc>,
    observer: Arc<dyn progress::Observer>,
}

/// What the input stage found.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub as_of: NaiveDate,
    pub counts: InputCounts,
    pub params: Params,
    pub rejected_rows: u64,
    pub event_rows: u64,
    pub rejected_schema: datafusion::arrow::datatypes::Schema,
    /// Wall time and peak RSS of the input stage.
    pub seconds: f64,
    pub peak_rss_bytes: Option<u64>,
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

/// A query that ran out of memory in a hash join's build side: DataFusion's
/// hash join cannot spill, its sort-merge join can. Says so, and how to
/// choose it, in front of DataFusion's error.
fn with_memory_hint(err: DataFusionError) -> DataFusionError {
    let text = err.to_string();
    if text.contains("Resources exhausted") && text.contains("HashJoinInput") {
        DataFusionError::Context(
            "a hash join of the query needs more memory than the memory limit leaves it \
             (a hash join cannot spill to disk); with [datafusion] \
             \"optimizer.prefer_hash_join\" = \"false\" joins sort and merge instead, \
             which spill (slower, same results)"
                .into(),
            Box::new(err),
        )
    } else {
        err
    }
}

/// User SQL may only read.
fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

impl Job {
    /// Plan a run of `settings`, keeping only the nodes `select` needs
    /// (all when empty).
    pub fn new(settings: Settings, select: &[String]) -> Result<Job> {
        let engine = engine::start(&settings)?;
        let ctx = &engine.ctx;
        let catalog = Catalog::load(&settings)?;
        let kept: Vec<String> = settings.input.keep.iter().map(|(n, _)| n.clone()).collect();
        builtin::conversion_hits::check(ctx, &settings.conversions, &kept)?;
        let queries = query_file::load(&settings.query_dirs)?;
        let table_functions: BTreeSet<String> =
            ctx.state().table_functions().keys().cloned().collect();
        let nodes = dag::plan(queries, builtin::all(), &source_tables(), &table_functions)?;
        let nodes = dag::select(nodes, select)?;
        Ok(Job {
            settings,
            engine,
            catalog,
            nodes,
            now: Utc::now(),
            observer: Arc::new(progress::Silent),
        })
    }

    /// Set the run's clock (by default the time the job was planned).
    pub fn with_now(mut self, now: DateTime<Utc>) -> Job {
        self.now = now;
        self
    }

    /// Tell `observer` of every table as it starts and ends.
    pub fn with_observer(mut self, observer: Arc<dyn progress::Observer>) -> Job {
        self.observer = observer;
        self
    }

    pub fn observer(&self) -> &dyn progress::Observer {
        self.observer.as_ref()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The session every step runs in (tables and functions registered).
    pub fn context(&self) -> &SessionContext {
        &self.engine.ctx
    }

    /// The nodes in run order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Read and map the input files (footers are read here, so an
    /// unreadable file is named before anything runs).
    pub async fn read(&self, files: &[InputFile]) -> Result<DataFrame> {
        input::read_files(&self.engine.ctx, files, &self.settings).await
    }

    /// [`Job::read`] and [`Job::prepare`]; a read error that names no file
    /// (a corrupt page) is traced to the first file that cannot be read.
    pub async fn prepare_files(&self, files: &[InputFile], store: &dyn Store) -> Result<Prepared> {
        let mapped = self.read(files).await?;
        match self.prepare(mapped, store).await {
            Err(e @ (Error::DataFusion(_) | Error::Arrow(_))) => {
                Err(input::unreadable_file(files, &self.settings).unwrap_or(e))
            }
            other => other,
        }
    }

    /// Flag the mapped input, fix the as-of date, register the reference
    /// tables and parameters, and keep `events` (internal), the good rows
    /// after the as-of day (internal) and `rejected_events` in `store`.
    ///
    /// One pass: the flagged rows stream into those three tables and the
    /// counts by reason at once (see [`input::tee`]), never written whole.
    pub async fn prepare(&self, mapped: DataFrame, store: &dyn Store) -> Result<Prepared> {
        let started = Instant::now();
        let stage = peak_rss::Stage::start();
        let ctx = &self.engine.ctx;
        let input_params = InputParams::new(&self.settings, self.now);
        let flagged = input::flag::flag_rows(
            ctx,
            mapped,
            &self.settings.channel_rules,
            &self.settings.conversions,
            &input_params,
        )
        .await?;
        let flagged_plan = flagged.logical_plan().clone();
        // NULL without --as-of: the as-of day is then the latest event's,
        // so every good row is before its end
        let end = ScalarValue::TimestampMicrosecond(
            self.settings.as_of.map(catalog::params::as_of_end_us),
            Some(UTC.into()),
        );
        // each consumer query is planned on its own copy of `_input`: one
        // side of a tee, or (for a store that only keeps views) the same view
        // (a tee lives in this process: plans shipped to Ballista executors
        // read the view)
        let tee = store.consumes() && !engine::is_distributed(ctx);
        let (tables, producer): ([Arc<dyn TableProvider>; 4], _) = if tee {
            let (tables, producer) = input::tee::tee::<4>(flagged).await?;
            (tables.map(|t| t as Arc<dyn TableProvider>), Some(producer))
        } else {
            let view = flagged.into_view();
            (std::array::from_fn(|_| Arc::clone(&view)), None)
        };
        let [events, rejected, after, counts] = tables;
        self.read_input_as(events)?;
        let stitch = self.settings.input.identity.stitch;
        let events = input::flag::events(ctx, end.clone(), stitch).await?;
        self.read_input_as(rejected)?;
        let rejected = sink::types::published(input::flag::rejected(ctx).await?)?;
        self.read_input_as(after)?;
        let after = input::flag::after_as_of(ctx, end.clone(), stitch).await?;
        self.read_input_as(counts)?;
        let counts = input::flag::count(ctx, end).await?;
        ctx.deregister_table(FLAGGED)?;
        let rejected_schema = rejected.schema().as_arrow().clone();
        let (event_rows, rejected_rows, counts) = match producer {
            Some(producer) => {
                let (events, rejected, _, counts, ()) = tokio::try_join!(
                    store.materialize(ctx, "events", events, true),
                    store.materialize(ctx, "rejected_events", rejected, false),
                    store.materialize(ctx, AFTER_AS_OF, after, true),
                    input::flag::read_counts(counts),
                    producer.run(),
                )?;
                (events, rejected, counts)
            }
            None => {
                let explain = |e| engine::explain_rejection(ctx, &flagged_plan, e);
                let events = store
                    .materialize(ctx, "events", events, true)
                    .await
                    .map_err(explain)?;
                let rejected = store
                    .materialize(ctx, "rejected_events", rejected, false)
                    .await
                    .map_err(explain)?;
                store
                    .materialize(ctx, AFTER_AS_OF, after, true)
                    .await
                    .map_err(explain)?;
                let counts = input::flag::read_counts(counts).await.map_err(explain)?;
                (events, rejected, counts)
            }
        };
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "input read, mapped, flagged and split"
        );
        let Some(max_us) = counts.max_event_time_us else {
            return Err(Error::NoEvents);
        };
        // an --as-of before every event leaves nothing to analyse, like an
        // empty input
        if counts.valid == counts.after_as_of {
            return Err(Error::NoEvents);
        }
        let as_of = match self.settings.as_of {
            Some(d) => d,
            None => DateTime::from_timestamp_micros(max_us)
                .ok_or(Error::NoEvents)?
                .date_naive(),
        };
        let params = Params::new(&self.settings, as_of);
        self.catalog.register(ctx, &self.settings, &params)?;
        Ok(Prepared {
            as_of,
            counts,
            params,
            rejected_rows,
            event_rows,
            rejected_schema,
            seconds: started.elapsed().as_secs_f64(),
            peak_rss_bytes: stage.peak(),
        })
    }

    /// Register `table` as the flagged input the next query plans on.
    fn read_input_as(&self, table: Arc<dyn TableProvider>) -> Result<()> {
        self.engine.ctx.deregister_table(FLAGGED)?;
        self.engine.ctx.register_table(FLAGGED, table)?;
        Ok(())
    }

    /// Run every node into `store`, up to `[engine] parallel_tables` at a
    /// time (see [`schedule`]): a node starts once every table it reads is
    /// done. The results come in run order. The first failure ends the run
    /// (the tables still running are dropped with their writers).
    pub async fn run(&self, prepared: &Prepared, store: &dyn Store) -> Result<Vec<NodeResult>> {
        let nodes = &self.nodes;
        let position: HashMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.as_str(), i))
            .collect();
        // the nodes each node waits for (sources are there from the start)
        let waits: Vec<Vec<usize>> = nodes
            .iter()
            .map(|n| {
                n.reads
                    .iter()
                    .filter_map(|t| position.get(t.as_str()).copied())
                    .collect()
            })
            .collect();
        schedule::in_dag_order(&waits, self.settings.parallel_tables, |i| async move {
            let node = &nodes[i];
            self.observer.table_started(i, &node.name);
            let result = self.run_node(node, &prepared.params, store).await?;
            self.observer.table_done(i, &result, node.internal());
            Ok(result)
        })
        .await
    }

    /// The plan of one node's table.
    async fn frame(&self, node: &Node, params: &Params) -> Result<DataFrame> {
        match &node.kind {
            NodeKind::Sql(q) => {
                let df = self
                    .engine
                    .ctx
                    .sql_with_options(&q.sql, read_only())
                    .await?;
                Ok(df.with_param_values(params.to_values())?)
            }
            NodeKind::Builtin(b) => b.build(&self.engine.ctx, &self.settings, params).await,
        }
    }

    /// Run one node and keep its result in `store`.
    async fn run_node(
        &self,
        node: &Node,
        params: &Params,
        store: &dyn Store,
    ) -> Result<NodeResult> {
        let started = Instant::now();
        let stage = peak_rss::Stage::start();
        let failed = |e: Error| match e {
            Error::DataFusion(source) => Error::QueryFailed {
                name: node.name.clone(),
                path: node.path().to_string(),
                source: Box::new(with_memory_hint(source)),
            },
            other => other,
        };
        let mut df = self.frame(node, params).await.map_err(failed)?;
        if !node.internal() {
            df = sink::types::published(df).map_err(failed)?;
        }
        let schema = df.schema().as_arrow().clone();
        let plan = df.logical_plan().clone();
        let rows = match store
            .materialize(&self.engine.ctx, &node.name, df, node.internal())
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                let e = engine::explain_rejection(&self.engine.ctx, &plan, e);
                return Err(match &node.kind {
                    NodeKind::Builtin(b) => b.explain(&self.engine.ctx, &self.settings, e).await,
                    NodeKind::Sql(_) => failed(e),
                });
            }
        };
        tracing::info!(table = %node.name, rows, "done");
        Ok(NodeResult {
            name: node.name.clone(),
            rows,
            seconds: started.elapsed().as_secs_f64(),
            schema,
            peak_rss_bytes: stage.peak(),
        })
    }

    /// Run an ad-hoc, read-only query in the job's session.
    pub async fn query(&self, sql: &str) -> Result<DataFrame> {
        Ok(self.engine.ctx.sql_with_options(sql, read_only()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two 2M-row sides joined on equal keys under a 16 MiB limit: the hash
    /// join's build side does not fit and the error says what to set; with
    /// that setting the join sorts, spills and counts every pair.
    #[tokio::test]
    async fn a_hash_join_out_of_memory_names_the_sort_merge_setting() {
        let sql = "SELECT count(*) AS n FROM generate_series(1, 2000000) a \
                   JOIN generate_series(1, 2000000) b ON a.value = b.value";
        let settings = |extra: &str| {
            let toml = format!(
                "[engine]\nmemory_limit = \"16MiB\"\n[datafusion]\n\
                 \"execution.target_partitions\" = \"2\"\n{extra}"
            );
            engine::session(&Settings::from_toml(&toml).unwrap()).unwrap()
        };
        let ctx = settings("");
        let err = ctx.sql(sql).await.unwrap().collect().await.unwrap_err();
        let text = with_memory_hint(err).to_string();
        assert!(text.contains("HashJoinInput"), "{text}");
        assert!(
            text.contains("\"optimizer.prefer_hash_join\" = \"false\""),
            "{text}"
        );

        let ctx = settings("\"optimizer.prefer_hash_join\" = \"false\"\n");
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let n = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Int64Array>()
            .unwrap()
            .value(0);
        assert_eq!(n, 2_000_000);
    }

    #[test]
    fn other_errors_are_left_as_they_are() {
        let err = DataFusionError::ResourcesExhausted("ExternalSorter".into());
        assert_eq!(
            with_memory_hint(err).to_string(),
            "Resources exhausted: ExternalSorter"
        );
    }
}
