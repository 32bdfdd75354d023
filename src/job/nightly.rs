//! `microconv run`: the nightly job. Plans a [`Job`], runs it into a staging
//! directory, and publishes every table plus a manifest only when all of it
//! succeeded.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::progress::{InputDone, Observer, Silent};
use super::{Job, NodeResult, Prepared};
use crate::config::Settings;
use crate::dag::{Node, NodeKind};
use crate::error::Result;
use crate::input::{self, Discovery, InputCounts};
use crate::sink::manifest::{self, Manifest, TableEntry};
use crate::sink::{self, OutputLock, ParquetStore, Staging, TablesNotRun};

/// Options of one run that are not settings.
#[derive(Clone)]
pub struct RunOptions {
    pub select: Vec<String>,
    pub dry_run: bool,
    /// The clock, injectable for tests.
    pub now: fn() -> DateTime<Utc>,
    /// Write the HTML report after publishing (`--no-report` turns it off).
    pub report: bool,
    /// Told of each step as it happens (progress, logs).
    pub observer: Arc<dyn Observer>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            select: vec![],
            dry_run: false,
            now: Utc::now,
            report: true,
            observer: Arc::new(Silent),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub as_of: String,
    pub files: usize,
    pub counts: InputCounts,
    pub input_seconds: f64,
    pub input_peak_rss_bytes: Option<u64>,
    /// The process's peak resident memory, as the OS keeps it.
    pub peak_rss_bytes: Option<u64>,
    pub tables: Vec<TableEntry>,
    /// Every table in run order, internal ones marked in their name.
    pub stages: Vec<TableEntry>,
    pub seconds: f64,
    pub manifest: PathBuf,
    pub out_dir: PathBuf,
    /// The HTML report written after publishing, or why it was not.
    pub report: Option<std::result::Result<PathBuf, String>>,
}

/// A dry run's plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub discovery: Discovery,
    pub nodes: Vec<Node>,
    pub out_dir: PathBuf,
    pub as_of: Option<String>,
}

pub enum Outcome {
    Ran(RunSummary),
    Planned(Plan),
}

/// Run the job (or plan it, with `dry_run`).
pub async fn run(settings: Settings, opts: &RunOptions) -> Result<Outcome> {
    let started = Instant::now();
    let started_at = (opts.now)();
    // Everything that can fail on bad config, queries or missing input
    // fails here, before anything is written.
    let job = Job::new(settings, &opts.select)?
        .with_now(started_at)
        .with_observer(Arc::clone(&opts.observer));
    let settings = job.settings();
    let discovery = input::discover_any(
        job.context(),
        &settings.events,
        settings.as_of,
        &[&settings.out_dir],
        settings.input.format,
        &settings.storage,
    )
    .await?;
    if opts.dry_run {
        return Ok(Outcome::Planned(Plan {
            discovery,
            nodes: job.nodes().to_vec(),
            out_dir: settings.out_dir.clone(),
            as_of: settings.as_of.map(|d| d.to_string()),
        }));
    }
    let out = settings.out_dir.clone();
    let run_id = format!(
        "{}-{}",
        started_at.format("%Y%m%dT%H%M%S%3fZ"),
        std::process::id()
    );
    // an object-store or Delta output: its lock first, so that a missing
    // bucket, wrong credentials or another run fail before any work
    let exporter = match &settings.destination {
        Some(dest) => Some(sink::export::Exporter::begin(dest, &settings.storage, &run_id).await?),
        None => None,
    };
    // held until the export has read what the local publish left
    let lock = OutputLock::acquire(&out)?;
    let outcome = run_locally(&job, &discovery, &lock, &run_id, started_at, opts, started).await;
    let outcome = match (outcome, &exporter) {
        (Ok(mut summary), Some(exporter)) => {
            let dest = settings
                .destination
                .as_ref()
                .expect("an exporter has a destination");
            opts.observer.publishing();
            let rel = summary
                .manifest
                .strip_prefix(&out)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            match exporter.publish(&out, &rel, !opts.select.is_empty()).await {
                Ok((url, report)) => {
                    summary.manifest = PathBuf::from(url);
                    if let (Some(report), Some(Ok(_))) = (report, &summary.report) {
                        summary.report = Some(Ok(PathBuf::from(report)));
                    }
                    summary.out_dir = PathBuf::from(&dest.url);
                    Ok(summary)
                }
                Err(e) => Err(e),
            }
        }
        (other, _) => other,
    };
    if let Some(exporter) = exporter {
        exporter.release().await;
    }
    opts.observer.finished();
    outcome.map(Outcome::Ran)
}

/// Compute, stage and publish in the local folder `settings.out_dir`
/// (under its lock), then write the report there.
#[allow(clippy::too_many_arguments)]
async fn run_locally(
    job: &Job,
    discovery: &Discovery,
    lock: &OutputLock,
    run_id: &str,
    started_at: DateTime<Utc>,
    opts: &RunOptions,
    started: Instant,
) -> Result<RunSummary> {
    let out = job.settings().out_dir.clone();
    let staging = Staging::create(lock, run_id)?;
    opts.observer.run_started(run_id, job.nodes().len());
    let result = execute(job, discovery, staging.path()).await;
    if result.is_ok() {
        opts.observer.publishing();
    }
    let outcome = match result {
        Ok((prepared, results)) => finish(
            job, discovery, &staging, prepared, results, run_id, started_at, opts, started,
        ),
        Err(e) => Err(e),
    };
    match outcome {
        // the report reads what was just published, still under the lock
        Ok(mut summary) if opts.report => {
            summary.report = Some(
                crate::report::write(&out, &summary.as_of)
                    .await
                    .map_err(|e| crate::error::report(&e)),
            );
            Ok(summary)
        }
        other => other,
    }
}

async fn execute(
    job: &Job,
    discovery: &Discovery,
    staging: &Path,
) -> Result<(Prepared, Vec<NodeResult>)> {
    let store = ParquetStore {
        staging: staging.to_path_buf(),
    };
    let reading = Instant::now();
    let mut prepared = job.prepare_files(&discovery.files, &store).await?;
    prepared.seconds = reading.elapsed().as_secs_f64();
    tracing::info!(as_of = %prepared.as_of, events = prepared.event_rows, rejected = prepared.rejected_rows, "input mapped");
    job.observer().input_done(&InputDone {
        events: prepared.event_rows,
        rejected: prepared.rejected_rows,
        seconds: prepared.seconds,
        peak_rss_bytes: prepared.peak_rss_bytes,
    });
    let results = job.run(&prepared, &store).await?;
    Ok((prepared, results))
}

#[allow(clippy::too_many_arguments)]
fn finish(
    job: &Job,
    discovery: &Discovery,
    staging: &Staging,
    prepared: Prepared,
    results: Vec<NodeResult>,
    run_id: &str,
    started_at: DateTime<Utc>,
    opts: &RunOptions,
    started: Instant,
) -> Result<RunSummary> {
    let settings = job.settings();
    let nodes: &[Node] = job.nodes();
    let out = &settings.out_dir;
    let as_of = prepared.as_of.to_string();
    let rel = |t: &str| format!("{t}/as_of={as_of}");
    let mut tables = vec![TableEntry {
        name: "rejected_events".into(),
        path: rel("rejected_events"),
        rows: prepared.rejected_rows,
        seconds: 0.0,
        peak_rss_bytes: None,
        origin: "input".into(),
        query_path: None,
        query_sha256: None,
        columns: manifest::columns(&prepared.rejected_schema),
    }];
    let mut internal = Vec::new();
    let mut stages = vec![tables[0].clone()];
    for (node, r) in nodes.iter().zip(&results) {
        let (query_path, sha) = match &node.kind {
            NodeKind::Sql(q) => (Some(q.path.clone()), Some(q.sha256.clone())),
            NodeKind::Builtin(_) => (None, None),
        };
        let entry = TableEntry {
            name: r.name.clone(),
            path: if node.internal() {
                String::new()
            } else {
                rel(&r.name)
            },
            rows: r.rows,
            seconds: r.seconds,
            peak_rss_bytes: r.peak_rss_bytes,
            origin: node.origin().into(),
            query_path,
            query_sha256: sha,
            columns: manifest::columns(&r.schema),
        };
        stages.push(entry.clone());
        if node.internal() {
            stages.last_mut().expect("just pushed").name = format!("{} (internal)", entry.name);
            internal.push(entry);
        } else {
            tables.push(entry);
        }
    }
    let manifest = Manifest {
        microconv_version: env!("CARGO_PKG_VERSION"),
        run_id: run_id.to_string(),
        as_of: as_of.clone(),
        started_at: started_at.to_rfc3339(),
        finished_at: (opts.now)().to_rfc3339(),
        seconds: started.elapsed().as_secs_f64(),
        engine: settings.engine.describe(),
        config_path: settings.config_path.clone(),
        config_sha256: settings.config_sha256.clone(),
        config: serde_json::to_value(&settings.config).unwrap_or_default(),
        inputs: discovery.files.clone(),
        input_rows: prepared.counts.clone(),
        input_seconds: prepared.seconds,
        input_peak_rss_bytes: prepared.peak_rss_bytes,
        peak_rss_bytes: crate::peak_rss::process_peak(),
        tables: tables.clone(),
        internal_tables: internal,
    };
    let not_run = if opts.select.is_empty() {
        TablesNotRun::Drop
    } else {
        TablesNotRun::Keep
    };
    let manifest_path = sink::publish(staging, &manifest, not_run)?;
    Ok(RunSummary {
        as_of,
        files: discovery.files.len(),
        counts: prepared.counts,
        input_seconds: prepared.seconds,
        input_peak_rss_bytes: prepared.peak_rss_bytes,
        peak_rss_bytes: crate::peak_rss::process_peak(),
        tables,
        stages,
        seconds: started.elapsed().as_secs_f64(),
        manifest: manifest_path,
        out_dir: out.clone(),
        report: None,
    })
}
