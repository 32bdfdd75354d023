//! The publish journal, `<out>/.publish-journal.json`: every move a publish
//! is about to make and the manifest it will install, written and fsynced
//! before the first move. Replaying it forward or backward is idempotent,
//! so a process that dies at any step (or during a replay) leaves a state
//! that the next replay finishes. See [`super::publish`] for the protocol.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::steps;
use crate::error::{Error, Result};

/// The journal's file name in the output folder.
pub const JOURNAL: &str = ".publish-journal.json";

/// Where `latest.json` lives.
pub(crate) fn latest_path(out: &Path) -> PathBuf {
    out.join("_manifests").join("latest.json")
}

/// Which way a replay goes when the new run is not yet visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Direction {
    /// Publishing: finish it if every new copy is still there.
    Forward,
    /// The publishing process hit an error and was undoing it: finish that.
    Back,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Journal {
    pub run_id: String,
    pub as_of: String,
    pub direction: Direction,
    /// The run's staging folder, relative to the output folder.
    pub staging: String,
    pub tables: Vec<JournalTable>,
    /// The run manifest to install, relative to the output folder.
    pub manifest_path: String,
    /// The manifest, installed there and as `latest.json`.
    pub manifest: serde_json::Value,
}

/// One table's moves. Paths are relative to the output folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct JournalTable {
    pub name: String,
    /// The new copy, in the staging folder until it is moved into place.
    pub staged: String,
    /// The published folder.
    pub target: String,
    /// Where the previous copy of `target` is kept until the publish is done.
    pub aside: String,
    /// Whether `target` held a previous copy when the journal was written.
    pub had_old: bool,
}

/// A journal table with its paths resolved.
struct Moves {
    staged: PathBuf,
    target: PathBuf,
    aside: PathBuf,
    had_old: bool,
}

impl Journal {
    pub fn path(out: &Path) -> PathBuf {
        out.join(JOURNAL)
    }

    /// The journal left in `out`, if any.
    pub fn read(out: &Path) -> Result<Option<Journal>> {
        let path = Self::path(out);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| {
                invalid(
                    out,
                    format!("the publish journal is not valid ({e}); check the tables in the folder and remove it"),
                )
            })
    }

    /// Write the journal durably (two counted steps: temp file, rename).
    pub fn write(&self, out: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| invalid(out, format!("cannot encode the publish journal ({e})")))?;
        steps::write_atomic(&Self::path(out), &bytes)
    }

    /// Remove the journal: the publish is over (one counted step).
    pub fn remove(out: &Path) -> Result<()> {
        steps::remove_file(&Self::path(out))?;
        steps::sync_dir(out);
        Ok(())
    }

    fn moves(&self, out: &Path) -> Result<Vec<Moves>> {
        self.tables
            .iter()
            .map(|t| {
                Ok(Moves {
                    staged: resolve(out, &t.staged)?,
                    target: resolve(out, &t.target)?,
                    aside: resolve(out, &t.aside)?,
                    had_old: t.had_old,
                })
            })
            .collect()
    }

    /// Whether every table's new copy still exists, staged or in place. A
    /// staged copy disappears only by its move into place, so when it is
    /// gone the folder in place is the new one.
    fn new_copies_present(&self, out: &Path) -> Result<bool> {
        Ok(self
            .moves(out)?
            .iter()
            .all(|m| steps::exists(&m.staged) || steps::exists(&m.target)))
    }

    /// Put every new copy in place (previous copies aside), then write the
    /// run manifest and switch `latest.json`: the commit point.
    pub fn roll_forward(&self, out: &Path) -> Result<()> {
        let moves = self.moves(out)?;
        for (m, t) in moves.iter().zip(&self.tables) {
            if !steps::exists(&m.staged) {
                // moved in an earlier attempt; `publish` checks that every
                // table is staged, so only a hand-deleted folder is missing
                if !steps::exists(&m.target) {
                    tracing::error!(
                        "table `{}`: neither its new copy {} nor its published copy {} exists",
                        t.name,
                        m.staged.display(),
                        m.target.display()
                    );
                }
                continue;
            }
            if steps::exists(&m.target) {
                if steps::exists(&m.aside) {
                    return Err(invalid(
                        out,
                        format!("{} is in the way of the previous copy", m.aside.display()),
                    ));
                }
                steps::create_dir_all(parent(&m.aside))?;
                steps::rename(&m.target, &m.aside)?;
            }
            steps::create_dir_all(parent(&m.target))?;
            steps::rename(&m.staged, &m.target)?;
        }
        // the moves must be on disk before a manifest names their result
        for m in &moves {
            steps::sync_dir(parent(&m.target));
            steps::sync_dir(parent(&m.aside));
        }
        let bytes = serde_json::to_vec_pretty(&self.manifest)
            .map_err(|e| invalid(out, format!("cannot encode the manifest ({e})")))?;
        steps::write_atomic(&resolve(out, &self.manifest_path)?, &bytes)?;
        steps::write_atomic(&latest_path(out), &bytes)
    }

    /// Undo the moves, last table first: the new copy goes back to staging
    /// (to be swept), the previous one back into place. Only valid before
    /// the commit point (`latest.json` still names another run).
    pub fn roll_back(&self, out: &Path) -> Result<()> {
        let moves = self.moves(out)?;
        for m in moves.iter().rev() {
            if !steps::exists(&m.staged) && steps::exists(&m.target) {
                steps::create_dir_all(parent(&m.staged))?;
                steps::rename(&m.target, &m.staged)?;
            }
            if m.had_old && !steps::exists(&m.target) {
                if steps::exists(&m.aside) {
                    steps::rename(&m.aside, &m.target)?;
                } else {
                    tracing::error!(
                        "the previous copy of {} is missing from {}",
                        m.target.display(),
                        m.aside.display()
                    );
                }
            }
            if !m.had_old {
                // the table folder this publish created, if it is empty
                let _ = std::fs::remove_dir(parent(&m.target));
            }
        }
        let manifest = resolve(out, &self.manifest_path)?;
        if steps::exists(&manifest) {
            steps::remove_file(&manifest)?;
        }
        Ok(())
    }
}

/// Finish a publish that a dead process left: forward when its manifest is
/// already `latest.json`, or when it was publishing and every new copy is
/// still there; back otherwise. Then remove the journal. Call only while
/// holding the output lock.
pub(crate) fn recover(out: &Path) -> Result<()> {
    let Some(journal) = Journal::read(out)? else {
        return Ok(());
    };
    let committed = latest_run_id(out).as_deref() == Some(journal.run_id.as_str());
    let forward = committed
        || (journal.direction == Direction::Forward && journal.new_copies_present(out)?);
    tracing::warn!(
        run_id = %journal.run_id,
        as_of = %journal.as_of,
        "an interrupted publish was found in {}; {}",
        out.display(),
        if forward {
            "finishing it (its tables and manifest become the published ones)"
        } else {
            "undoing it (the previous tables and manifest stay)"
        }
    );
    if forward {
        journal.roll_forward(out)?;
    } else {
        journal.roll_back(out)?;
    }
    Journal::remove(out)
}

/// The `run_id` in `latest.json`, if it is readable.
pub(crate) fn latest_run_id(out: &Path) -> Option<String> {
    let text = std::fs::read_to_string(latest_path(out)).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["run_id"].as_str().map(str::to_owned)
}

/// `rel` under `out`, refusing anything that could leave it (absolute
/// paths, `..`): a journal is data read back from disk.
pub(crate) fn resolve(out: &Path, rel: &str) -> Result<PathBuf> {
    let path = Path::new(rel);
    let plain = !rel.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(invalid(
            out,
            format!("path `{rel}` is not a plain path inside the output folder"),
        ));
    }
    Ok(out.join(path))
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

fn invalid(out: &Path, message: String) -> Error {
    Error::Publish {
        path: Journal::path(out),
        message,
    }
}
