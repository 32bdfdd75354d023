//! Where results go. During a run every table is written to the run's
//! staging folder inside the output folder ([`store`]) and read back from
//! there by later queries; only when every query has succeeded are the
//! staged tables published with the run manifest, all at once and
//! crash-safe ([`publish`]: journal, renames, `latest.json` last). The
//! output lock ([`lock`]) makes one run at a time the folder's only writer;
//! taking it finishes or undoes a publish that a dead run left and
//! [`sweep`]s dead runs' staging folders and temp files.

pub mod export;
mod journal;
pub mod lock;
pub mod manifest;
pub mod publish;
mod steps;
pub mod store;
pub mod sweep;
#[cfg(test)]
mod tests;
pub mod types;

use std::path::{Path, PathBuf};

pub use journal::JOURNAL;
pub use lock::OutputLock;
pub use publish::{publish, Staging, TablesNotRun};
pub use steps::{write_atomic, FAULT_ENV};
pub use store::{MemoryStore, ParquetStore, Store, RUN_ID_KEY};

/// The published location of `table` for `as_of`.
pub fn published_dir(out: &Path, table: &str, as_of: &str) -> PathBuf {
    out.join(table).join(format!("as_of={as_of}"))
}
