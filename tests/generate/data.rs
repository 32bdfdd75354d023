//! Reading generated Parquet back and deriving, per user, what the tests
//! check: sessions, exposures (per the micro-conversion definition), funnel
//! progress, acquisition channel and purchases.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimestampMicrosecondType};
use microconv::generate::{generate, read_ground_truth, GenerateOptions, GroundTruth};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tempfile::TempDir;

pub const DAY_MS: i64 = 86_400_000;
pub const TIMEOUT_MS: i64 = 30 * 60_000;

/// One row as read back from Parquet.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub event_id: Option<String>,
    pub user_id: Option<String>,
    pub time_ms: i64,
    pub name: String,
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub device: Option<String>,
    pub page: Option<String>,
    pub product_id: Option<String>,
    pub revenue: Option<f64>,
    pub experiment: Option<String>,
    pub variant: Option<String>,
}

/// A generated data set, read back into memory (its directory is gone).
pub struct Data {
    pub truth: GroundTruth,
    pub rows: Vec<Row>,
    /// Relative path → (rows, event_time is Int64, sorted by time).
    pub files: BTreeMap<String, (u64, bool, bool)>,
}

pub fn options(users: u64, days: u32, seed: u64, out: &Path) -> GenerateOptions {
    GenerateOptions::new(users, days, seed, out)
}

pub fn generate_and_read(opts: &GenerateOptions) -> Data {
    generate(opts).expect("generate");
    let truth = read_ground_truth(&opts.out.join("ground_truth.json")).expect("truth");
    let mut rows = Vec::new();
    let mut files = BTreeMap::new();
    for path in parquet_files(&opts.out) {
        let before = rows.len();
        let millis = read_rows(&path, &mut rows);
        let sorted = rows[before..]
            .windows(2)
            .all(|w| w[0].time_ms <= w[1].time_ms);
        let relative = relative(&opts.out, &path);
        files.insert(relative, ((rows.len() - before) as u64, millis, sorted));
    }
    Data { truth, rows, files }
}

pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).expect("inside root");
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// All `.parquet` files under `dir`, sorted.
pub fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Appends the rows of one file; returns whether event_time is Int64 ms.
pub fn read_rows(path: &Path, rows: &mut Vec<Row>) -> bool {
    let file = File::open(path).expect("open");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let mut millis = false;
    for batch in reader {
        let batch = batch.expect("batch");
        millis = batch
            .schema()
            .field_with_name("event_time")
            .expect("time")
            .data_type()
            == &DataType::Int64;
        append_batch(&batch, millis, rows);
    }
    millis
}

pub fn append_batch(batch: &RecordBatch, millis: bool, rows: &mut Vec<Row>) {
    let text = |name: &str| {
        batch
            .column_by_name(name)
            .expect(name)
            .as_string::<i32>()
            .clone()
    };
    let opt =
        |a: &arrow::array::StringArray, i: usize| a.is_valid(i).then(|| a.value(i).to_string());
    let (id, user, name) = (text("event_id"), text("user_id"), text("event_name"));
    let (source, medium, campaign) = (text("source"), text("medium"), text("campaign"));
    let (device, page, product) = (text("device"), text("page"), text("product_id"));
    let (experiment, variant) = (text("experiment"), text("variant"));
    let revenue = batch
        .column_by_name("revenue")
        .expect("revenue")
        .as_primitive::<Float64Type>()
        .clone();
    let time = batch.column_by_name("event_time").expect("event_time");
    for i in 0..batch.num_rows() {
        let time_ms = if millis {
            time.as_primitive::<Int64Type>().value(i)
        } else {
            time.as_primitive::<TimestampMicrosecondType>().value(i) / 1000
        };
        rows.push(Row {
            event_id: opt(&id, i),
            user_id: opt(&user, i),
            time_ms,
            name: name.value(i).to_string(),
            source: opt(&source, i),
            medium: opt(&medium, i),
            campaign: opt(&campaign, i),
            device: opt(&device, i),
            page: opt(&page, i),
            product_id: opt(&product, i),
            revenue: revenue.is_valid(i).then(|| revenue.value(i)),
            experiment: opt(&experiment, i),
            variant: opt(&variant, i),
        });
    }
}

/// What the tests derive per user from the rows.
pub struct User {
    pub channel: String,
    pub variant: Option<String>,
    pub first_time: i64,
    pub first_purchase: Option<i64>,
    /// Purchases after the first (times, values).
    pub repeats: Vec<(i64, f64)>,
    pub sessions: usize,
    /// By micro name, per the exposure definition.
    pub exposed: BTreeMap<&'static str, bool>,
    /// Whether the user did the micro at any time.
    pub ever: BTreeMap<&'static str, bool>,
    pub funnel_steps: usize,
}

pub const EVENT_MICROS: [&str; 6] = [
    "search",
    "review_read",
    "product_video_view",
    "add_to_wishlist",
    "newsletter_signup",
    "sign_up",
];
pub const DWELL: &str = "product_dwell_3min";

pub fn users_of(rows: &[Row]) -> Vec<User> {
    let mut by_user: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        if let Some(u) = &r.user_id {
            by_user.entry(u.as_str()).or_default().push(r);
        }
    }
    by_user
        .into_values()
        .map(|mut events| {
            events.sort_by(|a, b| a.time_ms.cmp(&b.time_ms).then(a.event_id.cmp(&b.event_id)));
            user_facts(&events)
        })
        .collect()
}

pub fn user_facts(events: &[&Row]) -> User {
    let purchases: Vec<&&Row> = events.iter().filter(|e| e.name == "purchase").collect();
    let first_purchase = purchases.first().map(|p| p.time_ms);
    let before = |t: i64| first_purchase.is_none_or(|fp| t < fp);
    let mut exposed = BTreeMap::new();
    let mut ever = BTreeMap::new();
    for m in EVENT_MICROS {
        let hit_before = events.iter().any(|e| e.name == m && before(e.time_ms));
        exposed.insert(m, hit_before);
        ever.insert(m, events.iter().any(|e| e.name == m));
    }
    let dwell = (0..events.len().saturating_sub(1)).any(|i| {
        let gap = events[i + 1].time_ms - events[i].time_ms;
        events[i].name == "product_view"
            && (180_000..=TIMEOUT_MS).contains(&gap)
            && before(events[i].time_ms)
    });
    exposed.insert(DWELL, dwell);
    User {
        channel: channel_of(events[0]),
        variant: events[0].variant.clone(),
        first_time: events[0].time_ms,
        first_purchase,
        repeats: purchases
            .iter()
            .skip(1)
            .map(|p| (p.time_ms, p.revenue.unwrap_or(f64::NAN)))
            .collect(),
        sessions: sessions(events, TIMEOUT_MS),
        exposed,
        ever,
        funnel_steps: funnel_steps(events),
    }
}

pub fn sessions(events: &[&Row], timeout: i64) -> usize {
    1 + events
        .windows(2)
        .filter(|w| w[1].time_ms - w[0].time_ms > timeout)
        .count()
}

/// Steps of product_view → add_to_cart → begin_checkout → purchase reached
/// in order within 7 days of the first product view.
pub fn funnel_steps(events: &[&Row]) -> usize {
    let steps = ["product_view", "add_to_cart", "begin_checkout", "purchase"];
    let mut reached = 0;
    let mut start = None;
    for e in events {
        if reached < 4 && e.name == steps[reached] {
            let t0 = *start.get_or_insert(e.time_ms);
            if e.time_ms - t0 <= 7 * DAY_MS {
                reached += 1;
            }
        }
    }
    reached
}

/// The default channel rules, from source/medium.
pub fn channel_of(row: &Row) -> String {
    let medium = row.medium.as_deref().unwrap_or("");
    let source = row.source.as_deref().unwrap_or("");
    match (medium, source) {
        ("organic", _) => "organic",
        ("cpc", _) => "paid_search",
        ("paid_social", _) => "paid_social",
        ("email", _) => "email",
        ("referral", _) => "referral",
        ("(none)", "(direct)") => "direct",
        _ => "unknown",
    }
    .to_string()
}

/// The main data set: 30k users over 120 days, clean, three files.
pub fn main_data() -> &'static (Data, Vec<User>) {
    static MAIN: OnceLock<(Data, Vec<User>)> = OnceLock::new();
    MAIN.get_or_init(|| {
        let dir = TempDir::new().expect("tempdir");
        let mut opts = options(30_000, 120, 42, dir.path());
        opts.files = 3;
        let data = generate_and_read(&opts);
        let users = users_of(&data.rows);
        (data, users)
    })
}
