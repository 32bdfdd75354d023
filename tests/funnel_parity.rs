//! `window_funnel` against ClickHouse's `windowFunnel`, user by user.
//!
//! `tests/parity/funnel_clickhouse.py` wrote the input
//! (`funnel_events.parquet`: a `microconv generate` data set and random
//! sequences full of ties, repeats and other events) and ClickHouse's levels
//! for every user, mode and window (`funnel_clickhouse_<dataset>.csv`, made
//! with chdb 4.4.0 = ClickHouse 26.9.2). Here microconv computes the same
//! levels and must agree on every row, also when the aggregation is split
//! into partial states (many partitions, tiny batches) and when partial
//! aggregation is skipped (each row converted straight to a state).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

const MODES: [&str; 4] = [
    "ordered",
    "strict_order",
    "strict_deduplication",
    "strict_increase",
];

fn parity_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parity")
}

/// The step conditions of a data set, as in the Python script.
fn conditions(dataset: &str) -> &'static str {
    match dataset {
        "generated" => {
            "event_name = 'product_view', event_name = 'add_to_cart', \
             event_name = 'begin_checkout', event_name = 'purchase'"
        }
        _ => {
            "event_name = 'A', event_name IN ('B', 'BC'), event_name IN ('C', 'BC'), \
             event_name = 'D'"
        }
    }
}

/// (spec names, user -> levels) from ClickHouse's CSV.
fn reference(dataset: &str) -> (Vec<String>, BTreeMap<String, Vec<i32>>) {
    let path = parity_dir().join(format!("funnel_clickhouse_{dataset}.csv"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(1)
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| {
            let mut cells = l.split(',');
            let user = cells.next().unwrap().to_string();
            (user, cells.map(|c| c.parse().unwrap()).collect())
        })
        .collect();
    (header, rows)
}

/// `ordered_600` -> ("ordered", 600)
fn split_spec(spec: &str) -> (&str, i64) {
    let (mode, window) = spec.rsplit_once('_').unwrap();
    assert!(MODES.contains(&mode), "{spec}");
    (mode, window.parse().unwrap())
}

async fn microconv_levels(
    ctx: &SessionContext,
    dataset: &str,
    specs: &[String],
) -> BTreeMap<String, Vec<i32>> {
    let columns: Vec<String> = specs
        .iter()
        .map(|s| {
            let (mode, window) = split_spec(s);
            format!(
                "window_funnel({window}, '{mode}', event_time, {})",
                conditions(dataset)
            )
        })
        .collect();
    let sql = format!(
        "SELECT user_id, {} FROM parity_events WHERE dataset = '{dataset}' GROUP BY user_id",
        columns.join(", ")
    );
    let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    let mut out = BTreeMap::new();
    for b in &batches {
        let users = datafusion::arrow::compute::cast(b.column(0), &DataType::Utf8).unwrap();
        let users = users.as_string::<i32>();
        for row in 0..b.num_rows() {
            let levels = (1..b.num_columns())
                .map(|c| b.column(c).as_primitive::<Int32Type>().value(row))
                .collect();
            out.insert(users.value(row).to_string(), levels);
        }
    }
    out
}

async fn context(config: SessionConfig) -> SessionContext {
    let ctx = SessionContext::new_with_config(config);
    microconv::functions::register_all(&ctx);
    ctx.register_parquet(
        "parity_events",
        parity_dir().join("funnel_events.parquet").to_str().unwrap(),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap();
    ctx
}

async fn check_all(ctx: &SessionContext, setup: &str) {
    for dataset in ["generated", "random"] {
        let (specs, expected) = reference(dataset);
        let got = microconv_levels(ctx, dataset, &specs).await;
        assert_eq!(got.len(), expected.len(), "{setup} {dataset}: users");
        let mut mismatches = Vec::new();
        for (user, want) in &expected {
            let have = &got[user];
            for (i, spec) in specs.iter().enumerate() {
                if have[i] != want[i] {
                    mismatches.push(format!(
                        "{user} {spec}: ClickHouse {} microconv {}",
                        want[i], have[i]
                    ));
                }
            }
        }
        assert!(
            mismatches.is_empty(),
            "{setup} {dataset}: {} mismatches, e.g.\n{}",
            mismatches.len(),
            mismatches[..mismatches.len().min(10)].join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_funnel_equals_clickhouse() {
    let ctx = context(SessionConfig::new().with_target_partitions(1)).await;
    check_all(&ctx, "one partition").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_funnel_equals_clickhouse_with_partial_states() {
    let config = SessionConfig::new()
        .with_target_partitions(4)
        .with_batch_size(50)
        .with_repartition_aggregations(true);
    let ctx = context(config).await;
    check_all(&ctx, "partial states").await;

    let mut config = SessionConfig::new()
        .with_target_partitions(3)
        .with_batch_size(100);
    let options = config.options_mut();
    options
        .execution
        .skip_partial_aggregation_probe_rows_threshold = 1;
    options
        .execution
        .skip_partial_aggregation_probe_ratio_threshold = 0.0;
    let ctx = context(config).await;
    check_all(&ctx, "partial aggregation skipped").await;
}

/// `window_funnel_times` lists exactly as many times as `window_funnel`'s
/// level, in non-decreasing order for the ordered modes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_agree_with_levels() {
    let ctx = context(SessionConfig::new().with_target_partitions(2)).await;
    for mode in MODES {
        let sql = format!(
            "SELECT window_funnel(600, '{mode}', event_time, {c}) AS level,
                    window_funnel_times(600, '{mode}', event_time, {c}) AS times
             FROM parity_events WHERE dataset = 'random' GROUP BY user_id",
            c = conditions("random")
        );
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        for b in &batches {
            let levels = b.column(0).as_primitive::<Int32Type>();
            let times = b.column(1).as_list::<i32>();
            for row in 0..b.num_rows() {
                let list = times.value(row);
                assert_eq!(list.len() as i32, levels.value(row), "{mode}");
                let ts =
                    list.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
                let v: Vec<i64> = ts.values().to_vec();
                assert!(v.windows(2).all(|w| w[0] <= w[1]), "{mode}: {v:?}");
                if let (Some(first), Some(last)) = (v.first(), v.last()) {
                    assert!(last - first <= 600_000_000, "{mode}: {v:?}");
                }
            }
        }
    }
}
