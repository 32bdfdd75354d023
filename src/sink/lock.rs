//! The output lock: an OS advisory lock (`flock` on Unix, `LockFileEx` on
//! Windows) on `<out>/.lock`, held for the length of a run. The kernel
//! releases it when the process exits or dies, whatever its pid or
//! container, so a lock can neither be stranded by a killed run nor taken
//! over by two runs at once; what the file contains (the holder's pid, for
//! people; nothing, or pid 1, from older versions) does not matter.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{journal, sweep};
use crate::error::{Error, Result};

/// An exclusive lock on an output folder.
#[derive(Debug)]
pub struct OutputLock {
    out: PathBuf,
    path: PathBuf,
    _file: File,
}

impl OutputLock {
    /// Take the lock, or fail at once with `Error::Locked` if another
    /// process holds it. Then, as the folder's only writer, finish or undo
    /// a publish that a dead run left (see [`super::publish`]) and sweep
    /// dead runs' staging folders and temp files.
    pub fn acquire(out: &Path) -> Result<OutputLock> {
        let lock = Self::lock(out)?;
        journal::recover(&lock.out)?;
        sweep::sweep(&lock);
        Ok(lock)
    }

    /// Take the lock only.
    pub fn lock(out: &Path) -> Result<OutputLock> {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        let path = out.join(".lock");
        // A releasing holder removes the file before unlocking, so the file
        // locked may no longer be the one at `path`: then lock the new one.
        for _ in 0..100 {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Locked {
                        path: out.to_path_buf(),
                    })
                }
                Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
            }
            if is_file_at(&file, &path) {
                let mut file = file;
                // for people looking at the folder; the lock does not read it
                let _ = file
                    .set_len(0)
                    .and_then(|()| writeln!(file, "{}", std::process::id()));
                return Ok(OutputLock {
                    out: out.to_path_buf(),
                    path,
                    _file: file,
                });
            }
        }
        Err(Error::Locked {
            path: out.to_path_buf(),
        })
    }

    /// The locked output folder.
    pub fn out(&self) -> &Path {
        &self.out
    }
}

/// Whether `file` is the file at `path` (not one removed or replaced since).
#[cfg(unix)]
fn is_file_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Windows cannot remove an open file, so the file at `path` is this one.
#[cfg(not(unix))]
fn is_file_at(_file: &File, path: &Path) -> bool {
    path.exists()
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // remove the file while still holding the lock (closing the file
        // then releases it), so a folder without a run has no `.lock`
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_fails_while_held_and_succeeds_after() {
        let out = tempfile::tempdir().unwrap();
        let lock = OutputLock::acquire(out.path()).unwrap();
        let pid = std::fs::read_to_string(out.path().join(".lock")).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
        let err = OutputLock::acquire(out.path()).unwrap_err();
        assert!(matches!(err, Error::Locked { .. }), "{err}");
        assert_eq!(err.exit_code(), 1);
        drop(lock);
        assert!(!out.path().join(".lock").exists());
        assert!(OutputLock::acquire(out.path()).is_ok());
    }

    #[test]
    fn stale_lock_files_of_older_versions_do_not_block() {
        for content in ["", "1", "1\n", "999999999", "not a pid"] {
            let out = tempfile::tempdir().unwrap();
            std::fs::write(out.path().join(".lock"), content).unwrap();
            let lock = OutputLock::acquire(out.path());
            assert!(lock.is_ok(), "{content:?}: {:?}", lock.err());
        }
    }

    /// A holder in another process (a child that locks the file the way
    /// `flock(1)` does) blocks; its death releases the lock with no cleanup.
    #[cfg(target_os = "linux")]
    #[test]
    fn lock_held_by_a_killed_process_is_released_by_the_kernel() {
        let out = tempfile::tempdir().unwrap();
        let lock_path = out.path().join(".lock");
        std::fs::write(&lock_path, "").unwrap();
        let Ok(mut child) = std::process::Command::new("flock")
            .args(["--exclusive", "--close"])
            .arg(&lock_path)
            .args(["sh", "-c", "echo locked; exec sleep 10"])
            .stdout(std::process::Stdio::piped())
            .spawn()
        else {
            eprintln!("flock(1) not installed: cross-process lock test skipped");
            return;
        };
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
        assert_eq!(line.trim(), "locked");
        let err = OutputLock::acquire(out.path()).unwrap_err();
        assert!(matches!(err, Error::Locked { .. }), "{err}");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(OutputLock::acquire(out.path()).is_ok());
    }
}
