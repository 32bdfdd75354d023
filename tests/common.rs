//! Shared helpers: a small hand-made events Parquet file, a temp project
//! with a config, and a runner for the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use microconv::config::Settings;
use microconv::job::Job;
use microconv::sink::MemoryStore;
use parquet::arrow::ArrowWriter;

/// One event of the fixture: (event_id, user_id, micros, event_name, page, revenue, medium).
type Row = (
    &'static str,
    Option<&'static str>,
    i64,
    &'static str,
    &'static str,
    Option<f64>,
    &'static str,
);

const MIN: i64 = 60_000_000;
/// 2026-03-01T00:00:00Z in microseconds.
pub const DAY0: i64 = 1_772_323_200_000_000;

/// 3 users, 4 sessions, 2 purchases (50 + 20), 1 row without a user.
pub fn fixture_rows() -> Vec<Row> {
    vec![
        (
            "e1",
            Some("u1"),
            DAY0 + 600 * MIN,
            "page_view",
            "/",
            None,
            "organic",
        ),
        (
            "e2",
            Some("u1"),
            DAY0 + 605 * MIN,
            "product_view",
            "/p/1",
            None,
            "organic",
        ),
        (
            "e3",
            Some("u1"),
            DAY0 + 608 * MIN,
            "add_to_cart",
            "/p/1",
            None,
            "organic",
        ),
        (
            "e4",
            Some("u1"),
            DAY0 + 610 * MIN,
            "purchase",
            "/checkout",
            Some(50.0),
            "organic",
        ),
        (
            "e5",
            Some("u1"),
            DAY0 + 900 * MIN,
            "page_view",
            "/",
            None,
            "email",
        ),
        (
            "e6",
            Some("u2"),
            DAY0 + 700 * MIN,
            "page_view",
            "/",
            None,
            "cpc",
        ),
        (
            "e7",
            Some("u2"),
            DAY0 + 1440 * MIN + 60 * MIN,
            "purchase",
            "/checkout",
            Some(20.0),
            "cpc",
        ),
        (
            "e8",
            Some("u3"),
            DAY0 + 1440 * MIN + 120 * MIN,
            "page_view",
            "/blog",
            None,
            "referral",
        ),
        (
            "e9",
            None,
            DAY0 + 1440 * MIN + 130 * MIN,
            "page_view",
            "/",
            None,
            "referral",
        ),
    ]
}

pub fn write_events(path: &Path, rows: &[Row]) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Utf8, false),
        Field::new("user_id", DataType::Utf8, true),
        Field::new(
            "event_time",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("event_name", DataType::Utf8, false),
        Field::new("page", DataType::Utf8, true),
        Field::new("revenue", DataType::Float64, true),
        Field::new("medium", DataType::Utf8, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| Some(r.0)).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| r.1).collect::<StringArray>()),
        Arc::new(
            TimestampMicrosecondArray::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())
                .with_timezone("UTC"),
        ),
        Arc::new(rows.iter().map(|r| Some(r.3)).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| Some(r.4)).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| r.5).collect::<Float64Array>()),
        Arc::new(rows.iter().map(|r| Some(r.6)).collect::<StringArray>()),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

pub const CONFIG: &str = r#"
[input]
events = ["events"]
[[conversions]]
name = "add_to_cart"
kind = "micro"
stage = "BOF"
when = "event_name = 'add_to_cart'"
[[conversions]]
name = "purchase"
kind = "macro"
when = "event_name = 'purchase'"
value = "revenue"
[output]
dir = "out"
"#;

/// A temp project: `microconv.toml`, `events/part-0.parquet`, `my_queries/`.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("microconv.toml"), CONFIG).unwrap();
        write_events(&dir.path().join("events/part-0.parquet"), &fixture_rows());
        std::fs::create_dir_all(dir.path().join("my_queries")).unwrap();
        Project { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Run the binary in the project directory.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_microconv"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("MICROCONV_OUT")
            .env_remove("MICROCONV_CONFIG")
            .output()
            .unwrap()
    }

    /// Every file under `out/` with its bytes (the manifests and lock excluded).
    pub fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        walk(&self.path("out"), &mut files);
        files.retain(|(p, _)| !p.to_string_lossy().contains("_manifests"));
        files.sort();
        files
    }
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Run a Python check with the output folder as argv[1] when pyarrow is
/// installed (CI installs it); print why it was skipped otherwise.
pub fn python_check(out: &Path, script: &str) {
    let probe = Command::new("python3")
        .args(["-c", "import pyarrow"])
        .output();
    if !probe.map(|o| o.status.success()).unwrap_or(false) {
        eprintln!("pyarrow not installed: independent pyarrow check skipped");
        return;
    }
    let o = Command::new("python3")
        .args(["-c", script])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "pyarrow check failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Plan and run the whole job over `settings.events` with every result kept
/// in memory; the job's context then holds every table.
pub async fn run_in_memory(settings: Settings) -> microconv::Result<Job> {
    let job = Job::new(settings, &[])?;
    let discovery = microconv::input::discover(&job.settings().events, job.settings().as_of)?;
    let mapped = job.read(&discovery.files).await?;
    let prepared = job.prepare(mapped, &MemoryStore).await?;
    job.run(&prepared, &MemoryStore).await?;
    Ok(job)
}
