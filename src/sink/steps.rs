//! The filesystem steps of publishing and recovery, each one counted, and
//! the fsync helpers that make them durable in the order the protocol needs.
//!
//! **Test hook.** With `MICROCONV_FAULT_AFTER_FS_STEPS=N` in its environment
//! the process aborts (`std::process::abort`: no destructor, no cleanup, as
//! after a SIGKILL) right after the Nth counted step of this process's
//! publish protocol (recovery of an earlier journal included), or when a
//! publish starts if N steps are already done (so `0` stops a run just
//! before it publishes). It exists so that the tests can crash the real
//! binary at every step; it is read once, and nothing else reads it.
//! `MICROCONV_FAULT_AFTER_EXPORT_STEPS` does the same for the requests of
//! a publish to an object store (`super::export`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The test-only fault hook's environment variable (see the module doc).
pub const FAULT_ENV: &str = "MICROCONV_FAULT_AFTER_FS_STEPS";

/// The export's fault hook: like [`FAULT_ENV`], counting the requests that
/// publishing to an object store makes (uploads, journal, copies,
/// deletes, manifests), recovery of an earlier journal included.
pub const EXPORT_FAULT_ENV: &str = "MICROCONV_FAULT_AFTER_EXPORT_STEPS";

/// A counter of steps that aborts the process after the Nth, N read once
/// from its environment variable.
struct FaultHook {
    env: &'static str,
    /// What its steps are, for the message.
    kind: &'static str,
    done: AtomicU64,
    limit: OnceLock<Option<u64>>,
}

impl FaultHook {
    const fn new(env: &'static str, kind: &'static str) -> FaultHook {
        FaultHook {
            env,
            kind,
            done: AtomicU64::new(0),
            limit: OnceLock::new(),
        }
    }

    fn limit(&self) -> Option<u64> {
        *self
            .limit
            .get_or_init(|| std::env::var(self.env).ok()?.trim().parse().ok())
    }

    fn abort(&self, after: u64, what: &str) -> ! {
        eprintln!(
            "{}: aborting after {} step {after} ({what})",
            self.env, self.kind
        );
        std::process::abort()
    }

    /// Count one step; abort here if the hook asks for it.
    fn count(&self, what: impl FnOnce() -> String) {
        let n = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if self.limit() == Some(n) {
            self.abort(n, &what());
        }
    }
}

static PUBLISH: FaultHook = FaultHook::new(FAULT_ENV, "filesystem");
static EXPORT: FaultHook = FaultHook::new(EXPORT_FAULT_ENV, "export");

/// Count one step of the local publish.
fn done(what: impl FnOnce() -> String) {
    PUBLISH.count(what)
}

/// Count one request of an export.
pub(crate) fn export_step(what: impl FnOnce() -> String) {
    EXPORT.count(what)
}

/// Called as a publish starts: the hook's `0` (or a limit that recovery
/// already reached) stops the process before its first step.
pub(crate) fn publish_starts() {
    let done = PUBLISH.done.load(Ordering::SeqCst);
    if PUBLISH.limit().is_some_and(|limit| limit <= done) {
        PUBLISH.abort(done, "publish starting");
    }
}

/// Rename `from` to `to` (one step).
pub(crate) fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|source| Error::Rename {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    })?;
    done(|| format!("rename {} -> {}", from.display(), to.display()));
    Ok(())
}

/// Create (or truncate) `path` with `bytes` and fsync it (one step).
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    file.write_all(bytes).map_err(|e| Error::io(path, e))?;
    file.sync_all().map_err(|e| Error::io(path, e))?;
    done(|| format!("write {}", path.display()));
    Ok(())
}

/// Remove the file at `path`; one that is already gone is fine (one step).
pub(crate) fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(path, e)),
    }
    done(|| format!("remove {}", path.display()));
    Ok(())
}

/// The temp file `write_atomic` writes `path` through: `.<name>.tmp` beside
/// it, which the sweep recognises as a leftover.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// Write `bytes` to `path` atomically and durably: a temp file beside it,
/// fsynced, renamed over `path`, then the directory fsynced (two steps).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = temp_path(path);
    write_synced(&tmp, bytes)?;
    rename(&tmp, path)?;
    sync_dir(dir);
    Ok(())
}

/// Create `dir` and its parents (not a counted step: an empty folder
/// changes nothing a reader or the recovery looks at).
pub(crate) fn create_dir_all(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// Make a directory's entries (renames into or out of it) durable. Some
/// platforms and file systems cannot fsync a directory; that is logged
/// and otherwise ignored, as it only matters after a power loss.
pub(crate) fn sync_dir(dir: &Path) {
    if let Err(e) = std::fs::File::open(dir).and_then(|d| d.sync_all()) {
        tracing::debug!("cannot fsync directory {}: {e}", dir.display());
    }
}

/// Fsync every file under `dir` and the directories themselves, so that
/// staged tables are on disk before the journal says they can be published.
pub(crate) fn sync_tree(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if kind.is_dir() {
            sync_tree(&path)?;
        } else if kind.is_file() {
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::io(&path, e))?;
        }
    }
    sync_dir(dir);
    Ok(())
}

/// Whether anything (file, folder, or a dangling symlink) is at `path`.
pub(crate) fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/latest.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
            1
        );
        assert_eq!(temp_path(&path), dir.path().join("sub/.latest.json.tmp"));
    }

    #[test]
    fn rename_error_names_both_paths() {
        let dir = tempfile::tempdir().unwrap();
        let err = rename(&dir.path().join("a"), &dir.path().join("b")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/a") && text.contains("/b"), "{text}");
    }
}
