//! Where query results are kept during a run: in memory (tests, ad-hoc
//! SQL) or as Parquet in the run's staging folder, read back from there by
//! later queries and published from there when the run succeeds.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::properties::{WriterProperties, WriterPropertiesBuilder};
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};
use futures::StreamExt;
use tokio::task::JoinSet;

use crate::error::{Error, Result};

/// Keeps query results as tables for the queries after them.
#[async_trait]
pub trait Store: Send + Sync {
    /// Execute `df`, keep the result as table `name`, return its row count.
    async fn materialize(
        &self,
        ctx: &SessionContext,
        name: &str,
        df: DataFrame,
        internal: bool,
    ) -> Result<u64>;

    /// Whether `materialize` reads its input to the end before it returns.
    /// A store that does not (one that only registers a view) cannot be fed
    /// by a single pass over a shared input (see `input::tee`): the input
    /// stage then plans every table on a view of the input instead.
    fn consumes(&self) -> bool {
        true
    }
}

/// Results in memory (tests, ad-hoc SQL).
pub struct MemoryStore;

#[async_trait]
impl Store for MemoryStore {
    async fn materialize(
        &self,
        ctx: &SessionContext,
        name: &str,
        df: DataFrame,
        _internal: bool,
    ) -> Result<u64> {
        // the physical schema, which can differ from the logical one in
        // nullability, is the one the batches carry
        let task_ctx = Arc::new(df.task_ctx());
        let plan = df.create_physical_plan().await?;
        let schema = plan.schema();
        let batches = datafusion::physical_plan::collect(plan, task_ctx).await?;
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        let table = MemTable::try_new(schema, vec![batches])?;
        ctx.deregister_table(name)?;
        ctx.register_table(name, Arc::new(table))?;
        Ok(rows)
    }
}

/// The Parquet footer key (key-value metadata) naming the run that wrote a
/// file, so a reader can check a file against `latest.json`'s `run_id`.
pub const RUN_ID_KEY: &str = "microconv.run_id";

/// Results as Parquet under a staging directory, `<out>/.staging/<run_id>`
/// (see [`super::Staging`]): the folder's name is written into each file's
/// footer as [`RUN_ID_KEY`].
pub struct ParquetStore {
    pub staging: PathBuf,
}

impl ParquetStore {
    /// Where table `name` is staged.
    pub fn table_dir(&self, name: &str, internal: bool) -> PathBuf {
        if internal {
            self.staging.join("_internal").join(name)
        } else {
            self.staging.join(name)
        }
    }
}

#[async_trait]
impl Store for ParquetStore {
    async fn materialize(
        &self,
        ctx: &SessionContext,
        name: &str,
        df: DataFrame,
        internal: bool,
    ) -> Result<u64> {
        let dir = self.table_dir(name, internal);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let run_id = self
            .staging
            .file_name()
            .map(|id| id.to_string_lossy().into_owned());
        let props = writer_properties(ctx, run_id, internal)?;
        let max_row_group_size = props.max_row_group_row_count().unwrap_or(usize::MAX);
        // files carry the schema of the optimized logical plan, as
        // DataFusion's own writer does (its nullability is the documented
        // one; the physical plan's can be stricter)
        // (optimized once: DataFrame::create_physical_plan would again)
        let task_ctx = Arc::new(df.task_ctx());
        let (state, logical) = df.into_parts();
        let optimized = state.optimize(&logical)?;
        let schema: SchemaRef = Arc::new(optimized.schema().as_arrow().clone());
        let plan = state
            .query_planner()
            .create_physical_plan(&optimized, &state)
            .await?;
        let windows = crate::engine::whole_input_windows(&plan);
        let small = crate::engine::SMALL_WHOLE_INPUT_WINDOWS
            .iter()
            .any(|(table, _)| *table == name);
        if windows > 0 && !small {
            tracing::warn!(
                table = name,
                "`{name}`: {windows} window(s) over whole partitions (OVER without ORDER BY, \
                 or a frame to UNBOUNDED FOLLOWING) hold all of their input in memory, \
                 outside the memory limit; a running window (frame ending at the current \
                 row) or an aggregation streams"
            );
        }

        // every output partition of the plan streams into its own file, in
        // parallel (one task each). A partition keeps its first rows in
        // memory and opens its file only once they pass its share of one
        // row group (or SMALL_BYTES): a small table is then written once, as
        // one file, instead of being written in parts and merged.
        let partitions = plan.output_partitioning().partition_count();
        let small = Small {
            rows: (max_row_group_size / partitions.max(1)).max(1),
            bytes: SMALL_BYTES,
        };
        let mut tasks = JoinSet::new();
        for partition in 0..partitions {
            let stream = plan.execute(partition, Arc::clone(&task_ctx))?;
            let path = dir.join(format!(".partition-{partition:05}.parquet"));
            let props = props.clone();
            let schema = Arc::clone(&schema);
            tasks.spawn(async move {
                let out = write_stream(stream, path, schema, props, small).await;
                (partition, out)
            });
        }
        let mut outcomes = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (partition, outcome) = joined.map_err(|e| Error::Publish {
                path: dir.clone(),
                message: format!("writing table {name} failed: {e}"),
            })?;
            outcomes.push((partition, outcome?));
        }
        outcomes.sort_by_key(|(partition, _)| *partition);
        let mut rows = 0u64;
        let mut files = Vec::new();
        let mut held = Vec::new();
        for (_, outcome) in outcomes {
            match outcome {
                Written::File(path, n) => {
                    rows += n;
                    files.push(path);
                }
                Written::Held(batches) => {
                    rows += batches.iter().map(|b| b.num_rows() as u64).sum::<u64>();
                    held.extend(batches);
                }
            }
        }
        // the rows partitions held go to one more file; with no file
        // written at all that is the table's only one (for an empty table,
        // with its schema and no rows)
        if !held.is_empty() || files.is_empty() {
            let one = dir.join(".held.parquet");
            write_batches(&held, &one, &schema, &props)?;
            files.push(one);
        }
        for (i, file) in files.iter().enumerate() {
            let target = dir.join(part_file_name(i));
            std::fs::rename(file, &target).map_err(|e| Error::io(file, e))?;
        }

        ctx.deregister_table(name)?;
        let mut dir_url = dir.to_string_lossy().into_owned();
        dir_url.push('/');
        ctx.register_parquet(name, &dir_url, ParquetReadOptions::default())
            .await?;
        Ok(rows)
    }
}

/// The most a file's row group buffers before it is written out, per
/// file being written (one per partition).
const ROW_GROUP_BYTES: usize = 64 << 20;

/// `part-00000.parquet`, `part-00001.parquet`...: the files of a table.
pub fn part_file_name(index: usize) -> String {
    format!("part-{index:05}.parquet")
}

/// The session's Parquet options (compression, statistics, row groups)
/// plus the run id in the footer. An internal table, written and read back
/// within the run and never published, is compressed with LZ4 instead of
/// the output's zstd: several times faster both ways, for somewhat larger
/// staging files.
fn writer_properties(
    ctx: &SessionContext,
    run_id: Option<String>,
    internal: bool,
) -> Result<WriterProperties> {
    let mut options = ctx.state().default_table_options().parquet;
    if internal {
        options.global.compression = Some("lz4_raw".into());
    }
    if let Some(run_id) = run_id {
        options
            .key_value_metadata
            .insert(RUN_ID_KEY.into(), Some(run_id));
    }
    // the Arrow writer embeds the Arrow schema itself
    options.global.skip_arrow_metadata = true;
    Ok(WriterPropertiesBuilder::try_from(&options)?.build())
}

/// How many rows and bytes a partition holds in memory before it opens its
/// own file.
#[derive(Clone, Copy)]
struct Small {
    rows: usize,
    bytes: usize,
}

/// The most a partition holds in memory (Arrow bytes) before it opens its
/// own file.
const SMALL_BYTES: usize = 16 << 20;

/// What one partition's stream became.
enum Written {
    /// Its own file and row count.
    File(PathBuf, u64),
    /// Few rows, still in memory (none for an empty partition).
    Held(Vec<RecordBatch>),
}

/// Write one stream to `path`, created once the rows pass `small`; until
/// then they are held, and returned as they are if the stream ends first.
async fn write_stream(
    mut stream: SendableRecordBatchStream,
    path: PathBuf,
    schema: SchemaRef,
    props: WriterProperties,
    small: Small,
) -> Result<Written> {
    let mut writer: Option<ArrowWriter<std::fs::File>> = None;
    let mut held: Vec<RecordBatch> = Vec::new();
    let (mut held_rows, mut held_bytes) = (0usize, 0usize);
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if batch.num_rows() == 0 {
            continue;
        }
        let batch = if batch.schema() == schema {
            batch
        } else {
            RecordBatch::try_new(Arc::clone(&schema), batch.columns().to_vec())?
        };
        rows += batch.num_rows() as u64;
        let Some(w) = writer.as_mut() else {
            held_rows += batch.num_rows();
            held_bytes += batch.get_array_memory_size();
            held.push(batch);
            if held_rows > small.rows || held_bytes > small.bytes {
                let mut w = new_writer(&path, &schema, &props)?;
                for batch in held.drain(..) {
                    write_batch(&mut w, &batch, &path)?;
                }
                writer = Some(w);
            }
            continue;
        };
        write_batch(w, &batch, &path)?;
    }
    match writer {
        Some(w) => {
            w.close().map_err(|e| parquet_error(&path, e))?;
            Ok(Written::File(path, rows))
        }
        None => Ok(Written::Held(held)),
    }
}

fn write_batch(w: &mut ArrowWriter<std::fs::File>, batch: &RecordBatch, path: &Path) -> Result<()> {
    w.write(batch).map_err(|e| parquet_error(path, e))?;
    // a row group is buffered until it is written, outside the memory
    // pool: bound it by bytes as well as by rows
    if w.in_progress_size() > ROW_GROUP_BYTES {
        w.flush().map_err(|e| parquet_error(path, e))?;
    }
    Ok(())
}

/// Write `batches` (in order) as one file `target`.
fn write_batches(
    batches: &[RecordBatch],
    target: &Path,
    schema: &SchemaRef,
    props: &WriterProperties,
) -> Result<()> {
    let mut writer = new_writer(target, schema, props)?;
    for batch in batches {
        write_batch(&mut writer, batch, target)?;
    }
    writer.close().map_err(|e| parquet_error(target, e))?;
    Ok(())
}

fn new_writer(
    path: &Path,
    schema: &SchemaRef,
    props: &WriterProperties,
) -> Result<ArrowWriter<std::fs::File>> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    ArrowWriter::try_new(file, Arc::clone(schema), Some(props.clone()))
        .map_err(|e| parquet_error(path, e))
}

fn parquet_error(path: &Path, e: ParquetError) -> Error {
    Error::Publish {
        path: path.to_path_buf(),
        message: format!("writing Parquet failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionConfig;

    /// A session with 3 partitions and row groups of 100 rows, and a store
    /// in a temp dir.
    fn setup() -> (SessionContext, ParquetStore, tempfile::TempDir) {
        let mut config = SessionConfig::new().with_target_partitions(3);
        config.options_mut().execution.parquet.max_row_group_size = 100;
        let ctx = SessionContext::new_with_config(config);
        let dir = tempfile::tempdir().unwrap();
        let store = ParquetStore {
            staging: dir.path().join("run-1"),
        };
        (ctx, store, dir)
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// 1..=n spread over 3 partitions (a GROUP BY hash-partitions it).
    async fn numbers(ctx: &SessionContext, n: i64) -> DataFrame {
        ctx.sql(&format!(
            "SELECT k, COUNT(*) AS c FROM (SELECT value AS k FROM generate_series(1, {n})) GROUP BY k"
        ))
        .await
        .unwrap()
    }

    async fn sum_and_count(ctx: &SessionContext, table: &str) -> (i64, i64) {
        let b = ctx
            .sql(&format!("SELECT SUM(k), COUNT(*) FROM {table}"))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let sum = b[0]
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Int64Array>()
            .unwrap()
            .value(0);
        let count = b[0]
            .column(1)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Int64Array>()
            .unwrap()
            .value(0);
        (sum, count)
    }

    #[tokio::test]
    async fn a_large_table_is_one_file_per_partition_and_reads_back_whole() {
        let (ctx, store, _dir) = setup();
        let df = numbers(&ctx, 1000).await;
        let rows = store.materialize(&ctx, "t", df, false).await.unwrap();
        assert_eq!(rows, 1000);
        // 1000 rows > one row group of 100: each of the 3 partitions wrote
        // its own file
        assert_eq!(
            files(&store.table_dir("t", false)),
            [
                "part-00000.parquet",
                "part-00001.parquet",
                "part-00002.parquet"
            ]
        );
        // sum of 1..=1000 = 500500
        assert_eq!(sum_and_count(&ctx, "t").await, (500_500, 1000));
    }

    #[tokio::test]
    async fn partitions_over_their_share_write_files_and_the_rest_one_more() {
        let (ctx, store, _dir) = setup();
        // a UNION ALL keeps its inputs as partitions: 100, 10 and 10 rows.
        // One row group is 100 rows, so each of the 3 partitions may hold
        // 33: the first writes its own file, the other two are held and
        // written together as a second one.
        let df = ctx
            .sql(
                "SELECT value AS k FROM generate_series(1, 100)
                 UNION ALL SELECT value AS k FROM generate_series(101, 110)
                 UNION ALL SELECT value AS k FROM generate_series(111, 120)",
            )
            .await
            .unwrap();
        assert_eq!(store.materialize(&ctx, "u", df, false).await.unwrap(), 120);
        let dir = store.table_dir("u", false);
        assert_eq!(files(&dir), ["part-00000.parquet", "part-00001.parquet"]);
        let rows_in = |file: &str| {
            let f = std::fs::File::open(dir.join(file)).unwrap();
            datafusion::parquet::file::reader::FileReader::metadata(
                &datafusion::parquet::file::serialized_reader::SerializedFileReader::new(f)
                    .unwrap(),
            )
            .file_metadata()
            .num_rows()
        };
        assert_eq!(rows_in("part-00000.parquet"), 100);
        assert_eq!(rows_in("part-00001.parquet"), 20);
        // sum of 1..=120 = 7260
        assert_eq!(sum_and_count(&ctx, "u").await, (7260, 120));
    }

    #[tokio::test]
    async fn a_small_table_stays_one_file_and_an_empty_one_keeps_its_schema() {
        let (ctx, store, _dir) = setup();
        let df = numbers(&ctx, 50).await;
        assert_eq!(
            store.materialize(&ctx, "small", df, true).await.unwrap(),
            50
        );
        assert_eq!(
            files(&store.table_dir("small", true)),
            ["part-00000.parquet"]
        );
        // sum of 1..=50 = 1275
        assert_eq!(sum_and_count(&ctx, "small").await, (1275, 50));

        let empty = ctx
            .sql("SELECT k, c FROM small WHERE k > 100")
            .await
            .unwrap();
        assert_eq!(
            store
                .materialize(&ctx, "empty", empty, false)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            files(&store.table_dir("empty", false)),
            ["part-00000.parquet"]
        );
        let schema = ctx
            .table("empty")
            .await
            .unwrap()
            .schema()
            .as_arrow()
            .clone();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["k", "c"]);
    }
}
