//! The CLV model functions against independently computed values. Every
//! expected number comes from `tests/clv/reference.py` (output kept in
//! `tests/clv/reference.txt`): mpmath at 40 digits from the published
//! formulas (Fader, Hardie & Lee 2005; Fader & Hardie 2013), cross-checked
//! with the `lifetimes` package 0.11.3.

// the expected values are pasted with all the digits the reference printed
#![allow(clippy::excessive_precision)]

use super::bgnbd::{self, Customer, Params};
use super::fit::{maximize, Likelihood};
use super::gamma_gamma;

fn close(got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1.0),
        "got {got:.17e}, want {want:.17e}"
    );
}

/// FHL 2005's CDNOW estimates (weeks).
const CD: Params = Params {
    r: 0.243,
    alpha: 4.414,
    a: 0.793,
    b: 2.426,
};
/// The data generator's planted parameters (days).
const GEN: Params = Params {
    r: 0.75,
    alpha: 30.0,
    a: 0.8,
    b: 2.5,
};

/// (params, x, tx, T, horizon, ll, p_alive, E[Y(horizon)]), all mpmath.
type Case = (Params, f64, f64, f64, f64, f64, f64, f64);

fn cases() -> Vec<Case> {
    vec![
        (
            CD,
            0.0,
            0.0,
            38.86,
            39.0,
            -0.554_713_276_438_158_45,
            1.0,
            0.195_098_052_011_262_64,
        ),
        (
            CD,
            2.0,
            30.43,
            38.86,
            39.0,
            -9.458_606_307_066_271_2,
            0.726_578_570_080_672_91,
            1.226_028_174_767_144_5,
        ),
        (
            CD,
            1.0,
            1.71,
            38.86,
            52.0,
            -4.469_093_275_032_588_5,
            0.212_100_985_377_379_08,
            0.259_823_464_868_622_43,
        ),
        (
            CD,
            7.0,
            35.0,
            38.86,
            39.0,
            -22.136_944_927_507_958,
            0.843_767_821_928_012_22,
            4.387_487_854_487_961_3,
        ),
        (
            CD,
            50.0,
            30.0,
            38.86,
            39.0,
            -39.864_967_244_752_063,
            0.000_649_914_707_391_344_38,
            0.022_618_891_799_489_896,
        ),
        (
            CD,
            300.0,
            37.0,
            39.0,
            52.0,
            281.841_040_507_512_73,
            0.000_269_169_907_456_325_79,
            0.069_231_517_795_145_46,
        ),
        (
            GEN,
            0.0,
            0.0,
            400.0,
            365.0,
            -1.996_940_870_269_089_5,
            1.0,
            0.548_657_131_191_232_23,
        ),
        (
            GEN,
            3.0,
            120.0,
            500.0,
            365.0,
            -17.281_488_989_419_014,
            0.047_147_215_101_396_495,
            0.102_438_808_459_783_83,
        ),
        (
            GEN,
            10.0,
            300.0,
            310.0,
            365.0,
            -47.014_330_255_815_516,
            0.912_501_751_814_406_89,
            7.928_150_242_362_937_4,
        ),
        (
            GEN,
            1.0,
            20.0,
            25.0,
            3650.0,
            -4.706_555_426_892_956_7,
            0.725_645_685_296_805_67,
            12.060_591_695_957_824,
        ),
    ]
}

#[test]
fn bgnbd_log_likelihood_p_alive_and_expectation_match_mpmath() {
    for (p, x, tx, t, h, ll, alive, ey) in cases() {
        let c = Customer { x, tx, t };
        close(bgnbd::log_likelihood(&p, &c), ll, 1e-10);
        close(bgnbd::p_alive(&p, &c), alive, 1e-10);
        let got = bgnbd::expected_purchases(&p, &c, h).expect("converges");
        // relative 1e-9: far inside the 1e-6 asked for
        assert!(
            (got - ey).abs() <= 1e-9 * ey,
            "E[Y] got {got:.17e}, want {ey:.17e}"
        );
    }
}

#[test]
fn bgnbd_expectation_is_exact_near_a_equal_1() {
    // lifetimes loses 7 digits here (2.0386124308 vs mpmath 2.0386127656 at
    // a = 1 + 1e-9); the rearranged series does not
    let p = Params {
        a: 1.0 + 1e-9,
        ..GEN
    };
    let c = Customer {
        x: 2.0,
        tx: 40.0,
        t: 90.0,
    };
    let got = bgnbd::expected_purchases(&p, &c, 365.0).unwrap();
    close(got, 2.038_612_765_624_311_2, 1e-9);
    // at a = 1 exactly: the limit (mpmath, mean of a = 1 ± 1e-25)
    let p = Params { a: 1.0, ..GEN };
    close(
        bgnbd::expected_purchases(&p, &c, 365.0).unwrap(),
        2.038_612_767_706_050_9,
        1e-9,
    );
}

#[test]
fn bgnbd_new_customer_expectation_matches_mpmath() {
    for (p, t, want) in [
        (CD, 39.0, 1.196_723_193_320_816_9),
        (CD, 78.0, 1.860_519_057_942_768_6),
        (GEN, 365.0, 3.788_906_380_359_293_7),
    ] {
        close(bgnbd::expected_purchases_new(&p, t).unwrap(), want, 1e-10);
    }
}

#[test]
fn discounted_clv_matches_lifetimes() {
    // lifetimes customer_lifetime_value(time=12, freq="D", discount_rate=0.01)
    // with the Gamma-Gamma expected order value (p 6.25, q 3.74, v 15.44)
    let gg = gamma_gamma::Params {
        p: 6.25,
        q: 3.74,
        gamma: 15.44,
    };
    for (x, tx, t, m, aov, clv) in [
        (
            0.0,
            0.0,
            400.0,
            0.0,
            35.218_978_102_189_78,
            17.955_325_589_543_18,
        ),
        (
            3.0,
            120.0,
            500.0,
            30.0,
            30.665_425_779_432_294,
            2.921_174_815_367_828,
        ),
        (
            10.0,
            300.0,
            310.0,
            55.0,
            54.169_221_336_603_314,
            400.546_255_959_312_6,
        ),
    ] {
        let v = gamma_gamma::expected_value(&gg, x, m).unwrap();
        close(v, aov, 1e-12);
        let c = Customer { x, tx, t };
        close(
            bgnbd::discounted_value(&GEN, &c, v, 360.0, 0.01, 30.0).unwrap(),
            clv,
            1e-9,
        );
    }
}

#[test]
fn gamma_gamma_matches_mpmath() {
    let gg = gamma_gamma::Params {
        p: 6.25,
        q: 3.74,
        gamma: 15.44,
    };
    for (x, m, ll, mean) in [
        (1.0, 11.77, -3.737_709_678_740_839_9, 18.916_852_057_842_046),
        (2.0, 22.35, -3.551_316_759_731_704_7, 24.663_713_910_761_155),
        (10.0, 40.0, -4.298_355_013_037_192_2, 39.799_202_942_979_767),
    ] {
        close(gamma_gamma::log_likelihood(&gg, x, m), ll, 1e-10);
        close(gamma_gamma::expected_value(&gg, x, m).unwrap(), mean, 1e-12);
    }
    close(
        gamma_gamma::expected_value(&gg, 0.0, 0.0).unwrap(),
        35.218_978_102_189_777,
        1e-12,
    );
}

/// The CDNOW summary shipped in tests/clv (2357 customers, weeks).
fn cdnow() -> Vec<(f64, f64, f64, f64)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clv/cdnow_summary.csv");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
            (v[1], v[2], v[3], v[4])
        })
        .collect()
}

#[test]
fn bgnbd_fit_on_cdnow_matches_the_paper_and_lifetimes() {
    let data = bgnbd::Data::new(
        cdnow()
            .into_iter()
            .map(|(x, tx, t, _)| (Customer { x, tx, t }, 1.0))
            .collect(),
    );
    let fit = maximize(&data).unwrap();
    assert!(fit.converged);
    // lifetimes (tol 1e-7): r, alpha, a, b and their standard errors
    let want = [
        0.242_592_928_279_821_7,
        4.413_532_265_271_817,
        0.792_885_966_440_672_1,
        2.425_752_382_625_799_6,
    ];
    let want_se = [
        0.012_557_320_698_193_179,
        0.378_221_457_043_927,
        0.185_719_071_912_092_33,
        0.705_345_343_533_133_2,
    ];
    let se = fit.std_errors.clone().unwrap();
    for i in 0..4 {
        close(fit.params[i], want[i], 1e-4);
        close(se[i], want_se[i], 1e-3);
    }
    // FHL 2005 report LL = -9582.4; mpmath at lifetimes' optimum -9582.42556;
    // ours is the same optimum (at least as high, and not by more than 1e-6)
    let at_lifetimes = -9_582.425_560_567_372;
    assert!(
        fit.log_likelihood >= at_lifetimes - 1e-6,
        "{}",
        fit.log_likelihood
    );
    assert!(
        fit.log_likelihood <= at_lifetimes + 1e-3,
        "{}",
        fit.log_likelihood
    );
    // grouping by (x, tx, T) with counts gives the same fit
    let mut groups: std::collections::BTreeMap<(u64, u64, u64), f64> = Default::default();
    for (c, n) in &data.groups {
        *groups
            .entry((c.x.to_bits(), c.tx.to_bits(), c.t.to_bits()))
            .or_default() += n;
    }
    assert!(groups.len() < data.groups.len());
    let grouped = bgnbd::Data::new(
        groups
            .into_iter()
            .map(|((x, tx, t), n)| {
                let c = Customer {
                    x: f64::from_bits(x),
                    tx: f64::from_bits(tx),
                    t: f64::from_bits(t),
                };
                (c, n)
            })
            .collect(),
    );
    let fit2 = maximize(&grouped).unwrap();
    for i in 0..4 {
        close(fit2.params[i], fit.params[i], 1e-6);
    }
}

#[test]
fn gamma_gamma_fit_on_cdnow_matches_the_paper_and_lifetimes() {
    let data = gamma_gamma::Data::new(
        cdnow()
            .into_iter()
            .filter(|r| r.0 > 0.0)
            .map(|(x, _, _, m)| (x, m, 1.0))
            .collect(),
    );
    assert_eq!(data.customers(), 946.0);
    let fit = maximize(&data).unwrap();
    assert!(fit.converged);
    // lifetimes: p, q, v; Fader & Hardie (2013) report 6.25, 3.74, 15.44
    let want = [
        6.248_802_496_072_247,
        3.744_588_460_923_599,
        15.447_748_064_939_473,
    ];
    let want_se = [
        1.189_687_048_082_416_2,
        0.290_165_617_449_543_9,
        4.159_993_928_426_354_5,
    ];
    let se = fit.std_errors.clone().unwrap();
    for i in 0..3 {
        close(fit.params[i], want[i], 1e-4);
        close(se[i], want_se[i], 1e-3);
    }
    let at_lifetimes = -4_055.923_243_502_866_6;
    assert!(
        fit.log_likelihood >= at_lifetimes - 1e-6,
        "{}",
        fit.log_likelihood
    );
    assert!(
        fit.log_likelihood <= at_lifetimes + 1e-3,
        "{}",
        fit.log_likelihood
    );
}

#[test]
fn gradients_match_finite_differences() {
    let bg = bgnbd::Data::new(
        cdnow()
            .into_iter()
            .take(300)
            .map(|(x, tx, t, _)| (Customer { x, tx, t }, 1.0))
            .collect(),
    );
    let gg = gamma_gamma::Data::new(
        cdnow()
            .into_iter()
            .filter(|r| r.0 > 0.0)
            .map(|(x, _, _, m)| (x, m, 2.0))
            .collect(),
    );
    fn check<L: Likelihood>(model: &L, theta: &[f64]) {
        let (_, g) = model.ll_grad(theta);
        for i in 0..theta.len() {
            let h = 1e-6 * theta[i];
            let mut up = theta.to_vec();
            let mut down = theta.to_vec();
            up[i] += h;
            down[i] -= h;
            let fd = (model.ll_grad(&up).0 - model.ll_grad(&down).0) / (2.0 * h);
            assert!(
                (g[i] - fd).abs() <= 1e-5 * fd.abs().max(1.0),
                "param {i}: {} vs {fd}",
                g[i]
            );
        }
    }
    check(&bg, &[0.5, 3.0, 1.2, 2.0]);
    check(&gg, &[4.0, 2.5, 12.0]);
}
