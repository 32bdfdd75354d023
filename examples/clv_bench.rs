//! Time and memory of the CLV models on many customers, through SQL as the
//! bundled queries run them: the BG/NBD fit on distinct (frequency, recency,
//! t) with counts, the Gamma-Gamma fit on repeat customers, and the
//! per-customer predictions.
//!
//! ```sh
//! cargo run --release --example clv_bench -- 1000000 730
//! ```
//!
//! Arguments: customers (default 1,000,000) and days of history (default
//! 730). Customers are simulated from the generator's planted BG/NBD and
//! Gamma-Gamma parameters (days), with purchases grouped by day as in
//! `clv_rfm`. Prints seconds and peak resident memory per step.

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use microconv::peak_rss;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Exp, Gamma};

fn simulate(customers: usize, days: u32) -> RecordBatch {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let lambda = Gamma::new(0.75, 1.0 / 30.0).unwrap();
    let dropout = Beta::new(0.8, 2.5).unwrap();
    let nu = Gamma::new(3.74, 1.0 / 15.44).unwrap();
    let (mut f, mut r, mut t, mut m) = (vec![], vec![], vec![], vec![]);
    for _ in 0..customers {
        let first = rng.gen_range(0.0..f64::from(days));
        let end = f64::from(days);
        let (l, p, v) = (
            lambda.sample(&mut rng),
            dropout.sample(&mut rng),
            nu.sample(&mut rng),
        );
        let mut purchase_days: Vec<(i64, f64)> = vec![(first.floor() as i64, 0.0)];
        if let (Ok(wait), Ok(value)) = (Exp::new(l), Gamma::new(6.25, 1.0 / v)) {
            let mut at = first;
            loop {
                at += wait.sample(&mut rng);
                if at >= end {
                    break;
                }
                let day = at.floor() as i64;
                let value = value.sample(&mut rng);
                match purchase_days.last_mut() {
                    Some(last) if last.0 == day => last.1 += value,
                    _ => purchase_days.push((day, value)),
                }
                if rng.gen_bool(p) {
                    break;
                }
            }
        }
        let x = purchase_days.len() as i64 - 1;
        f.push(x);
        r.push((purchase_days[purchase_days.len() - 1].0 - purchase_days[0].0) as f64);
        t.push((i64::from(days) - 1 - purchase_days[0].0) as f64);
        let repeat: f64 = purchase_days[1..].iter().map(|d| d.1).sum();
        m.push(if x > 0 { repeat / x as f64 } else { 0.0 });
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("frequency", DataType::Int64, false),
        Field::new("recency", DataType::Float64, false),
        Field::new("t", DataType::Float64, false),
        Field::new("monetary_value", DataType::Float64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(f)),
            Arc::new(Float64Array::from(r)),
            Arc::new(Float64Array::from(t)),
            Arc::new(Float64Array::from(m)),
        ],
    )
    .unwrap()
}

async fn step(ctx: &SessionContext, name: &str, sql: &str) -> Vec<RecordBatch> {
    let stage = peak_rss::Stage::start();
    let started = Instant::now();
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let peak = stage
        .peak()
        .map_or("-".into(), |b| format!("{:.0} MB", b as f64 / 1e6));
    println!(
        "{name:<40} {:>8.2} s   peak RSS {peak}",
        started.elapsed().as_secs_f64()
    );
    batches
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let customers: usize = args
        .next()
        .map_or(1_000_000, |a| a.parse().expect("customers"));
    let days: u32 = args.next().map_or(730, |a| a.parse().expect("days"));
    let started = Instant::now();
    let batch = simulate(customers, days);
    println!(
        "simulated {customers} customers over {days} days in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let ctx = SessionContext::new();
    microconv::functions::register_all(&ctx);
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).unwrap();
    ctx.register_table("c", Arc::new(table)).unwrap();
    let groups = step(
        &ctx,
        "distinct (frequency, recency, t)",
        "SELECT COUNT(*) FROM (SELECT DISTINCT frequency, recency, t FROM c)",
    )
    .await;
    println!(
        "  {} distinct summaries",
        datafusion::arrow::util::pretty::pretty_format_batches(&groups).unwrap()
    );
    let fit = step(
        &ctx,
        "bgnbd_fit on grouped summaries",
        "SELECT f['r'] r, f['alpha'] alpha, f['a'] a, f['b'] b, f['converged'] ok, f['iterations'] it \
         FROM (SELECT bgnbd_fit(frequency, recency, t, n) AS f \
               FROM (SELECT frequency, recency, t, COUNT(*) AS n FROM c GROUP BY frequency, recency, t))",
    )
    .await;
    println!(
        "{}",
        datafusion::arrow::util::pretty::pretty_format_batches(&fit).unwrap()
    );
    let gg = step(
        &ctx,
        "gamma_gamma_fit on repeat customers",
        "SELECT f['p'] p, f['q'] q, f['gamma'] gamma, f['customers'] n, f['converged'] ok \
         FROM (SELECT gamma_gamma_fit(frequency, monetary_value) AS f FROM c)",
    )
    .await;
    println!(
        "{}",
        datafusion::arrow::util::pretty::pretty_format_batches(&gg).unwrap()
    );
    step(
        &ctx,
        "predictions for every customer",
        "SELECT SUM(bgnbd_p_alive(0.75, 30, 0.8, 2.5, frequency, recency, t)), \
                SUM(bgnbd_expected_purchases(0.75, 30, 0.8, 2.5, frequency, recency, t, 365)), \
                SUM(bgnbd_clv(0.75, 30, 0.8, 2.5, frequency, recency, t, \
                    gamma_gamma_expected_value(6.25, 3.74, 15.44, frequency, monetary_value), 365, 0.01, 30)) \
         FROM c",
    )
    .await;
}
