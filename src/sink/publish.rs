//! Publishing a run's tables and manifest all at once, in a way that a
//! crash at any point cannot leave a mix of two runs.
//!
//! # Protocol
//!
//! Only the holder of the output lock ([`super::OutputLock`]) changes the
//! output folder, and taking the lock first recovers (below) and then sweeps
//! what dead runs left.
//!
//! 1. **Stage.** Every table is written to `<out>/.staging/<run_id>/<table>/`
//!    (see [`Staging`]); before publishing, each one is fsynced.
//! 2. **Journal.** `<out>/.publish-journal.json` is written (temp file,
//!    fsync, rename, fsync of the folder): the run id, for each table its
//!    staged folder, its published folder `<table>/as_of=<date>`, where its
//!    previous copy goes (`.staging/<run_id>/.replaced/<table>`) and whether
//!    there is one, and the complete manifest to install.
//! 3. **Move.** Table by table: the previous copy is renamed aside, the
//!    staged copy renamed into place. The folders are fsynced.
//! 4. **Commit.** The run manifest `_manifests/run-<as_of>-<run_id>.json` is
//!    written, then `_manifests/latest.json` is replaced by a rename: that
//!    rename is the commit point.
//! 5. **Clean up.** The journal is removed, then the staging folder (with
//!    the previous copies).
//!
//! **Recovery.** A journal found when the lock is taken belongs to a dead
//! process. If `latest.json` already names its run, or it was publishing and
//! every new copy still exists (staged or in place), it is rolled
//! **forward**: the remaining moves are made and both manifests (re)written.
//! Otherwise (the publishing process had hit an error and was undoing it)
//! it is rolled **back**: new copies go back to staging, previous copies
//! back into place, the run manifest is removed. Each step checks what is
//! already done, so a crash during recovery is recovered the same way. A
//! crash before the journal exists leaves the published folder untouched.
//! Afterwards, every table `latest.json` lists and the manifest itself come
//! from one run. An error during a publish (disk full, permissions) rolls
//! it back at once.
//!
//! **Readers** that follow `latest.json` see the previous run until the
//! commit and the new one after it. Re-running the same `as_of` replaces
//! folders in place, so a reader listing the folders during the moves of
//! such a re-run (milliseconds) can see some tables already replaced.
//!
//! A run that did not compute every table (`--select`) keeps the others in
//! its manifest: [`TablesNotRun::Keep`] carries the entries of the previous
//! `latest.json` whose folders still exist, each marked with the run that
//! wrote it (`from_run`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::journal::{latest_path, resolve, Direction, Journal, JournalTable};
use super::manifest::Manifest;
use super::{steps, OutputLock, ParquetStore};
use crate::error::{Error, Result};

/// The folder where staging folders live, relative to the output folder.
pub const STAGING_ROOT: &str = ".staging";

/// A run's staging folder, `<out>/.staging/<run_id>`, removed when dropped
/// (a finished, failed or cancelled run) unless a publish journal still
/// needs it, in which case the next run's recovery uses it and the sweep
/// after that removes it. Borrowing the lock keeps the lock held for as
/// long as the staging folder exists.
pub struct Staging<'lock> {
    lock: &'lock OutputLock,
    run_id: String,
    rel: String,
    path: PathBuf,
}

impl<'lock> Staging<'lock> {
    /// Create the staging folder of run `run_id`.
    pub fn create(lock: &'lock OutputLock, run_id: &str) -> Result<Staging<'lock>> {
        let rel = format!("{STAGING_ROOT}/{run_id}");
        if run_id.is_empty() || run_id.contains(['/', '\\']) || run_id.starts_with('.') {
            return Err(Error::Publish {
                path: lock.out().to_path_buf(),
                message: format!("`{run_id}` cannot name a staging folder"),
            });
        }
        let path = lock.out().join(&rel);
        steps::create_dir_all(&path)?;
        Ok(Staging {
            lock,
            run_id: run_id.to_string(),
            rel,
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The output folder.
    pub fn out(&self) -> &Path {
        self.lock.out()
    }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        if let Ok(Some(journal)) = Journal::read(self.out()) {
            if journal.run_id == self.run_id {
                tracing::error!(
                    "keeping {}: the unfinished publish of this run needs it; the next run will finish or undo it",
                    self.path.display()
                );
                return;
            }
        }
        match std::fs::remove_dir_all(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!("cannot remove {}: {e}", self.path.display()),
        }
        let _ = std::fs::remove_dir(self.out().join(STAGING_ROOT));
    }
}

/// What a manifest says about published tables its run did not compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TablesNotRun {
    /// Keep the entries of the previous `latest.json` whose folders still
    /// exist, marked `from_run` (a `--select` run).
    Keep,
    /// List only the run's own tables (a full run).
    Drop,
}

/// Publish every table of `manifest` from `staging` and install the
/// manifest (see the module doc). Returns the run manifest's path.
pub fn publish(staging: &Staging, manifest: &Manifest, not_run: TablesNotRun) -> Result<PathBuf> {
    let out = staging.out();
    steps::publish_starts();
    let journal = plan(staging, manifest, not_run)?;
    journal.write(out)?;
    if let Err(e) = journal.roll_forward(out) {
        return Err(undo(out, journal, e));
    }
    if let Err(e) = Journal::remove(out) {
        // published; the next run's recovery finds it committed
        tracing::warn!(
            "cannot remove the publish journal: {}",
            crate::error::chain(&e)
        );
    }
    resolve(out, &journal.manifest_path)
}

/// The journal of publishing `manifest` from `staging`.
pub(crate) fn plan(
    staging: &Staging,
    manifest: &Manifest,
    not_run: TablesNotRun,
) -> Result<Journal> {
    let out = staging.out();
    if manifest.run_id != staging.run_id {
        return Err(Error::Publish {
            path: staging.path.clone(),
            message: format!("the manifest is of run {}", manifest.run_id),
        });
    }
    let store = ParquetStore {
        staging: staging.path.clone(),
    };
    let mut tables = Vec::with_capacity(manifest.tables.len());
    for entry in &manifest.tables {
        let staged = store.table_dir(&entry.name, false);
        if !staged.is_dir() {
            return Err(Error::Publish {
                path: staged,
                message: format!("table `{}` was not staged", entry.name),
            });
        }
        steps::sync_tree(&staged)?;
        let target = resolve(out, &entry.path)?;
        tables.push(JournalTable {
            name: entry.name.clone(),
            staged: format!("{}/{}", staging.rel, entry.name),
            target: entry.path.clone(),
            aside: format!("{}/.replaced/{}", staging.rel, entry.name),
            had_old: steps::exists(&target),
        });
    }
    let mut json = manifest.to_json().map_err(|e| Error::Publish {
        path: out.join("_manifests"),
        message: format!("cannot encode the manifest ({e})"),
    })?;
    if not_run == TablesNotRun::Keep {
        carry_over(out, &mut json);
    }
    Ok(Journal {
        run_id: manifest.run_id.clone(),
        as_of: manifest.as_of.clone(),
        direction: Direction::Forward,
        staging: staging.rel.clone(),
        tables,
        manifest_path: format!("_manifests/run-{}-{}.json", manifest.as_of, manifest.run_id),
        manifest: json,
    })
}

/// Roll back after `err`, recording the direction first so that a crash
/// during the roll-back is finished the same way. Returns `err`.
fn undo(out: &Path, mut journal: Journal, err: Error) -> Error {
    journal.direction = Direction::Back;
    let undone = journal
        .write(out)
        .and_then(|()| journal.roll_back(out))
        .and_then(|()| Journal::remove(out));
    if let Err(e) = undone {
        tracing::error!(
            "cannot undo the failed publish ({}); the next run will",
            crate::error::chain(&e)
        );
    }
    err
}

/// Append to `json["tables"]` the previous `latest.json`'s tables that this
/// manifest does not list and whose folders still exist.
fn carry_over(out: &Path, json: &mut serde_json::Value) {
    let path = latest_path(out);
    let previous: serde_json::Value = match std::fs::read_to_string(&path) {
        Ok(text) => match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!("{} is not valid JSON ({e}); tables this run did not compute are left out of its manifest", path.display());
                return;
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            tracing::warn!("cannot read {} ({e}); tables this run did not compute are left out of its manifest", path.display());
            return;
        }
    };
    let Some(tables) = json.get_mut("tables").and_then(|t| t.as_array_mut()) else {
        return;
    };
    let listed: BTreeSet<String> = tables
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    let from_run = previous["run_id"].clone();
    for entry in previous["tables"].as_array().into_iter().flatten() {
        let (Some(name), Some(rel)) = (entry["name"].as_str(), entry["path"].as_str()) else {
            continue;
        };
        let exists = resolve(out, rel).is_ok_and(|dir| dir.is_dir());
        if listed.contains(name) || !exists {
            continue;
        }
        let mut entry = entry.clone();
        if let Some(fields) = entry.as_object_mut() {
            if !fields.contains_key("from_run") && from_run.is_string() {
                fields.insert("from_run".into(), from_run.clone());
            }
            tables.push(entry);
        }
    }
}
