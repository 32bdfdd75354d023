//! Recovery of the generator's planted effects (`data/sample` and its
//! `ground_truth.json`) by the lift and experiment tables, run through the
//! real binary and read back from the published Parquet with DataFusion.
//!
//! Intervals are 99% (`[lift] confidence = 0.99`), as in the generator's own
//! tests: with seven planted effects, 95% intervals would miss one in three
//! runs of a fresh seed by chance alone.

use std::collections::BTreeMap;
use std::path::Path;

use microconv::generate::read_ground_truth;

use crate::support::{assert_ok, collect, f64_at, i64_at, microconv, published, text, PURCHASE};

/// The SQL `when` of each planted micro conversion (the truth gives SQL for
/// event conditions and prose for the dwell one).
/// exposed, exposed converters, unexposed, unexposed converters, RR, lower,
/// upper, q-value.
type CrudeRow = (i64, i64, i64, i64, f64, f64, f64, f64);

fn when_of(name: &str, definition: &str) -> String {
    if definition.starts_with("event_name") {
        definition.to_string()
    } else if name == "product_dwell_3min" {
        "event_name = 'product_view' AND dwell_seconds >= 180".into()
    } else {
        panic!("no SQL for planted micro `{name}`: {definition}")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_effects_are_recovered_from_the_sample() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    let truth = read_ground_truth(&sample.join("ground_truth.json")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = format!(
        "[input]\nevents = [{:?}]\n[lift]\nconfidence = 0.99\n",
        sample.display().to_string()
    );
    for e in &truth.micro_conversions.effects {
        config.push_str(&format!(
            "[[conversions]]\nname = {:?}\nkind = \"micro\"\nwhen = {:?}\n",
            e.name,
            when_of(&e.name, &e.definition)
        ));
    }
    config.push_str(PURCHASE);
    std::fs::write(dir.path().join("microconv.toml"), &config).unwrap();
    assert_ok(&microconv(dir.path(), &["run", "--out", "out"]));
    let ctx = published(
        &dir.path().join("out"),
        &[
            "micro_conversion_lift",
            "micro_conversion_lift_adjusted",
            "experiments",
        ],
    )
    .await;

    let lift = collect(
        &ctx,
        "SELECT micro_conversion, exposed_users, exposed_converters, unexposed_users, unexposed_converters,
           risk_ratio, lift_lower + 1 AS lower, lift_upper + 1 AS upper, q_value
         FROM micro_conversion_lift",
    )
    .await;
    let adjusted = collect(
        &ctx,
        "SELECT micro_conversion, adjusted_risk_ratio, adjusted_lower, adjusted_upper
         FROM micro_conversion_lift_adjusted",
    )
    .await;
    let mut crude: BTreeMap<String, CrudeRow> = BTreeMap::new();
    for b in &lift {
        for r in 0..b.num_rows() {
            crude.insert(
                text(b, "micro_conversion", r),
                (
                    i64_at(b, "exposed_users", r),
                    i64_at(b, "exposed_converters", r),
                    i64_at(b, "unexposed_users", r),
                    i64_at(b, "unexposed_converters", r),
                    f64_at(b, "risk_ratio", r).unwrap(),
                    f64_at(b, "lower", r).unwrap(),
                    f64_at(b, "upper", r).unwrap(),
                    f64_at(b, "q_value", r).unwrap(),
                ),
            );
        }
    }
    let mut adj: BTreeMap<String, (f64, f64, f64)> = BTreeMap::new();
    for b in &adjusted {
        for r in 0..b.num_rows() {
            adj.insert(
                text(b, "micro_conversion", r),
                (
                    f64_at(b, "adjusted_risk_ratio", r).unwrap(),
                    f64_at(b, "adjusted_lower", r).unwrap(),
                    f64_at(b, "adjusted_upper", r).unwrap(),
                ),
            );
        }
    }

    eprintln!(
        "micro | planted RR | adjusted RR (99% CI) | expected crude RR | crude RR (99% CI) | q"
    );
    for e in &truth.micro_conversions.effects {
        let c = crude[&e.name];
        let a = adj[&e.name];
        eprintln!(
            "{} | {} | {:.3} ({:.3}, {:.3}) | {:.3} | {:.3} ({:.3}, {:.3}) | {:.3e}",
            e.name,
            e.planted_risk_ratio,
            a.0,
            a.1,
            a.2,
            e.expected_crude_risk_ratio,
            c.4,
            c.5,
            c.6,
            c.7
        );
        // The exposure rule (micro before the first purchase) gives exactly
        // the generator's tallies.
        assert_eq!(
            (c.0, c.1, c.2, c.3),
            (
                e.exposed_users as i64,
                e.exposed_buyers as i64,
                e.unexposed_users as i64,
                e.unexposed_buyers as i64
            ),
            "2x2 of {}",
            e.name
        );
        assert!(
            a.1 <= e.planted_risk_ratio && e.planted_risk_ratio <= a.2,
            "{}: planted RR {} outside the adjusted interval ({}, {})",
            e.name,
            e.planted_risk_ratio,
            a.1,
            a.2
        );
        assert!(
            c.5 <= e.expected_crude_risk_ratio && e.expected_crude_risk_ratio <= c.6,
            "{}: expected crude RR {} outside the crude interval ({}, {})",
            e.name,
            e.expected_crude_risk_ratio,
            c.5,
            c.6
        );
        let planted_effect = e.planted_risk_ratio != 1.0;
        assert_eq!(
            c.7 < 0.05,
            planted_effect,
            "{}: q-value {} (planted RR {})",
            e.name,
            c.7,
            e.planted_risk_ratio
        );
    }
    assert!(
        truth
            .micro_conversions
            .effects
            .iter()
            .any(|e| e.planted_risk_ratio == 1.0),
        "the sample should plant a no-effect micro conversion"
    );

    let x = &truth.experiment;
    let exp = collect(
        &ctx,
        &format!(
            "SELECT variant, users, multi_variant_users, relative_lift, lift_lower, lift_upper, p_value
             FROM experiments WHERE experiment = '{}' AND conversion = '{}' ORDER BY variant",
            x.name, x.affected_micro
        ),
    )
    .await;
    let b = &exp[0];
    assert_eq!(b.num_rows(), 2);
    assert_eq!(text(b, "variant", 0), "control");
    assert_eq!(i64_at(b, "users", 0), x.users_control as i64);
    assert_eq!(i64_at(b, "users", 1), x.users_treatment as i64);
    assert_eq!(i64_at(b, "multi_variant_users", 1), 0);
    let (lift, lo, hi, p) = (
        f64_at(b, "relative_lift", 1).unwrap(),
        f64_at(b, "lift_lower", 1).unwrap(),
        f64_at(b, "lift_upper", 1).unwrap(),
        f64_at(b, "p_value", 1).unwrap(),
    );
    eprintln!(
        "experiment {} on {}: planted lift {}, found {lift:.3} (99% CI {lo:.3}, {hi:.3}), p = {p:.2e}",
        x.name, x.affected_micro, x.planted_relative_lift
    );
    assert!(lo <= x.planted_relative_lift && x.planted_relative_lift <= hi);
    assert!(
        lo > 0.0 && p < 0.01,
        "the planted experiment effect is found"
    );
}
