//! How a run shows its progress on stderr. On a terminal: a bar with the
//! stage, the table being computed, n of m and the elapsed time
//! (`indicatif`, redrawn in place). Elsewhere (cron, a pipe): one plain
//! line per finished stage, so a log shows how far a run got. With
//! `--log-format json`: one structured record per stage through `tracing`
//! (run id, table, rows, seconds, peak memory), for log collectors.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::summary::thousands;
use super::LogFormat;
use crate::job::progress::{InputDone, Observer};
use crate::job::NodeResult;

/// Install the log subscriber: `MICROCONV_LOG` filters (default `warn`,
/// and `info` for microconv's own records in JSON, which carry the run's
/// progress); JSON writes one object per line.
/// `serves`: a long-running role (a Ballista scheduler or executor), whose
/// operators want its info records (registrations, tasks) by default.
pub fn init_logging(format: LogFormat, serves: bool) {
    use tracing_subscriber::EnvFilter;
    // (Ballista's scheduler logs its failures to attach task metrics to a
    // plan's display as errors; they change nothing in the run)
    let default = match format {
        _ if serves => "info,ballista_scheduler::display=off",
        LogFormat::Text => "warn,ballista_scheduler::display=off",
        LogFormat::Json => "warn,microconv=info,ballista_scheduler::display=off",
    };
    let filter = EnvFilter::try_from_env("MICROCONV_LOG").unwrap_or_else(|_| default.into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().with_current_span(false).init(),
    }
}

/// The observer for where stderr goes and the chosen log format.
pub fn for_stderr(format: LogFormat) -> Arc<dyn Observer> {
    match format {
        LogFormat::Json => Arc::new(Records::default()),
        LogFormat::Text if std::io::stderr().is_terminal() => Arc::new(Bar::new()),
        LogFormat::Text => Arc::new(Lines::default()),
    }
}

fn mb(bytes: Option<u64>) -> String {
    bytes
        .map(|b| format!(", peak {:.0} MB", b as f64 / 1e6))
        .unwrap_or_default()
}

/// The run's id and table count, once it started.
#[derive(Default)]
struct RunInfo {
    run_id: String,
    tables: usize,
}

/// A progress bar on a terminal.
struct Bar {
    bar: ProgressBar,
}

impl Bar {
    fn new() -> Bar {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Bar { bar }
    }
}

impl Observer for Bar {
    fn run_started(&self, _run_id: &str, tables: usize) {
        self.bar.set_length(tables as u64);
        self.bar
            .set_message("input: reading and mapping the events");
        self.bar.enable_steady_tick(Duration::from_millis(200));
    }
    fn input_done(&self, d: &InputDone) {
        self.bar.println(format!(
            "input: {} events, {} rejected in {:.1} s",
            thousands(d.events),
            thousands(d.rejected),
            d.seconds
        ));
    }
    fn table_started(&self, _index: usize, name: &str) {
        self.bar.set_message(format!("computing {name}"));
    }
    fn table_done(&self, _index: usize, r: &NodeResult, _internal: bool) {
        self.bar.inc(1);
        if r.seconds >= 1.0 {
            self.bar.println(format!(
                "{}: {} rows in {:.1} s",
                r.name,
                thousands(r.rows),
                r.seconds
            ));
        }
    }
    fn publishing(&self) {
        self.bar.set_message("publishing");
    }
    fn finished(&self) {
        self.bar.finish_and_clear();
    }
}

/// A plain line per finished stage (stderr is not a terminal), numbered
/// in the order they finish (tables can run side by side).
#[derive(Default)]
struct Lines {
    info: Mutex<RunInfo>,
    done: AtomicUsize,
}

impl Observer for Lines {
    fn run_started(&self, run_id: &str, tables: usize) {
        if let Ok(mut i) = self.info.lock() {
            *i = RunInfo {
                run_id: run_id.into(),
                tables,
            };
        }
        eprintln!("run {run_id}: input, then {tables} tables");
    }
    fn input_done(&self, d: &InputDone) {
        eprintln!(
            "input: {} events, {} rejected in {:.2} s{}",
            thousands(d.events),
            thousands(d.rejected),
            d.seconds,
            mb(d.peak_rss_bytes)
        );
    }
    fn table_done(&self, _index: usize, r: &NodeResult, internal: bool) {
        let tables = self.info.lock().map(|i| i.tables).unwrap_or(0);
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        eprintln!(
            "[{done}/{tables}] {}{}: {} rows in {:.2} s{}",
            r.name,
            if internal { " (internal)" } else { "" },
            thousands(r.rows),
            r.seconds,
            mb(r.peak_rss_bytes)
        );
    }
    fn publishing(&self) {
        eprintln!("publishing");
    }
}

/// Structured records through `tracing` (formatted as JSON by the
/// subscriber `--log-format json` installs).
#[derive(Default)]
struct Records {
    info: Mutex<RunInfo>,
}

impl Records {
    fn run_id(&self) -> String {
        self.info
            .lock()
            .map(|i| i.run_id.clone())
            .unwrap_or_default()
    }
}

impl Observer for Records {
    fn run_started(&self, run_id: &str, tables: usize) {
        if let Ok(mut i) = self.info.lock() {
            *i = RunInfo {
                run_id: run_id.into(),
                tables,
            };
        }
        tracing::info!(run_id, tables, "run started");
    }
    fn input_done(&self, d: &InputDone) {
        let run_id = self.run_id();
        tracing::info!(
            run_id = run_id.as_str(),
            table = "events",
            rows = d.events,
            rejected = d.rejected,
            seconds = d.seconds,
            peak_rss_bytes = d.peak_rss_bytes,
            "input done"
        );
    }
    fn table_done(&self, index: usize, r: &NodeResult, internal: bool) {
        let tables = self.info.lock().map(|i| i.tables).unwrap_or(0);
        let run_id = self.run_id();
        tracing::info!(
            run_id = run_id.as_str(),
            table = r.name.as_str(),
            internal,
            index = index + 1,
            tables,
            rows = r.rows,
            seconds = r.seconds,
            peak_rss_bytes = r.peak_rss_bytes,
            "table done"
        );
    }
    fn publishing(&self) {
        let run_id = self.run_id();
        tracing::info!(run_id = run_id.as_str(), "publishing");
    }
}
