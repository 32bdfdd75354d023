//! The funnel tables on data from `microconv generate`, against the ground
//! truth it plants: the checkout funnel's users per step and its bottleneck
//! step (`ground_truth.json` → `funnel`).

use std::path::Path;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;
use microconv::cli::CommonArgs;
use microconv::config::Settings;
use microconv::job::nightly::{Outcome, RunOptions};

use crate::support::{collect, generated, published, text};

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
    let Outcome::Ran(_) = microconv::job::nightly::run(settings, &opts).await.unwrap() else {
        panic!("not a dry run");
    };
    published(out, select).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn friction_points_names_the_planted_bottleneck() {
    let data = generated(4_000, 60, 11, 1);
    let truth = &data.truth;
    let ctx = run(
        &data.events,
        &data.dir.path().join("out"),
        &["friction_points", "funnel_steps"],
    )
    .await;

    // Users reaching each step, as the generator tallied them while writing.
    let steps = collect(
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

    let worst = collect(
        &ctx,
        "SELECT from_conversion, to_conversion FROM friction_points \
         WHERE funnel = 'checkout' AND breakdown = '(all)'",
    )
    .await;
    assert_eq!(worst.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
    let (from, to) = (
        text(&worst[0], "from_conversion", 0),
        text(&worst[0], "to_conversion", 0),
    );
    let planted = &truth.funnel.bottleneck;
    assert_eq!(
        (from.as_str(), to.as_str()),
        (planted.from.as_str(), planted.to.as_str())
    );
}
