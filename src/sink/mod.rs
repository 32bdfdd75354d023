//! Where results go. During a run every table is written to a staging
//! directory inside the output folder and read back from there by later
//! queries; only when every query has succeeded are the staged tables
//! published, each by a directory rename. A failed run removes its staging
//! and leaves the published outputs untouched.

pub mod manifest;

use std::path::{Path, PathBuf};
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

/// Results as Parquet under a staging directory.
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
        let result = df
            .write_parquet(
                &file_str,
                DataFrameWriteOptions::new().with_single_file_output(true),
                None,
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

/// The published location of `table` for `as_of`.
pub fn published_dir(out: &Path, table: &str, as_of: &str) -> PathBuf {
    out.join(table).join(format!("as_of={as_of}"))
}

/// Move every staged table into place. Old outputs for the same as-of are
/// moved aside first and restored if any rename fails, so a reader sees
/// either the old or the new directory, never a partial one.
pub fn publish(out: &Path, staging: &Path, tables: &[String], as_of: &str) -> Result<()> {
    let trash = staging.join("_replaced");
    std::fs::create_dir_all(&trash).map_err(|e| Error::io(&trash, e))?;
    let mut done: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    let mut step = |table: &String| -> Result<()> {
        let target = published_dir(out, table, as_of);
        let parent = target.parent().expect("published dir has a parent");
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        let old = if target.exists() {
            let aside = trash.join(table);
            std::fs::rename(&target, &aside).map_err(|e| Error::io(&target, e))?;
            Some(aside)
        } else {
            None
        };
        let staged = staging.join(table);
        if let Err(e) = std::fs::rename(&staged, &target) {
            if let Some(aside) = &old {
                let _ = std::fs::rename(aside, &target);
            }
            return Err(Error::io(&staged, e));
        }
        done.push((target, old));
        Ok(())
    };
    for table in tables {
        if let Err(e) = step(table) {
            // roll back what was already published
            for (target, old) in done.into_iter().rev() {
                let _ = std::fs::remove_dir_all(&target);
                if let Some(aside) = old {
                    let _ = std::fs::rename(aside, &target);
                }
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Write `bytes` to `path` atomically (temp file + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// An exclusive lock on the output directory for the length of a run.
pub struct OutputLock {
    path: PathBuf,
}

impl OutputLock {
    pub fn acquire(out: &Path) -> Result<OutputLock> {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let path = out.join(".lock");
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => {
                let _ = std::fs::write(&path, std::process::id().to_string());
                Ok(OutputLock { path })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if lock_is_stale(&path) {
                    let _ = std::fs::remove_file(&path);
                    return Self::acquire(out);
                }
                Err(Error::Locked {
                    path: out.to_path_buf(),
                })
            }
            Err(e) => Err(Error::io(&path, e)),
        }
    }
}

/// A lock whose process no longer exists (checked through /proc where there is one).
fn lock_is_stale(path: &Path) -> bool {
    let Ok(pid) = std::fs::read_to_string(path) else {
        return false;
    };
    let proc = Path::new("/proc");
    proc.exists() && !proc.join(pid.trim()).exists()
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_replaces_same_as_of_and_keeps_others() {
        let out = tempfile::tempdir().unwrap();
        let old = published_dir(out.path(), "t", "2026-01-01");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join("part-00000.parquet"), b"old").unwrap();
        let other = published_dir(out.path(), "t", "2025-12-31");
        std::fs::create_dir_all(&other).unwrap();
        let staging = out.path().join(".staging/run1");
        std::fs::create_dir_all(staging.join("t")).unwrap();
        std::fs::write(staging.join("t/part-00000.parquet"), b"new").unwrap();
        publish(out.path(), &staging, &["t".to_string()], "2026-01-01").unwrap();
        assert_eq!(
            std::fs::read(old.join("part-00000.parquet")).unwrap(),
            b"new"
        );
        assert!(other.exists());
    }

    #[test]
    fn failed_publish_rolls_back() {
        let out = tempfile::tempdir().unwrap();
        let a = published_dir(out.path(), "a", "d");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::write(a.join("f"), b"old-a").unwrap();
        let staging = out.path().join(".staging/run1");
        std::fs::create_dir_all(staging.join("a")).unwrap();
        std::fs::write(staging.join("a/f"), b"new-a").unwrap();
        // "b" was never staged, so its rename fails
        let err = publish(
            out.path(),
            &staging,
            &["a".to_string(), "b".to_string()],
            "d",
        );
        assert!(err.is_err());
        assert_eq!(std::fs::read(a.join("f")).unwrap(), b"old-a");
    }

    #[test]
    fn lock_is_exclusive() {
        let out = tempfile::tempdir().unwrap();
        let lock = OutputLock::acquire(out.path()).unwrap();
        assert!(matches!(
            OutputLock::acquire(out.path()),
            Err(Error::Locked { .. })
        ));
        drop(lock);
        assert!(OutputLock::acquire(out.path()).is_ok());
    }
}
