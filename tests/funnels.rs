//! The funnel tables on data from `microconv generate`, against the ground
//! truth it plants: the checkout funnel's users per step and its bottleneck
//! step (`ground_truth.json` → `funnel`).

use std::path::Path;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use microconv::cli::CommonArgs;
use microconv::config::Settings;
use microconv::generate::{generate, read_ground_truth, GenerateOptions};
use microconv::job::nightly::{Outcome, RunOptions};

/// The generator's funnel (product_view → add_to_cart → begin_checkout →
/// purchase, user level, ordered, 7 days), broken down by channel and device.
const CONFIG: &str = r#"
[[conversions]]
name = "product_view"
kind = "micro"
when = "event_name = 'product_view'"
[[conversions]]
name = "add_to_cart"
kind = "micro"
when = "event_name = 'add_to_cart'"
[[conversions]]
name = "begin_checkout"
kind = "micro"
when = "event_name = 'begin_checkout'"
[[conversions]]
name = "purchase"
kind = "macro"
when = "event_name = 'purchase'"
value = "revenue"
[[funnels]]
name = "checkout"
steps = ["product_view", "add_to_cart", "begin_checkout", "purchase"]
window = "7d"
breakdowns = ["channel", "device"]
"#;

/// Run the job for the tables in `select` (and what they read) and open
/// the published Parquet in a fresh context.
async fn run(events: &Path, out: &Path, select: &[&str]) -> SessionContext {
    let args = CommonArgs {
        events: vec![events.display().to_string()],
        out: Some(out.to_path_buf()),
        ..Default::default()
    };
    let settings = Settings::from_toml_with(CONFIG, &args).unwrap();
    let opts = RunOptions {
        select: select.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let Outcome::Ran(summary) = microconv::job::nightly::run(settings, &opts).await.unwrap() else {
        panic!("not a dry run");
    };
    let ctx = SessionContext::new();
    for table in select {
        let dir = out.join(table).join(format!("as_of={}", summary.as_of));
        ctx.register_parquet(*table, dir.to_str().unwrap(), ParquetReadOptions::default())
            .await
            .unwrap();
    }
    ctx
}

async fn query(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql).await.unwrap().collect().await.unwrap()
}

fn text(batch: &RecordBatch, column: usize, row: usize) -> String {
    let c = cast(batch.column(column), &DataType::Utf8).unwrap();
    c.as_string::<i32>().value(row).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn friction_points_names_the_planted_bottleneck() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&GenerateOptions::new(4_000, 60, 11, &data)).unwrap();
    let truth = read_ground_truth(&data.join("ground_truth.json")).unwrap();
    let ctx = run(
        &data,
        &dir.path().join("out"),
        &["friction_points", "funnel_steps"],
    )
    .await;

    // Users reaching each step, as the generator tallied them while writing.
    let steps = query(
        &ctx,
        "SELECT users FROM funnel_steps WHERE funnel = 'checkout' AND breakdown = '(all)' ORDER BY step",
    )
    .await;
    let users: Vec<u64> = steps
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
        .map(|v| v as u64)
        .collect();
    assert_eq!(users, truth.funnel.step_users);

    let worst = query(
        &ctx,
        "SELECT from_conversion, to_conversion FROM friction_points \
         WHERE funnel = 'checkout' AND breakdown = '(all)'",
    )
    .await;
    assert_eq!(worst.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
    let (from, to) = (text(&worst[0], 0, 0), text(&worst[0], 1, 0));
    let planted = &truth.funnel.bottleneck;
    assert_eq!(
        (from.as_str(), to.as_str()),
        (planted.from.as_str(), planted.to.as_str())
    );
}
