//! Finding input files: files, directories (recursive, Hive `key=value`
//! partitions) and globs. In a directory, the files of the `[input] format`
//! (by extension: `.parquet`/`.parq`, `.csv`/`.tsv`,
//! `.ndjson`/`.jsonl`/`.json`, or no extension at all), Parquet files when
//! no format is set. Hive `date=`/`dt=`/`event_date=`
//! partitions after the as-of date are skipped without being read.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::config::sections::input::InputFormat;
use crate::error::{Error, Result};

/// One input file: a local path, or the URL of an object
/// (`s3://bucket/key`, see [`discover_any`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InputFile {
    pub path: PathBuf,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Discovery {
    pub files: Vec<InputFile>,
    /// Files skipped because their date partition is after the as-of date.
    pub skipped_after_as_of: usize,
}

const DATE_KEYS: [&str; 3] = ["date", "dt", "event_date"];

/// Expand every spec; each must match at least one file.
pub fn discover(specs: &[String], as_of: Option<NaiveDate>) -> Result<Discovery> {
    discover_except(specs, as_of, &[], None)
}

/// [`discover`], never looking inside the folders in `skip` (the output
/// folder: a run must not read its own results back as input). Only
/// regular files are read: a FIFO, socket or device is skipped with a
/// warning (opening a FIFO would wait forever); a folder reached twice
/// through symlinks (a loop) is read once.
pub fn discover_except(
    specs: &[String],
    as_of: Option<NaiveDate>,
    skip: &[&Path],
    format: Option<InputFormat>,
) -> Result<Discovery> {
    let mut walker = Walker {
        skip: skip.iter().filter_map(|p| p.canonicalize().ok()).collect(),
        seen: Vec::new(),
        format,
    };
    if specs.is_empty() {
        return Err(Error::setting(
            "input.events",
            "no input given: set [input] events in the config or pass --events",
        ));
    }
    let mut out = Discovery::default();
    for spec in specs {
        let mut found = Vec::new();
        if spec.contains(['*', '?', '[']) {
            let paths = glob::glob(spec)
                .map_err(|e| Error::setting("input.events", format!("bad glob `{spec}`: {e}")))?;
            for entry in paths {
                let path = entry.map_err(|e| Error::io(e.path().to_path_buf(), e.into()))?;
                walker.visit(&path, &mut found)?;
            }
        } else {
            let path = PathBuf::from(spec);
            if path.exists() {
                walker.visit(&path, &mut found)?;
            }
        }
        if found.is_empty() {
            return Err(Error::NoInputFiles { spec: spec.clone() });
        }
        found.sort();
        for path in found {
            if let (Some(as_of), Some(date)) = (as_of, partition_date(&path)) {
                if date > as_of {
                    out.skipped_after_as_of += 1;
                    continue;
                }
            }
            let bytes = std::fs::metadata(&path)
                .map_err(|e| Error::io(&path, e))?
                .len();
            if !out.files.iter().any(|f| f.path == path) {
                out.files.push(InputFile { path, bytes });
            }
        }
    }
    Ok(out)
}

/// [`discover_except`] for specs that may be object-store URLs
/// (`s3://bucket/events/`, `gs://bucket/events/date=*/*.parquet`): each
/// URL's store is registered on `ctx`, its objects listed (a key prefix is
/// walked like a folder: hidden and `_` entries skipped, files of the
/// format kept; a glob matches whole keys), Hive dates after the as-of date
/// skipped. An input file's `path` is then its URL. Local specs go through
/// [`discover_except`] unchanged. A failing listing (no such bucket, no
/// credentials, access denied) is an error naming the URL.
pub async fn discover_any(
    ctx: &datafusion::prelude::SessionContext,
    specs: &[String],
    as_of: Option<NaiveDate>,
    skip: &[&Path],
    format: Option<InputFormat>,
    storage: &crate::config::sections::storage::StorageConfig,
) -> Result<Discovery> {
    let (remote, local): (Vec<&String>, Vec<&String>) =
        specs.iter().partition(|s| crate::storage::is_remote(s));
    let mut out = if local.is_empty() && !remote.is_empty() {
        Discovery::default()
    } else {
        // no specs at all is discover_except's error
        let local: Vec<String> = local
            .into_iter()
            .map(|s| crate::storage::local_path(s))
            .collect();
        discover_except(&local, as_of, skip, format)?
    };
    for spec in remote {
        let store = crate::storage::open(spec, storage)?;
        store.register(ctx);
        let mut found: Vec<(String, u64)> = Vec::new();
        let key = store.path.as_ref().to_string();
        if let Some(at) = key.find(['*', '?', '[']) {
            let pattern = glob::Pattern::new(&key)
                .map_err(|e| Error::setting("input.events", format!("bad glob `{spec}`: {e}")))?;
            // list from the last whole folder before the first wildcard
            let prefix = key[..at].rsplit_once('/').map(|(p, _)| p).unwrap_or("");
            let options = glob::MatchOptions {
                require_literal_separator: true,
                ..Default::default()
            };
            for meta in store.list(&prefix.into()).await? {
                let k = meta.location.as_ref();
                if pattern.matches_with(k, options) && !hidden_below(k, prefix) {
                    found.push((store.url_of(&meta.location), meta.size));
                }
            }
        } else if let Some(meta) = store.head().await? {
            found.push((store.url_of(&meta.location), meta.size));
        } else {
            for meta in store.list(&store.path).await? {
                let k = meta.location.as_ref();
                let name = k.rsplit('/').next().unwrap_or(k);
                if !hidden_below(k, &key) && wanted(format, name) {
                    found.push((store.url_of(&meta.location), meta.size));
                }
            }
        }
        if found.is_empty() {
            return Err(Error::NoInputFiles { spec: spec.clone() });
        }
        found.sort();
        for (url, bytes) in found {
            let path = PathBuf::from(url);
            if let (Some(as_of), Some(date)) = (as_of, partition_date(&path)) {
                if date > as_of {
                    out.skipped_after_as_of += 1;
                    continue;
                }
            }
            if !out.files.iter().any(|f| f.path == path) {
                out.files.push(InputFile { path, bytes });
            }
        }
    }
    Ok(out)
}

/// Whether a key has a hidden or `_` segment (`_SUCCESS`, `.tmp`,
/// `_delta_log/`) below the listed prefix.
fn hidden_below(key: &str, prefix: &str) -> bool {
    key.strip_prefix(prefix)
        .unwrap_or(key)
        .split('/')
        .any(|seg| seg.starts_with('.') || seg.starts_with('_'))
}

/// Collects input files, remembering the folders it has been in.
struct Walker {
    /// Canonical paths of folders never to enter (nor anything under them).
    skip: Vec<PathBuf>,
    /// Canonical paths of the folders walked.
    seen: Vec<PathBuf>,
    /// Only files of this format in folders (Parquet when `None`).
    format: Option<InputFormat>,
}

/// Whether a file named `name` in a folder is input: a Parquet file, or,
/// when `[input] format` is set, a file of that format (or with no
/// extension at all, as exports are often named). A folder of Parquet files
/// often holds JSON or CSV beside them that is not events (metadata, ground
/// truth, a data dictionary): CSV and NDJSON files are read when named, by
/// a path or a glob, or with the format set.
fn wanted(format: Option<InputFormat>, name: &str) -> bool {
    match InputFormat::of_file(name) {
        Some(found) => found == format.unwrap_or(InputFormat::Parquet),
        None => format.is_some() && !name.contains('.'),
    }
}

/// The compression extension of a named file (`x.csv.gz`), which the
/// readers would otherwise take for a Parquet file with a corrupt footer.
fn compressed(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    [
        "gz", "gzip", "bz2", "xz", "zst", "zstd", "zip", "lz4", "snappy",
    ]
    .contains(&ext.as_str())
    .then_some(ext)
}

impl Walker {
    /// A file named by the user, or a folder to walk.
    fn visit(&mut self, path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            self.walk(path, out)
        } else if meta.is_file() {
            if let Some(ext) = compressed(path) {
                return Err(Error::InputFile {
                    path: path.to_path_buf(),
                    message: format!(
                        "compressed input (.{ext}) is not read: decompress it, or convert it \
                         to Parquet"
                    ),
                });
            }
            out.push(path.to_path_buf());
            Ok(())
        } else {
            tracing::warn!(path = %path.display(), "skipped: not a regular file");
            Ok(())
        }
    }

    /// Recursively collect data files, skipping hidden and `_` entries
    /// (`_SUCCESS`, `.crc`, in-progress writes).
    fn walk(&mut self, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let real = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
        if self.seen.contains(&real) || self.skip.iter().any(|s| real.starts_with(s)) {
            tracing::debug!(path = %dir.display(), "skipped: already read or the output folder");
            return Ok(());
        }
        self.seen.push(real);
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            let path = entry.path();
            let Ok(meta) = std::fs::metadata(&path) else {
                tracing::warn!(path = %path.display(), "skipped: a broken symlink");
                continue;
            };
            if meta.is_dir() {
                self.walk(&path, out)?;
            } else if !wanted(self.format, &name) {
                continue;
            } else if meta.is_file() {
                out.push(path);
            } else {
                tracing::warn!(path = %path.display(), "skipped: not a regular file");
            }
        }
        Ok(())
    }
}

/// The date of a Hive partition segment (`date=2026-01-31`) in `path`.
pub fn partition_date(path: &Path) -> Option<NaiveDate> {
    path.components().rev().find_map(|c| {
        let seg = c.as_os_str().to_str()?;
        let (key, value) = seg.split_once('=')?;
        if DATE_KEYS.contains(&key) {
            NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_dates_are_read_from_any_segment() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 31);
        assert_eq!(
            partition_date(Path::new("x/date=2026-01-31/part-0.parquet")),
            d
        );
        assert_eq!(
            partition_date(Path::new("x/dt=2026-01-31/h=3/part-0.parquet")),
            d
        );
        assert_eq!(partition_date(Path::new("x/date=notadate/p.parquet")), None);
        assert_eq!(partition_date(Path::new("x/p.parquet")), None);
    }

    #[test]
    fn partitions_after_as_of_are_skipped_and_missing_input_is_named() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["2026-01-01", "2026-01-02", "2026-01-03"] {
            let p = dir.path().join(format!("date={d}"));
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("part-0.parquet"), b"x").unwrap();
            std::fs::write(p.join("_SUCCESS"), b"").unwrap();
        }
        let spec = vec![dir.path().display().to_string()];
        let all = discover(&spec, None).unwrap();
        assert_eq!(all.files.len(), 3);
        let some = discover(&spec, NaiveDate::from_ymd_opt(2026, 1, 2)).unwrap();
        assert_eq!(some.files.len(), 2);
        assert_eq!(some.skipped_after_as_of, 1);
        // a symlink loop is read once; a skipped folder not at all
        std::os::unix::fs::symlink(dir.path(), dir.path().join("date=2026-01-01/loop")).unwrap();
        assert_eq!(discover(&spec, None).unwrap().files.len(), 3);
        let skip = dir.path().join("date=2026-01-03");
        let fewer = discover_except(&spec, None, &[skip.as_path()], None).unwrap();
        assert_eq!(fewer.files.len(), 2);
        let err = discover(&["nope/*.parquet".to_string()], None).unwrap_err();
        assert!(err.to_string().contains("nope/*.parquet"));
    }
}
