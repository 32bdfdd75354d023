//! CLV model recovery: fits on data simulated with planted BG/NBD and
//! Gamma-Gamma parameters find them again. Two sources of data:
//!
//! - customer summaries simulated here straight from the model (continuous
//!   time, 25,000 customers): the estimator itself, with no data pipeline;
//! - events from `microconv generate` (which writes the planted parameters to
//!   `ground_truth.json`) through the whole job (`microconv run`): the
//!   per-day (or per-hour) summaries of `clv_rfm` and the fits of `clv_model`.

use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use microconv::functions::clv::bgnbd::{self, Customer};
use microconv::functions::clv::fit::{maximize, Fit};
use microconv::functions::clv::gamma_gamma;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Exp, Gamma};

use crate::support::{assert_ok, collect, f64_at, generated, microconv, published, text, PURCHASE};

/// The generator's planted values (src/generate/model.rs, ground_truth.json).
const PLANTED_BG: [f64; 4] = [0.75, 30.0, 0.8, 2.5];
const PLANTED_GG: [f64; 3] = [6.25, 3.74, 15.44];
const NAMES: [&str; 7] = ["r", "alpha", "a", "b", "p", "q", "gamma"];

/// One row of the recovery table: name, planted, estimate, standard error.
type Row = (&'static str, f64, f64, f64);

fn table(rows: &[Row]) -> String {
    let mut s = String::from("param   planted   estimate   std.err   rel.err    z\n");
    for (name, planted, est, se) in rows {
        s.push_str(&format!(
            "{name:<6} {planted:>8.3} {est:>10.4} {se:>9.4} {:>+8.2}% {:>+6.2}\n",
            100.0 * (est / planted - 1.0),
            (est - planted) / se
        ));
    }
    s
}

fn rows_of(bg: &Fit, gg: &Fit) -> Vec<Row> {
    let se = |f: &Fit, i: usize| f.std_errors.as_ref().expect("standard errors")[i];
    let mut rows = Vec::new();
    for i in 0..4 {
        rows.push((NAMES[i], PLANTED_BG[i], bg.params[i], se(bg, i)));
    }
    for i in 0..3 {
        rows.push((NAMES[4 + i], PLANTED_GG[i], gg.params[i], se(gg, i)));
    }
    rows
}

/// Customers simulated from BG/NBD + Gamma-Gamma in continuous days, first
/// purchases uniform over the `days` before the end of observation.
fn simulate(customers: usize, days: f64, seed: u64) -> (bgnbd::Data, gamma_gamma::Data) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let lambda = Gamma::new(PLANTED_BG[0], 1.0 / PLANTED_BG[1]).unwrap();
    let dropout = Beta::new(PLANTED_BG[2], PLANTED_BG[3]).unwrap();
    let nu = Gamma::new(PLANTED_GG[1], 1.0 / PLANTED_GG[2]).unwrap();
    let (mut bg, mut gg) = (Vec::new(), Vec::new());
    for _ in 0..customers {
        let t = rng.gen_range(0.0..days);
        let (l, p, v) = (
            lambda.sample(&mut rng),
            dropout.sample(&mut rng),
            nu.sample(&mut rng),
        );
        let (mut x, mut tx, mut at, mut spend) = (0.0, 0.0, 0.0, 0.0);
        if let (Ok(wait), Ok(value)) = (Exp::new(l), Gamma::new(PLANTED_GG[0], 1.0 / v)) {
            loop {
                at += wait.sample(&mut rng);
                if at > t {
                    break;
                }
                x += 1.0;
                tx = at;
                spend += value.sample(&mut rng);
                if rng.gen_bool(p) {
                    break;
                }
            }
        }
        bg.push((Customer { x, tx, t }, 1.0));
        if x > 0.0 {
            gg.push((x, spend / x, 1.0));
        }
    }
    (bgnbd::Data::new(bg), gamma_gamma::Data::new(gg))
}

#[test]
fn fits_recover_planted_parameters_from_simulated_customers() {
    // five independent data sets of 25,000 customers (seeds 1..=5)
    let mut z_scores = Vec::new();
    for seed in 1..=5 {
        let (bg, gg) = simulate(25_000, 365.0, seed);
        let (bg, gg) = (maximize(&bg).unwrap(), maximize(&gg).unwrap());
        assert!(bg.converged && gg.converged, "seed {seed}");
        let rows = rows_of(&bg, &gg);
        if seed == 1 {
            println!("25,000 simulated customers (seed 1)\n{}", table(&rows));
            // the issue's criterion: within 10%, planted value inside ±2 SE
            for &(name, planted, est, se) in &rows {
                assert!(
                    (est / planted - 1.0).abs() < 0.10,
                    "{name}: {est} vs {planted}"
                );
                assert!(
                    (est - planted).abs() < 2.0 * se,
                    "{name}: {est} ± {se} vs {planted}"
                );
            }
        }
        for (name, planted, est, se) in rows {
            let z = (est - planted) / se;
            assert!(z.abs() < 3.5, "seed {seed}, {name}: z = {z}");
            z_scores.push(z);
        }
    }
    // the standard errors are honest: z-scores look standard normal
    // (|z| > 2 for about 5% of them; the mean near 0)
    let n = z_scores.len() as f64;
    let beyond_2 = z_scores.iter().filter(|z| z.abs() > 2.0).count() as f64 / n;
    let mean = z_scores.iter().sum::<f64>() / n;
    println!(
        "35 z-scores: {:.1}% beyond 2, mean {mean:+.2}",
        100.0 * beyond_2
    );
    assert!(beyond_2 <= 0.15, "{beyond_2}");
    assert!(mean.abs() < 0.5, "{mean}");
}

/// Run the job (`clv_model` only) on the generated events in `dir/events`
/// with `[clv] purchase_grain = grain`, and read the 'full' fits.
fn fit_generated(dir: &Path, grain: &str) -> Vec<Row> {
    let config = format!("microconv-{grain}.toml");
    std::fs::write(
        dir.join(&config),
        format!(
            "[input]\nevents = [\"events\"]\n[output]\ndir = \"out-{grain}\"\n\
             [clv]\npurchase_grain = \"{grain}\"\n{PURCHASE}"
        ),
    )
    .unwrap();
    assert_ok(&microconv(
        dir,
        &["run", "--select", "clv_model", "--config", &config],
    ));
    let batches = read_model(&dir.join(format!("out-{grain}")));
    let value = |model: &str, col: &str| -> f64 {
        for b in &batches {
            for i in 0..b.num_rows() {
                if text(b, "model", i) == model && text(b, "sample", i) == "full" {
                    return f64_at(b, col, i).unwrap_or_else(|| panic!("{model} {col} is NULL"));
                }
            }
        }
        panic!("no {model} fit");
    };
    NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (model, planted) = if i < 4 {
                ("bgnbd", PLANTED_BG[i])
            } else {
                ("gamma_gamma", PLANTED_GG[i - 4])
            };
            (
                *name,
                planted,
                value(model, name),
                value(model, &format!("{name}_se")),
            )
        })
        .collect()
}

/// Every row of `clv_model` published under `out`.
fn read_model(out: &Path) -> Vec<RecordBatch> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let ctx = published(out, &["clv_model"]).await;
        collect(&ctx, "SELECT * FROM clv_model").await
    })
}

#[test]
fn generated_events_give_the_planted_parameters_within_3_standard_errors() {
    // 20,000 users over 180 days: about 1,260 customers; the estimates are
    // loose at this size, so only |z| < 3 is asserted
    let data = generated(20_000, 180, 3, 1);
    let customers = data.report.buyers;
    let rows = fit_generated(data.dir.path(), "day");
    println!(
        "{customers} customers from microconv generate\n{}",
        table(&rows)
    );
    for (name, planted, est, se) in rows {
        assert!(
            (est - planted).abs() < 3.0 * se,
            "{name}: {est} ± {se} vs {planted}"
        );
    }
}

/// The issue's recovery criterion, on more than 20,000 customers: 63,283
/// (1,000,000 users over a year; 4 to 5 minutes in a debug build).
///
/// The generator plants a continuous-time process. Grouped by UTC hour
/// (`[clv] purchase_grain = "hour"`), the summaries lose almost nothing, and
/// every parameter is within 10% and two standard errors of the planted
/// value (here all within 5%, |z| < 1.5).
///
/// Grouped by day (the default, as lifetimes with freq "D"), the 2.5% of
/// repeat purchases that share a day with another merge, mostly those of the
/// fastest buyers, and their values add up: r and alpha move up (+3.2%,
/// +8.0%: z 3.5 and 6.3) and Gamma-Gamma's gamma too (+8.0%, z 2.1). All
/// stay within 10%, which is what is asserted for day grouping, with the
/// direction of the shift in r and alpha. The same shift shows on customers
/// simulated from the model itself: fitting 100,000 of them (seed 11) on
/// continuous times gives r 0.739, alpha 29.30, and on their day-grouped
/// summaries r 0.764, alpha 31.83 (+3.4%, +8.6%).
#[test]
#[ignore = "slow: 1,000,000 generated users, 4 to 5 min in a debug build"]
fn generated_events_with_60k_customers_recover_planted_parameters() {
    let data = generated(1_000_000, 365, 7, 1);
    let customers = data.report.buyers;
    assert!(customers >= 20_000, "{customers} customers");
    let hourly = fit_generated(data.dir.path(), "hour");
    println!(
        "{customers} customers from microconv generate, purchases by hour\n{}",
        table(&hourly)
    );
    let daily = fit_generated(data.dir.path(), "day");
    println!("the same, purchases by day\n{}", table(&daily));
    for (name, planted, est, se) in hourly {
        assert!(
            (est / planted - 1.0).abs() < 0.10,
            "hour: {name}: {est} vs {planted}"
        );
        assert!(
            (est - planted).abs() < 2.0 * se,
            "hour: {name}: {est} ± {se} vs {planted}"
        );
    }
    for (name, planted, est, _) in daily {
        assert!(
            (est / planted - 1.0).abs() < 0.10,
            "day: {name}: {est} vs {planted}"
        );
        if ["r", "alpha"].contains(&name) {
            assert!(est > planted, "day: {name}: {est} vs {planted}");
        }
    }
}
