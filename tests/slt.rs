//! Runs every `tests/slt/*.slt` file with sqllogictest against microconv's
//! own SessionContext (all functions registered). Two directives drive the
//! job from inside a file:
//!
//! - a statement whose SQL starts with `-- microconv:config` sets the config
//!   (the TOML follows on the next lines; no blank lines);
//! - `-- microconv:run [as_of=YYYY-MM-DD]` maps table `raw_events` through
//!   the real input layer and runs every query (results kept in memory), so
//!   `events`, `rejected_events` and every query table can then be queried.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use microconv::cli::CommonArgs;
use microconv::config::Settings;
use microconv::input;
use microconv::job::Job;
use microconv::sink::MemoryStore;
use sqllogictest::{DBOutput, DefaultColumnType};

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SltError(String);

fn err(e: impl std::error::Error) -> SltError {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    SltError(message)
}

/// A microconv error with its cause chain (which query failed, and why).
fn err_chain(e: microconv::Error) -> SltError {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    SltError(text)
}

/// The job whose session the statements of a file run in. Tables a file
/// creates (e.g. `raw_events`) live in that session.
pub struct Db {
    job: Job,
    config: String,
}

fn settings_from(text: &str, as_of: Option<String>) -> Result<Settings, SltError> {
    let args = CommonArgs {
        as_of,
        ..Default::default()
    };
    Settings::from_toml_with(text, &args).map_err(err)
}

impl Db {
    fn new() -> Result<Db, SltError> {
        let job = Job::new(settings_from("", None)?, &[]).map_err(err)?;
        Ok(Db {
            job,
            config: String::new(),
        })
    }

    /// Map table `raw_events` through the real input layer and run every
    /// query, in a job planned with the file's config and `as_of`.
    async fn run_job(&mut self, as_of: Option<String>) -> Result<(), SltError> {
        let raw = self
            .job
            .context()
            .table_provider("raw_events")
            .await
            .map_err(err)?;
        let job = Job::new(settings_from(&self.config, as_of)?, &[]).map_err(err_chain)?;
        let ctx = job.context();
        ctx.register_table("raw_events", raw).map_err(err)?;
        let mapped = input::map::map_source(
            ctx.table("raw_events").await.map_err(err)?,
            "raw_events",
            datafusion::prelude::lit("raw_events"),
            &job.settings().input,
        )
        .map_err(err)?;
        let prepared = job.prepare(mapped, &MemoryStore).await.map_err(err_chain)?;
        job.run(&prepared, &MemoryStore).await.map_err(err_chain)?;
        self.job = job;
        Ok(())
    }
}

fn format_value(array: &ArrayRef, row: usize, formatter: &ArrayFormatter) -> String {
    if array.is_null(row) {
        return "NULL".into();
    }
    match array.data_type() {
        DataType::Float64 => format_float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => format_float(f64::from(
            array
                .as_primitive::<datafusion::arrow::datatypes::Float32Type>()
                .value(row),
        )),
        _ => {
            let s = formatter.value(row).to_string();
            if s.is_empty() {
                "(empty)".into()
            } else {
                s
            }
        }
    }
}

/// Floats are printed rounded to 6 decimals, without trailing zeros.
fn format_float(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return v.to_string();
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn rows(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, SltError> {
    let options = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for b in batches {
        let formatters: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<_, _>>()
            .map_err(err)?;
        for r in 0..b.num_rows() {
            out.push(
                b.columns()
                    .iter()
                    .zip(&formatters)
                    .map(|(c, f)| format_value(c, r, f))
                    .collect(),
            );
        }
    }
    Ok(out)
}

#[async_trait]
impl sqllogictest::AsyncDB for Db {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let trimmed = sql.trim_start();
        if let Some(rest) = trimmed.strip_prefix("-- microconv:config") {
            self.config = rest.to_string();
            self.job = Job::new(settings_from(rest, None)?, &[]).map_err(err_chain)?;
            return Ok(DBOutput::StatementComplete(0));
        }
        if let Some(rest) = trimmed.strip_prefix("-- microconv:run") {
            let as_of = rest
                .trim()
                .strip_prefix("as_of=")
                .map(|s| s.trim().to_string());
            self.run_job(as_of).await?;
            return Ok(DBOutput::StatementComplete(0));
        }
        let df = self.job.context().sql(sql).await.map_err(err)?;
        let is_query = {
            let first = trimmed
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            matches!(
                first.as_str(),
                "SELECT" | "WITH" | "VALUES" | "EXPLAIN" | "SHOW" | "("
            )
        };
        let batches = df.collect().await.map_err(err)?;
        if !is_query {
            return Ok(DBOutput::StatementComplete(0));
        }
        let width = batches.first().map(|b| b.num_columns()).unwrap_or(0);
        Ok(DBOutput::Rows {
            types: vec![DefaultColumnType::Any; width],
            rows: rows(&batches)?,
        })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "microconv"
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await;
    }
}

fn slt_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/slt exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "slt"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_logic_tests() {
    let files = slt_files();
    assert!(!files.is_empty(), "no .slt files found");
    let mut failures = Vec::new();
    for file in &files {
        let mut runner = sqllogictest::Runner::new(|| async { Db::new() });
        if let Err(e) = runner.run_file_async(file).await {
            failures.push(format!("{}: {e}", file.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} slt file(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
