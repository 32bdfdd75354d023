//! The run manifest: what a run read, what it wrote, how long it took and
//! with which config and queries. One JSON file per run, plus `latest.json`,
//! both written by [`crate::sink::publish`].

use std::path::PathBuf;

use datafusion::arrow::datatypes::{DataType, Schema};
use serde::Serialize;

use crate::input::{InputCounts, InputFile};

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub microconv_version: &'static str,
    pub run_id: String,
    pub as_of: String,
    pub started_at: String,
    pub finished_at: String,
    pub seconds: f64,
    /// Where the queries ran: `local`, `standalone` or the Ballista
    /// scheduler's `df://host:port`.
    pub engine: String,
    pub config_path: Option<PathBuf>,
    pub config_sha256: String,
    pub config: serde_json::Value,
    pub inputs: Vec<InputFile>,
    pub input_rows: InputCounts,
    pub input_seconds: f64,
    pub input_peak_rss_bytes: Option<u64>,
    /// The process's peak resident memory over the whole run, as the OS
    /// keeps it (each stage's own peak is in its entry).
    pub peak_rss_bytes: Option<u64>,
    pub tables: Vec<TableEntry>,
    /// Tables computed for later queries but not published (path empty).
    pub internal_tables: Vec<TableEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableEntry {
    pub name: String,
    /// Published directory, relative to the output folder.
    pub path: String,
    pub rows: u64,
    pub seconds: f64,
    pub peak_rss_bytes: Option<u64>,
    /// bundled | user | input
    pub origin: String,
    pub query_path: Option<String>,
    pub query_sha256: Option<String>,
    pub columns: Vec<ColumnEntry>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ColumnEntry {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    pub nullable: bool,
}

/// The logical type name used in manifests and the output docs.
pub fn type_name(dt: &DataType) -> String {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 | DataType::Int16 | DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => "uint64".into(),
        DataType::Float32 | DataType::Float64 => "double".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(unit, tz) => {
            let unit = match unit {
                datafusion::arrow::datatypes::TimeUnit::Second => "s",
                datafusion::arrow::datatypes::TimeUnit::Millisecond => "ms",
                datafusion::arrow::datatypes::TimeUnit::Microsecond => "us",
                datafusion::arrow::datatypes::TimeUnit::Nanosecond => "ns",
            };
            match tz {
                Some(tz) => format!("timestamp[{unit}, {tz}]"),
                None => format!("timestamp[{unit}]"),
            }
        }
        DataType::List(f) | DataType::LargeList(f) => format!("list<{}>", type_name(f.data_type())),
        other => other.to_string().to_lowercase(),
    }
}

pub fn columns(schema: &Schema) -> Vec<ColumnEntry> {
    schema
        .fields()
        .iter()
        .map(|f| ColumnEntry {
            name: f.name().clone(),
            data_type: type_name(f.data_type()),
            nullable: f.is_nullable(),
        })
        .collect()
}

impl Manifest {
    /// The manifest as JSON, as [`crate::sink::publish`] installs it as
    /// `_manifests/run-<as_of>-<run_id>.json` and `_manifests/latest.json`
    /// (with the tables it carries over, each marked `from_run`).
    pub fn to_json(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::to_value(self)
    }
}
