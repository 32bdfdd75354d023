//! Test inputs: a small hand-made events Parquet file whose every answer is
//! worked out by hand, its config, and data sets made by `microconv
//! generate` with the truths it planted.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use microconv::generate::{
    generate, read_ground_truth, GenerateOptions, GenerateReport, GroundTruth,
};
use parquet::arrow::ArrowWriter;
use tempfile::TempDir;

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

/// The purchase as the macro conversion, valued by `revenue`: the config
/// the generated-data tests append to theirs.
pub const PURCHASE: &str = r#"
[[conversions]]
name = "purchase"
kind = "macro"
when = "event_name = 'purchase'"
value = "revenue"
"#;

/// A data set from `microconv generate`: the events (and
/// `ground_truth.json`) in `events`, inside a temp dir that tests can also
/// use for a config and outputs.
pub struct Generated {
    pub dir: TempDir,
    pub events: PathBuf,
    pub truth: GroundTruth,
    pub report: GenerateReport,
}

/// Generate `users` users over `days` days with `seed` into `files` files.
pub fn generated(users: u64, days: u32, seed: u64, files: usize) -> Generated {
    let dir = TempDir::new().expect("tempdir");
    let events = dir.path().join("events");
    let mut options = GenerateOptions::new(users, days, seed, &events);
    options.files = files;
    let report = generate(&options).expect("generate");
    let truth = read_ground_truth(&report.ground_truth).expect("ground truth");
    Generated {
        dir,
        events,
        truth,
        report,
    }
}
