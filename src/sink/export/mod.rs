//! Publishing a run to a destination that is not the local output folder:
//! an object store (`s3://`, `gs://`, `az://`) or Delta Lake tables.
//!
//! The run itself is unchanged: it computes, stages and publishes in the
//! local work folder (`Settings::out_dir`) with the local protocol of
//! [`super::publish`], and writes its report there. Then the tables it
//! published are exported:
//!
//! - **Parquet on an object store** ([`parquet`]): uploaded under a
//!   run-specific prefix, committed by a journal, copied into place, and
//!   made visible to manifest readers by `_manifests/latest.json`, written
//!   last. See that module for the protocol and what readers see.
//! - **Delta** ([`delta`], local or remote): one commit per table that
//!   replaces the run's `as_of` partition, then the manifests.
//!
//! A destination has one writer at a time: [`Exporter::begin`] takes the
//! lock object `<out>/_microconv/lock.json` (created with a conditional
//! put, so two machines cannot both take it), then finishes a publish that
//! a killed run left and removes dead runs' uploads. `begin` runs before
//! any query, so a missing bucket, wrong credentials or a held lock fail
//! the run before anything is written anywhere.

mod parquet;

#[cfg(feature = "delta")]
mod delta;

use std::path::Path;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use super::steps::export_step;
use crate::config::sections::output::OutputFormat;
use crate::config::sections::storage::StorageConfig;
use crate::config::settings::Destination;
use crate::error::{Error, Result};
use crate::storage::{self, Remote};

/// The folder of microconv's own objects at the destination: the lock, the
/// publish journal, uploads not yet published. `_` hides it from Hive-style
/// readers (Spark, DuckDB, pyarrow skip `_` folders).
pub const CONTROL: &str = "_microconv";

/// Who holds a destination's lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LockHolder {
    run_id: String,
    host: String,
    pid: u32,
    since: String,
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether process `pid` of this host is gone (only answered on Linux;
/// elsewhere a lock is never presumed dead).
fn process_gone(pid: u32) -> bool {
    Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// A destination held by this run.
pub struct Exporter {
    target: Remote,
    format: OutputFormat,
    run_id: String,
    lock: ObjectPath,
    released: bool,
}

impl Exporter {
    /// Open `dest`, check that it can be listed, take its lock, then finish
    /// the publish a killed run left (its journal) and remove the uploads
    /// of dead runs.
    pub async fn begin(
        dest: &Destination,
        overrides: &StorageConfig,
        run_id: &str,
    ) -> Result<Exporter> {
        let target = storage::open_output(&dest.url, overrides)?;
        // a missing bucket or wrong credentials fail here, before any work
        target.list_one(&target.path).await?;
        let lock = key(&target.path, &format!("{CONTROL}/lock.json"));
        let mut exporter = Exporter {
            target,
            format: dest.format,
            run_id: run_id.to_string(),
            lock,
            released: true,
        };
        exporter.take_lock().await?;
        exporter.released = false;
        match exporter.recover().await {
            Ok(()) => Ok(exporter),
            Err(e) => {
                exporter.release().await;
                Err(e)
            }
        }
    }

    async fn take_lock(&self) -> Result<()> {
        let holder = LockHolder {
            run_id: self.run_id.clone(),
            host: this_host(),
            pid: std::process::id(),
            since: chrono::Utc::now().to_rfc3339(),
        };
        let body = serde_json::to_vec_pretty(&holder).expect("a lock holder serialises");
        for _attempt in 0..2 {
            let put = self
                .target
                .store
                .put_opts(
                    &self.lock,
                    PutPayload::from(body.clone()),
                    PutOptions::from(PutMode::Create),
                )
                .await;
            match put {
                Ok(_) => return Ok(()),
                Err(object_store::Error::AlreadyExists { .. }) => {}
                Err(e) => return Err(self.target.error(e)),
            }
            let other: Option<LockHolder> = match self.get(&self.lock).await? {
                Some(bytes) => serde_json::from_slice(&bytes).ok(),
                None => continue, // released meanwhile: try again
            };
            match other {
                Some(h) if h.host == holder.host && process_gone(h.pid) => {
                    tracing::warn!(
                        "taking over the lock of run {} (process {} on this host is gone)",
                        h.run_id,
                        h.pid
                    );
                    self.delete(&self.lock).await?;
                }
                Some(h) => {
                    return Err(Error::DestinationLocked {
                        url: self.url_of(&self.lock),
                        message: format!(
                            "run {} (process {} on {}) has held it since {}; if that run is dead, delete the lock object",
                            h.run_id, h.pid, h.host, h.since
                        ),
                    })
                }
                None => {
                    return Err(Error::DestinationLocked {
                        url: self.url_of(&self.lock),
                        message: "it cannot be read as a lock; delete it if no run is writing".into(),
                    })
                }
            }
        }
        Err(Error::DestinationLocked {
            url: self.url_of(&self.lock),
            message: "another run took it at the same time".into(),
        })
    }

    async fn recover(&self) -> Result<()> {
        // a Parquet publish that a killed run left, whatever this run writes
        parquet::recover(self).await?;
        // uploads of runs that died before their journal: never published
        let staging = key(&self.target.path, &format!("{CONTROL}/staging"));
        self.delete_prefix(&staging).await
    }

    /// Publish the tables that the run `manifest_rel` (relative to `work`)
    /// computed, its manifests and its report. Returns the URLs of the run
    /// manifest and of the report (when the run wrote one).
    ///
    /// `carry_over` (a `--select` run): the manifest also lists the tables
    /// of the destination's previous `latest.json` that this run did not
    /// compute, marked `from_run`, as the local publish does, but from
    /// what the destination holds rather than from the work folder.
    pub async fn publish(
        &self,
        work: &Path,
        manifest_rel: &str,
        carry_over: bool,
    ) -> Result<(String, Option<String>)> {
        let mut run = LocalRun::read(work, manifest_rel)?;
        let manifest = self.remote_manifest(&run, carry_over).await?;
        run.manifest = manifest.clone();
        run.latest = manifest;
        match self.format {
            OutputFormat::Parquet => parquet::publish(self, work, &run).await?,
            #[cfg(feature = "delta")]
            OutputFormat::Delta => delta::publish(self, work, &run).await?,
            #[cfg(not(feature = "delta"))]
            OutputFormat::Delta => unreachable!("refused by the settings without the feature"),
        }
        // the report is derived from the tables: uploaded after the commit
        let report = format!("report/as_of={}/index.html", run.as_of);
        let local = work.join(&report);
        let report_url = if local.exists() {
            let k = key(&self.target.path, &report);
            self.upload(&local, &k).await?;
            Some(self.url_of(&k))
        } else {
            None
        };
        Ok((
            self.url_of(&key(&self.target.path, manifest_rel)),
            report_url,
        ))
    }

    /// The manifest to install at the destination: the run's own tables
    /// (with Delta, each path is the table's folder), the format, and with
    /// `carry_over` the destination's previous tables this run did not
    /// compute.
    async fn remote_manifest(&self, run: &LocalRun, carry_over: bool) -> Result<Vec<u8>> {
        let mut json: serde_json::Value =
            serde_json::from_slice(&run.manifest).map_err(|e| Error::Publish {
                path: run.manifest_rel.clone().into(),
                message: e.to_string(),
            })?;
        json["format"] = self.format.name().into();
        let Some(tables) = json.get_mut("tables").and_then(|t| t.as_array_mut()) else {
            return Ok(run.manifest.clone());
        };
        // the work folder's carry-over may not be what the destination holds
        tables.retain(|t| t.get("from_run").is_none());
        if self.format == OutputFormat::Delta {
            for t in tables.iter_mut() {
                if let Some(name) = t["name"].as_str().map(str::to_string) {
                    t["path"] = name.into();
                }
            }
        }
        if carry_over {
            let latest = key(&self.target.path, "_manifests/latest.json");
            if let Some(bytes) = self.get(&latest).await? {
                let previous: serde_json::Value =
                    serde_json::from_slice(&bytes).unwrap_or_default();
                let listed: std::collections::BTreeSet<String> = tables
                    .iter()
                    .filter_map(|t| t["name"].as_str().map(str::to_owned))
                    .collect();
                for entry in previous["tables"].as_array().into_iter().flatten() {
                    let name = entry["name"].as_str().unwrap_or_default();
                    if name.is_empty() || listed.contains(name) {
                        continue;
                    }
                    let mut entry = entry.clone();
                    if entry.get("from_run").is_none() {
                        entry["from_run"] = previous["run_id"].clone();
                    }
                    tables.push(entry);
                }
            }
        }
        Ok(serde_json::to_vec_pretty(&json).expect("a manifest serialises"))
    }

    /// Give the lock back, if it is still this run's.
    pub async fn release(mut self) {
        self.released = true;
        self.delete_own_lock().await;
    }

    async fn delete_own_lock(&self) {
        let ours = match self.get(&self.lock).await {
            Ok(Some(bytes)) => {
                serde_json::from_slice::<LockHolder>(&bytes).is_ok_and(|h| h.run_id == self.run_id)
            }
            Ok(None) => false,
            Err(e) => {
                tracing::warn!("cannot read the lock: {}", crate::error::chain(&e));
                false
            }
        };
        if ours {
            if let Err(e) = self.target.store.delete(&self.lock).await {
                tracing::warn!("cannot remove the lock {}: {e}", self.url_of(&self.lock));
            }
        }
    }

    // --- requests, each a counted step of the fault hook ---

    fn url_of(&self, key: &ObjectPath) -> String {
        self.target.url_of(key)
    }

    fn error_at(&self, key: &ObjectPath, e: object_store::Error) -> Error {
        storage::storage_error(&self.url_of(key), e)
    }

    async fn get(&self, key: &ObjectPath) -> Result<Option<Bytes>> {
        match self.target.store.get(key).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(|e| self.error_at(key, e))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error_at(key, e)),
        }
    }

    async fn put(&self, key: &ObjectPath, bytes: Vec<u8>) -> Result<()> {
        self.target
            .store
            .put(key, PutPayload::from(bytes))
            .await
            .map_err(|e| self.error_at(key, e))?;
        export_step(|| format!("put {key}"));
        Ok(())
    }

    /// Upload a local file (in parts when it is large).
    async fn upload(&self, local: &Path, key: &ObjectPath) -> Result<()> {
        let mut file = tokio::fs::File::open(local)
            .await
            .map_err(|e| Error::io(local, e))?;
        let mut writer = object_store::buffered::BufWriter::new(
            std::sync::Arc::clone(&self.target.store),
            key.clone(),
        );
        let copied = tokio::io::copy(&mut file, &mut writer).await;
        let done = match copied {
            Ok(_) => tokio::io::AsyncWriteExt::shutdown(&mut writer).await,
            Err(e) => Err(e),
        };
        if let Err(e) = done {
            let _ = writer.abort().await;
            return Err(Error::Storage {
                url: self.url_of(key),
                message: format!("upload of {} failed: {e}", local.display()),
            });
        }
        export_step(|| format!("upload {key}"));
        Ok(())
    }

    async fn copy(&self, from: &ObjectPath, to: &ObjectPath) -> Result<()> {
        self.target
            .store
            .copy(from, to)
            .await
            .map_err(|e| self.error_at(to, e))?;
        export_step(|| format!("copy {from} -> {to}"));
        Ok(())
    }

    /// Delete one object; one already gone is fine.
    async fn delete(&self, key: &ObjectPath) -> Result<()> {
        match self.target.store.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(self.error_at(key, e)),
        }
        export_step(|| format!("delete {key}"));
        Ok(())
    }

    async fn list(&self, prefix: &ObjectPath) -> Result<Vec<ObjectPath>> {
        let mut keys: Vec<ObjectPath> = self
            .target
            .store
            .list(Some(prefix))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(|e| self.error_at(prefix, e))?;
        keys.sort();
        Ok(keys)
    }

    async fn delete_prefix(&self, prefix: &ObjectPath) -> Result<()> {
        for k in self.list(prefix).await? {
            self.delete(&k).await?;
        }
        Ok(())
    }
}

impl Drop for Exporter {
    /// A run stopped by a signal drops its future, and this with it: give
    /// the lock back on the way out (a publish it interrupted after its
    /// journal is finished by the next run).
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread {
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(self.delete_own_lock())
            });
        } else {
            tracing::warn!(
                "the lock {} was not released; the next run on this host takes it over",
                self.url_of(&self.lock)
            );
        }
    }
}

/// `prefix/rel` as a key.
fn key(prefix: &ObjectPath, rel: &str) -> ObjectPath {
    let mut k = prefix.clone();
    for part in rel.split('/').filter(|p| !p.is_empty()) {
        k = k.clone().join(part);
    }
    k
}

/// What the local publish of a run left in the work folder.
struct LocalRun {
    as_of: String,
    run_id: String,
    /// The run manifest's path relative to the output, and its bytes.
    manifest_rel: String,
    manifest: Vec<u8>,
    latest: Vec<u8>,
    /// `(name, <table>/as_of=<date>)` of each table this run computed.
    tables: Vec<(String, String)>,
}

impl LocalRun {
    fn read(work: &Path, manifest_rel: &str) -> Result<LocalRun> {
        let path = work.join(manifest_rel);
        let manifest = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let latest_path = work.join("_manifests").join("latest.json");
        let latest = std::fs::read(&latest_path).map_err(|e| Error::io(&latest_path, e))?;
        let bad = |m: String| Error::Publish {
            path: path.clone(),
            message: m,
        };
        let value: serde_json::Value =
            serde_json::from_slice(&manifest).map_err(|e| bad(e.to_string()))?;
        let text = |v: &serde_json::Value, k: &str| v[k].as_str().map(str::to_string);
        let tables = value["tables"]
            .as_array()
            .ok_or_else(|| bad("no `tables`".into()))?
            .iter()
            // carried over from an earlier run (`--select`): already there
            .filter(|t| t.get("from_run").is_none())
            .filter_map(|t| Some((text(t, "name")?, text(t, "path")?)))
            .filter(|(_, p)| !p.is_empty())
            .collect();
        Ok(LocalRun {
            as_of: text(&value, "as_of").ok_or_else(|| bad("no `as_of`".into()))?,
            run_id: text(&value, "run_id").ok_or_else(|| bad("no `run_id`".into()))?,
            manifest_rel: manifest_rel.to_string(),
            manifest,
            latest,
            tables,
        })
    }
}

/// Whether a file name in a table folder is data (not `_SUCCESS`, a
/// `.tmp`, a `_delta_log`).
fn is_data_file(name: &str) -> bool {
    !name.starts_with(['.', '_'])
}

/// The data files of a published local table folder, by name.
fn data_files(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_data_file(&name) && entry.path().is_file() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}
