//! Where query results are kept during a run: in memory (tests, ad-hoc
//! SQL) or as Parquet in the run's staging folder, read back from there by
//! later queries and published from there when the run succeeds.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::datasource::MemTable;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};

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
        let file = dir.join("part-00000.parquet");
        let file_str = file.to_string_lossy().into_owned();
        // the session's Parquet options (compression, statistics, row
        // groups) plus the run id
        let mut options = ctx.state().default_table_options().parquet;
        if let Some(run_id) = self.staging.file_name() {
            options.key_value_metadata.insert(
                RUN_ID_KEY.into(),
                Some(run_id.to_string_lossy().into_owned()),
            );
        }
        let result = df
            .write_parquet(
                &file_str,
                DataFrameWriteOptions::new().with_single_file_output(true),
                Some(options),
            )
            .await?;
        let rows = written_rows(&result);
        ctx.deregister_table(name)?;
        ctx.register_parquet(name, &file_str, ParquetReadOptions::default())
            .await?;
        Ok(rows)
    }
}

fn written_rows(batches: &[RecordBatch]) -> u64 {
    batches
        .iter()
        .filter(|b| b.num_columns() > 0)
        .flat_map(|b| {
            b.column(0)
                .as_primitive_opt::<UInt64Type>()
                .map(|a| a.values().iter().sum::<u64>())
        })
        .sum()
}
