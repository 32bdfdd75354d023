//! Parquet tables published to an object store, where there is no atomic
//! rename of a folder.
//!
//! # Protocol
//!
//! Under the destination's lock ([`super::Exporter::begin`]):
//!
//! 1. **Upload.** Every file of every table the run computed goes to
//!    `<out>/_microconv/staging/<run_id>/<table>/as_of=<date>/`. A run
//!    killed here has changed nothing a reader sees; the next run deletes
//!    its uploads.
//! 2. **Journal.** `<out>/_microconv/publish-journal.json` is put: the run,
//!    each table's files, and the two manifests to install. From here on
//!    the publish is finished by whichever run comes next.
//! 3. **Copy.** Each staged file is copied (server-side) to
//!    `<out>/<table>/as_of=<date>/<file>`; files of an earlier run of the
//!    same date that the new one does not have are deleted.
//! 4. **Commit.** The run manifest `_manifests/run-<as_of>-<run_id>.json`
//!    is put, then `_manifests/latest.json`: readers that follow
//!    `latest.json` switch to the new run here, all tables at once.
//! 5. **Clean up.** The journal is deleted, then the staged uploads.
//!
//! **Recovery.** A journal found by the next run is rolled forward: every
//! step of 3 to 5 is repeated (each is idempotent: a copy overwrites, a
//! delete of a missing object is fine), from the staged uploads, which are
//! deleted only after the journal. Any machine can finish it.
//!
//! **What readers see.** A new `as_of` date (the nightly case): readers
//! that follow `latest.json` see the previous run until the commit and the
//! new one after it, all tables at once; readers that list the table
//! folders see the new date appear table by table during step 3
//! (seconds), and earlier dates never change. A **re-run of the same
//! date** replaces each table's files in place during step 3, so any
//! reader querying in that window can see some tables (or, when a table
//! has several files, some files) of each run, and a run killed after its
//! journal leaves that mix until the next run finishes the publish.
//! Readers that need a whole-day switch per table should use
//! `format = "delta"`.
//!
//! **Not covered**: the lock is taken over automatically only from a dead
//! process on the same host (a killed container's lock must be deleted by
//! hand); two runs taking over the same dead lock at the same moment are
//! not excluded.

use std::collections::BTreeSet;
use std::path::Path;

use object_store::path::Path as ObjectPath;
use serde::{Deserialize, Serialize};

use super::{data_files, is_data_file, key, Exporter, LocalRun, CONTROL};
use crate::error::{Error, Result};

const JOURNAL: &str = "publish-journal.json";

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    run_id: String,
    /// Each table's published folder, relative to the output, and files.
    tables: Vec<JournalTable>,
    manifest_rel: String,
    manifest: String,
    latest: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct JournalTable {
    path: String,
    files: Vec<String>,
}

fn journal_key(ex: &Exporter) -> ObjectPath {
    key(&ex.target.path, &format!("{CONTROL}/{JOURNAL}"))
}

fn staging_of(ex: &Exporter, run_id: &str) -> ObjectPath {
    key(&ex.target.path, &format!("{CONTROL}/staging/{run_id}"))
}

/// Steps 1 to 5 for the run the local work folder just published.
pub(super) async fn publish(ex: &Exporter, work: &Path, run: &LocalRun) -> Result<()> {
    let staging = staging_of(ex, &run.run_id);
    let mut tables = Vec::new();
    for (_, path) in &run.tables {
        let files = data_files(&work.join(path))?;
        for f in &files {
            ex.upload(
                &work.join(path).join(f),
                &key(&staging, &format!("{path}/{f}")),
            )
            .await?;
        }
        tables.push(JournalTable {
            path: path.clone(),
            files,
        });
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let journal = Journal {
        run_id: run.run_id.clone(),
        tables,
        manifest_rel: run.manifest_rel.clone(),
        manifest: text(&run.manifest),
        latest: text(&run.latest),
    };
    let bytes = serde_json::to_vec_pretty(&journal).expect("a journal serialises");
    ex.put(&journal_key(ex), bytes).await?;
    roll_forward(ex, &journal).await
}

/// Finish the publish a killed run left, if its journal is there.
pub(super) async fn recover(ex: &Exporter) -> Result<()> {
    let key = journal_key(ex);
    let Some(bytes) = ex.get(&key).await? else {
        return Ok(());
    };
    let journal: Journal = serde_json::from_slice(&bytes).map_err(|e| Error::Publish {
        path: ex.url_of(&key).into(),
        message: format!("the publish journal cannot be read ({e}); the tables may be a mix of two runs: re-run the job after removing it"),
    })?;
    tracing::warn!(
        "finishing the publish of run {} that did not complete",
        journal.run_id
    );
    roll_forward(ex, &journal).await
}

/// Steps 3 to 5.
async fn roll_forward(ex: &Exporter, journal: &Journal) -> Result<()> {
    let root = &ex.target.path;
    let staging = staging_of(ex, &journal.run_id);
    for table in &journal.tables {
        let dest = key(root, &table.path);
        for f in &table.files {
            let from = key(&staging, &format!("{}/{f}", table.path));
            let to = key(&dest, f);
            ex.copy(&from, &to).await?;
        }
        let keep: BTreeSet<&str> = table.files.iter().map(String::as_str).collect();
        for k in ex.list(&dest).await? {
            let rest = k.prefix_match(&dest).map(|p| {
                p.map(|s| s.as_ref().to_string())
                    .collect::<Vec<_>>()
                    .join("/")
            });
            // only the folder's own files (not a deeper level, not hidden)
            if let Some(rest) = rest {
                if !rest.contains('/') && is_data_file(&rest) && !keep.contains(rest.as_str()) {
                    ex.delete(&k).await?;
                }
            }
        }
    }
    ex.put(
        &key(root, &journal.manifest_rel),
        journal.manifest.clone().into_bytes(),
    )
    .await?;
    ex.put(
        &key(root, "_manifests/latest.json"),
        journal.latest.clone().into_bytes(),
    )
    .await?;
    ex.delete(&journal_key(ex)).await?;
    ex.delete_prefix(&staging).await
}
