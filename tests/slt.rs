//! Runs every `tests/slt/*.slt` file with sqllogictest against microconv's
//! own SessionContext (all functions registered), one test per file, like
//! DataFusion's runner: column types are checked as well as values, and every
//! failing record of a file is reported, not only the first.
//!
//! Two directives drive the job from inside a file:
//!
//! - a statement whose SQL starts with `-- microconv:config` sets the config
//!   (the TOML follows on the next lines; no blank lines);
//! - `-- microconv:run [as_of=YYYY-MM-DD]` maps table `raw_events` through
//!   the real input layer and runs every query (results kept in memory), so
//!   `events`, `rejected_events` and every query table can then be queried.
//!
//! `MICROCONV_SLT_COMPLETE=1 cargo test --test tests slt` rewrites the files'
//! expected types and rows with what the engine returns (review the diff).

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
use sqllogictest::{
    default_normalizer, default_validator, strict_column_validator, DBOutput, Record, Runner,
};

/// The environment variable that turns the tests into `--complete` mode.
const COMPLETE: &str = "MICROCONV_SLT_COMPLETE";

/// One test per `.slt` file (file names are Rust identifiers). A file
/// missing here fails `every_slt_file_has_a_test`.
macro_rules! slt_files {
    ($($name:ident),* $(,)?) => {
        const FILES: &[&str] = &[$(stringify!($name)),*];
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                run_file(stringify!($name)).await;
            }
        )*
    };
}

slt_files!(
    attribution,
    audiences,
    clv_functions,
    clv_pipeline,
    clv_rfm,
    experiments,
    foundation,
    funnel_friction,
    funnel_function,
    funnels,
    lift,
    markov,
    ordered_agg,
    path_edges,
    rowwise,
    shared_rules,
    source_sessions,
    stats,
);

/// The column type letters of DataFusion's sqllogictest files: B boolean,
/// D date or time of day, I integer, P timestamp, R float or decimal,
/// T text, `?` anything else (lists, structs, intervals...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    Boolean,
    DateTime,
    Integer,
    Timestamp,
    Float,
    Text,
    Another,
}

impl sqllogictest::ColumnType for ColumnType {
    fn from_char(value: char) -> Option<Self> {
        Some(match value {
            'B' => Self::Boolean,
            'D' => Self::DateTime,
            'I' => Self::Integer,
            'P' => Self::Timestamp,
            'R' => Self::Float,
            'T' => Self::Text,
            _ => Self::Another,
        })
    }

    fn to_char(&self) -> char {
        match self {
            Self::Boolean => 'B',
            Self::DateTime => 'D',
            Self::Integer => 'I',
            Self::Timestamp => 'P',
            Self::Float => 'R',
            Self::Text => 'T',
            Self::Another => '?',
        }
    }
}

fn column_type(data_type: &DataType) -> ColumnType {
    use DataType::*;
    match data_type {
        Boolean => ColumnType::Boolean,
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => ColumnType::Integer,
        Float16 | Float32 | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..)
        | Decimal256(..) => ColumnType::Float,
        Utf8 | LargeUtf8 | Utf8View => ColumnType::Text,
        Dictionary(_, value) => match column_type(value) {
            ColumnType::Text => ColumnType::Text,
            _ => ColumnType::Another,
        },
        Date32 | Date64 | Time32(_) | Time64(_) => ColumnType::DateTime,
        Timestamp(..) => ColumnType::Timestamp,
        _ => ColumnType::Another,
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SltError(String);

/// An error with its cause chain (which query failed, and why).
fn err(e: impl std::error::Error) -> SltError {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    SltError(message)
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
        let job = Job::new(settings_from(&self.config, as_of)?, &[]).map_err(err)?;
        let ctx = job.context();
        ctx.register_table("raw_events", raw).map_err(err)?;
        let mapped = input::map::map_source(
            ctx.table("raw_events").await.map_err(err)?,
            "raw_events",
            datafusion::prelude::lit("raw_events"),
            &job.settings().input,
        )
        .map_err(err)?;
        let prepared = job.prepare(mapped, &MemoryStore).await.map_err(err)?;
        job.run(&prepared, &MemoryStore).await.map_err(err)?;
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
    type ColumnType = ColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<ColumnType>, SltError> {
        let trimmed = sql.trim_start();
        if let Some(rest) = trimmed.strip_prefix("-- microconv:config") {
            self.config = rest.to_string();
            self.job = Job::new(settings_from(rest, None)?, &[]).map_err(err)?;
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
        let first = trimmed
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let is_query = matches!(
            first.as_str(),
            "SELECT" | "WITH" | "VALUES" | "EXPLAIN" | "SHOW" | "("
        );
        // Types come from the plan's schema, so an empty result has them too.
        let types = df
            .schema()
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        let batches = df.collect().await.map_err(err)?;
        if !is_query {
            return Ok(DBOutput::StatementComplete(0));
        }
        Ok(DBOutput::Rows {
            types,
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

fn slt_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt")
}

/// Run one file (or, in complete mode, rewrite its expectations) and fail
/// with every record that did not pass.
async fn run_file(name: &str) {
    let path = slt_dir().join(format!("{name}.slt"));
    let mut runner = Runner::new(|| async { Db::new() });
    runner.with_column_validator(strict_column_validator);
    if std::env::var_os(COMPLETE).is_some_and(|v| v != "0" && !v.is_empty()) {
        runner
            .update_test_file(
                &path,
                " ",
                default_validator,
                default_normalizer,
                strict_column_validator,
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("{}: expectations rewritten", path.display());
        return;
    }
    let records =
        sqllogictest::parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut failures = Vec::new();
    for record in records {
        if let Record::Halt { .. } = record {
            break;
        }
        if let Err(e) = runner.run_async(record).await {
            failures.push(e.display(false).to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{} record(s) of {} failed:\n\n{}",
        failures.len(),
        path.display(),
        failures.join("\n\n")
    );
}

/// Every `.slt` file is run: a new file needs its name in `slt_files!`.
#[test]
fn every_slt_file_has_a_test() {
    let on_disk: Vec<String> = std::fs::read_dir(slt_dir())
        .expect("tests/slt exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "slt"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let missing: Vec<&String> = on_disk
        .iter()
        .filter(|f| !FILES.contains(&f.as_str()))
        .collect();
    let gone: Vec<&&str> = FILES
        .iter()
        .filter(|f| !on_disk.iter().any(|d| d == *f))
        .collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "slt_files! in tests/slt.rs: add {missing:?}, remove {gone:?}"
    );
}
