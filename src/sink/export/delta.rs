//! Delta Lake output: every table is a Delta table at `<out>/<table>`,
//! partitioned by `as_of` (a date column added to the run's rows).
//!
//! Each table is written with one Delta commit that replaces the run's
//! `as_of` partition (`replaceWhere as_of = <date>`, a predicate overwrite;
//! the first run creates the table): a Delta reader sees a whole day of the
//! previous run or a whole day of this one, never a mix, and other dates
//! are untouched. The commits go through `deltalake`'s default log store,
//! whose conditional put (`If-None-Match` on S3) is what makes a commit
//! atomic on an object store. The run manifest and `latest.json` are put
//! after every table, as for Parquet. A run killed between two tables'
//! commits leaves some tables on the new day and `latest.json` on the
//! previous run; the next run of that date replaces them all again.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::{cast, col, lit, ParquetReadOptions, SessionContext};
use deltalake_core::logstore::logstore_factories;
use deltalake_core::operations::write::SchemaMode;
use deltalake_core::protocol::SaveMode;
use deltalake_core::DeltaTableBuilder;
use url::Url;

use super::{key, Exporter, LocalRun};
use crate::error::{Error, Result};

/// The partition column added to every table.
pub const PARTITION: &str = "as_of";

/// Make `deltalake`'s default log store serve the cloud schemes: it is
/// registered for `file://` and `memory://` only, and microconv hands it
/// the store (with the credentials and `[storage]` overrides) itself.
fn register_schemes() {
    let registry = logstore_factories();
    let Some(default) = registry
        .get(&Url::parse("file://").expect("a valid URL"))
        .map(|f| Arc::clone(f.value()))
    else {
        return;
    };
    for scheme in ["s3", "s3a", "gs", "az", "azure", "abfs", "abfss", "adl"] {
        let url = Url::parse(&format!("{scheme}://")).expect("a valid URL");
        if registry.get(&url).is_none() {
            registry.insert(url, Arc::clone(&default));
        }
    }
}

pub(super) async fn publish(ex: &Exporter, work: &std::path::Path, run: &LocalRun) -> Result<()> {
    register_schemes();
    let ctx = SessionContext::new();
    let day = cast(lit(run.as_of.as_str()), DataType::Date32);
    for (name, path) in &run.tables {
        let table_key = key(&ex.target.path, name);
        let url_text = ex.url_of(&table_key);
        let fail = |what: &str, e: &dyn std::fmt::Display| Error::Storage {
            url: url_text.clone(),
            message: format!("{what} of Delta table `{name}` failed: {e}"),
        };
        let url = Url::parse(&format!("{}/", url_text.trim_end_matches('/')))
            .map_err(|e| fail("opening", &e))?;
        let mut table = DeltaTableBuilder::from_url(url.clone())
            .and_then(|b| {
                b.with_storage_backend(Arc::clone(&ex.target.store), url)
                    .build()
            })
            .map_err(|e| fail("opening", &e))?;
        // loading a table that is not there is an error that differs
        // between stores: look for its log instead
        let log = key(&table_key, "_delta_log");
        let exists = ex.target.list_one(&log).await?.is_some();
        if exists {
            table
                .load()
                .await
                .map_err(|e| fail("reading the log", &e))?;
        }
        let dir = work.join(path);
        let df = ctx
            .read_parquet(
                dir.to_string_lossy().as_ref(),
                ParquetReadOptions::default(),
            )
            .await
            .map_err(|e| fail("reading the run's copy", &e))?;
        if df.schema().has_column_with_unqualified_name(PARTITION) {
            return Err(Error::Publish {
                path: dir,
                message: format!(
                    "table `{name}` has a column `{PARTITION}`, which Delta output adds as the partition column; rename it in the query"
                ),
            });
        }
        let df = df
            .with_column(PARTITION, day.clone())
            .map_err(|e| fail("planning", &e))?;
        let mut write = table
            .write(Vec::new())
            .with_input_plan(df.logical_plan().clone())
            .with_partition_columns([PARTITION])
            .with_save_mode(SaveMode::Overwrite)
            // a query that gains a column adds it to the table
            .with_schema_mode(SchemaMode::Merge)
            .with_table_name(name.clone());
        if exists {
            write = write.with_replace_where(col(PARTITION).eq(day.clone()));
        }
        write.await.map_err(|e| fail("the write", &e))?;
        super::export_step(|| format!("commit Delta table {name}"));
    }
    let root = &ex.target.path;
    ex.put(&key(root, &run.manifest_rel), run.manifest.clone())
        .await?;
    ex.put(&key(root, "_manifests/latest.json"), run.latest.clone())
        .await
}
