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
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
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
        let props = writer_properties(ctx, run_id)?;
        let max_row_group_size = props.max_row_group_row_count().unwrap_or(usize::MAX);
        // files carry the schema of the optimized logical plan, as
        // DataFusion's own writer does (its nullability is the documented
        // one; the physical plan's can be stricter)
        let optimized = df.clone().into_optimized_plan()?;
        let schema: SchemaRef = Arc::new(optimized.schema().as_arrow().clone());
        let task_ctx = Arc::new(df.task_ctx());
        let plan = df.create_physical_plan().await?;

        // every output partition of the plan streams into its own file, in
        // parallel (one task each; a partition with no rows writes nothing)
        let mut tasks = JoinSet::new();
        for partition in 0..plan.output_partitioning().partition_count() {
            let stream = plan.execute(partition, Arc::clone(&task_ctx))?;
            let path = dir.join(format!(".partition-{partition:05}.parquet"));
            let props = props.clone();
            tasks.spawn(write_stream(stream, path, Arc::clone(&schema), props));
        }
        let mut written = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let part = joined.map_err(|e| Error::Publish {
                path: dir.clone(),
                message: format!("writing table {name} failed: {e}"),
            })??;
            written.extend(part);
        }
        written.sort();
        let rows: u64 = written.iter().map(|(_, rows)| rows).sum();

        // a table smaller than one row group stays one file; an empty one
        // is one file with the schema and no rows
        let parts: Vec<PathBuf> = written.into_iter().map(|(path, _)| path).collect();
        let files = if parts.len() == 1 || rows > max_row_group_size as u64 {
            parts
        } else {
            let one = dir.join(".merged.parquet");
            merge_files(&parts, &one, &schema, &props)?;
            for part in &parts {
                std::fs::remove_file(part).map_err(|e| Error::io(part, e))?;
            }
            vec![one]
        };
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

/// `part-00000.parquet`, `part-00001.parquet`...: the files of a table.
pub fn part_file_name(index: usize) -> String {
    format!("part-{index:05}.parquet")
}

/// The session's Parquet options (compression, statistics, row groups)
/// plus the run id in the footer.
fn writer_properties(ctx: &SessionContext, run_id: Option<String>) -> Result<WriterProperties> {
    let mut options = ctx.state().default_table_options().parquet;
    if let Some(run_id) = run_id {
        options
            .key_value_metadata
            .insert(RUN_ID_KEY.into(), Some(run_id));
    }
    // the Arrow writer embeds the Arrow schema itself
    options.global.skip_arrow_metadata = true;
    Ok(WriterPropertiesBuilder::try_from(&options)?.build())
}

/// Write one stream to `path`, created at its first row; returns the file
/// and its row count, or nothing for a stream without rows.
async fn write_stream(
    mut stream: SendableRecordBatchStream,
    path: PathBuf,
    schema: SchemaRef,
    props: WriterProperties,
) -> Result<Option<(PathBuf, u64)>> {
    let mut writer: Option<ArrowWriter<std::fs::File>> = None;
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
        if writer.is_none() {
            writer = Some(new_writer(&path, &schema, &props)?);
        }
        if let Some(w) = writer.as_mut() {
            w.write(&batch).map_err(|e| parquet_error(&path, e))?;
        }
        rows += batch.num_rows() as u64;
    }
    match writer {
        Some(w) => {
            w.close().map_err(|e| parquet_error(&path, e))?;
            Ok(Some((path, rows)))
        }
        None => Ok(None),
    }
}

/// Copy the rows of `parts` (in order) into one file `target`.
fn merge_files(
    parts: &[PathBuf],
    target: &Path,
    schema: &SchemaRef,
    props: &WriterProperties,
) -> Result<()> {
    let mut writer = new_writer(target, schema, props)?;
    for part in parts {
        let file = std::fs::File::open(part).map_err(|e| Error::io(part, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| parquet_error(part, e))?;
        for batch in reader {
            let batch = batch?;
            writer.write(&batch).map_err(|e| parquet_error(target, e))?;
        }
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
