//! Removing what dead runs left in the output folder: their staging folders
//! (`.staging/<run_id>`, a full copy of the outputs each) and the temp files
//! of interrupted atomic writes (`.<name>.tmp` in the output folder and in
//! `_manifests`). Only the lock holder sweeps, after recovery, so nothing
//! swept belongs to a live run or is still needed.

use std::path::Path;

use super::publish::STAGING_ROOT;
use super::OutputLock;

/// What a sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub entries: usize,
    pub bytes: u64,
}

/// Sweep `lock`'s output folder and log what was freed. A leftover that
/// cannot be removed is logged and left for the next run.
pub fn sweep(lock: &OutputLock) -> Swept {
    let out = lock.out();
    let mut swept = Swept::default();
    let staging = out.join(STAGING_ROOT);
    for entry in entries(&staging) {
        remove(&entry.path(), &mut swept);
    }
    let _ = std::fs::remove_dir(&staging);
    for dir in [out.to_path_buf(), out.join("_manifests")] {
        for entry in entries(&dir) {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if is_file && name.starts_with('.') && name.ends_with(".tmp") {
                remove(&entry.path(), &mut swept);
            }
        }
    }
    if swept.entries > 0 {
        tracing::warn!(
            entries = swept.entries,
            bytes = swept.bytes,
            "removed {} leftover(s) of interrupted runs from {}, freeing {}",
            swept.entries,
            out.display(),
            human_bytes(swept.bytes)
        );
    }
    swept
}

fn entries(dir: &Path) -> Vec<std::fs::DirEntry> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.flatten().collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            tracing::warn!("cannot list {}: {e}", dir.display());
            Vec::new()
        }
    }
}

fn remove(path: &Path, swept: &mut Swept) {
    let bytes = size(path);
    let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    let removed = if is_dir {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match removed {
        Ok(()) => {
            swept.entries += 1;
            swept.bytes += bytes;
        }
        Err(e) => tracing::warn!("cannot remove {}: {e}", path.display()),
    }
}

/// Bytes of the files under `path` (symlinks are not followed).
fn size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    entries(path).iter().map(|e| size(&e.path())).sum()
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64;
    let mut unit = "";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    format!("{value:.1} {unit} ({bytes} bytes)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_dead_staging_and_temp_files_and_counts_their_bytes() {
        let out = tempfile::tempdir().unwrap();
        let o = out.path();
        std::fs::create_dir_all(o.join(".staging/run-a/sessions")).unwrap();
        std::fs::write(
            o.join(".staging/run-a/sessions/part-00000.parquet"),
            [0u8; 1000],
        )
        .unwrap();
        std::fs::create_dir_all(o.join(".staging/run-b/.replaced/t")).unwrap();
        std::fs::write(o.join(".staging/run-b/.replaced/t/f"), [0u8; 200]).unwrap();
        std::fs::create_dir_all(o.join("_manifests")).unwrap();
        std::fs::write(o.join("_manifests/.latest.json.tmp"), [0u8; 30]).unwrap();
        std::fs::write(o.join(".publish-journal.json.tmp"), [0u8; 4]).unwrap();
        // not ours: kept
        std::fs::write(o.join("_manifests/notes.tmp"), b"mine").unwrap();
        std::fs::create_dir_all(o.join("sessions/as_of=2026-03-01")).unwrap();
        std::fs::write(o.join("sessions/as_of=2026-03-01/.x.tmp"), b"x").unwrap();

        let lock = OutputLock::lock(o).unwrap();
        let swept = sweep(&lock);
        assert_eq!(
            swept,
            Swept {
                entries: 4,
                bytes: 1000 + 200 + 30 + 4
            }
        );
        assert!(!o.join(".staging").exists());
        assert!(!o.join("_manifests/.latest.json.tmp").exists());
        assert!(o.join("_manifests/notes.tmp").exists());
        assert!(o.join("sessions/as_of=2026-03-01/.x.tmp").exists());
        // nothing left: a second sweep finds nothing
        assert_eq!(sweep(&lock), Swept::default());
    }

    #[test]
    fn bytes_are_shown_in_binary_units() {
        assert_eq!(human_bytes(12), "12 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB (1536 bytes)");
        assert_eq!(
            human_bytes(3 * 1024 * 1024 * 1024),
            "3.0 GiB (3221225472 bytes)"
        );
    }
}
