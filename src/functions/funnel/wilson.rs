//! The Wilson score interval for the funnel's step conversion rates, as
//! scalar SQL functions:
//!
//! `proportion_ci_low(successes, trials [, confidence])` and
//! `proportion_ci_high(...)`: the bounds of the Wilson score interval for a
//! binomial proportion (default confidence 0.95); NULL when `trials` is 0.
//! `SELECT proportion_ci_low(40, 100)` → 0.3094.
//!
//! The normal quantile is `stats::math::z_critical` (statrs). Counts may be
//! integers or floats. Both are [`rowwise`] functions: a NULL argument gives
//! NULL; a non-finite or negative count, more successes than trials or a
//! confidence outside (0, 1) is an error naming the function and the
//! argument. (The segment test of `friction_points` is `z_test_p_value`
//! from `stats`.)

use datafusion::logical_expr::ScalarUDF;

use crate::functions::rowwise::{self, arg, opt, Arg};
use crate::functions::stats::math;

const ARGS: [Arg; 3] = [arg("successes"), arg("trials"), opt("confidence", 0.95)];

/// The Wilson score interval `(low, high)`; `None` when `trials` is 0.
pub fn wilson(
    successes: f64,
    trials: f64,
    confidence: f64,
) -> std::result::Result<Option<(f64, f64)>, String> {
    for (name, v) in [("successes", successes), ("trials", trials)] {
        if !v.is_finite() || v < 0.0 {
            return Err(format!(
                "argument `{name}` must be a non-negative count, got {v}"
            ));
        }
    }
    if successes > trials {
        return Err(format!(
            "argument `successes` ({successes}) exceeds `trials` ({trials})"
        ));
    }
    math::check_confidence(confidence)?;
    if trials == 0.0 {
        return Ok(None);
    }
    let z = math::z_critical(confidence);
    let p = successes / trials;
    let z2n = z * z / trials;
    let center = (p + z2n / 2.0) / (1.0 + z2n);
    let half = z * (p * (1.0 - p) / trials + z2n / (4.0 * trials)).sqrt() / (1.0 + z2n);
    Ok(Some(((center - half).max(0.0), (center + half).min(1.0))))
}

/// `proportion_ci_low(successes, trials [, confidence])`.
pub fn proportion_ci_low_udf() -> ScalarUDF {
    rowwise::double(
        "proportion_ci_low",
        ARGS,
        |[successes, trials, confidence]| {
            Ok(wilson(successes, trials, confidence)?.map(|(low, _)| low))
        },
    )
}

/// `proportion_ci_high(successes, trials [, confidence])`.
pub fn proportion_ci_high_udf() -> ScalarUDF {
    rowwise::double(
        "proportion_ci_high",
        ARGS,
        |[successes, trials, confidence]| {
            Ok(wilson(successes, trials, confidence)?.map(|(_, high)| high))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-5
    }

    // References: statsmodels proportion_confint(40, 100, method="wilson")
    // = (0.30940, 0.49800); (0, 10) = (0.0, 0.27753); (10, 10) = (0.72247, 1.0);
    // with alpha=0.01, (40, 100) = (0.28386, 0.52858).
    #[test]
    fn wilson_matches_statsmodels() {
        let (l, h) = wilson(40.0, 100.0, 0.95).unwrap().unwrap();
        assert!(close(l, 0.30940) && close(h, 0.49800), "{l} {h}");
        let (l, h) = wilson(0.0, 10.0, 0.95).unwrap().unwrap();
        assert!(close(l, 0.0) && close(h, 0.27753), "{l} {h}");
        let (l, h) = wilson(10.0, 10.0, 0.95).unwrap().unwrap();
        assert!(close(l, 0.72247) && close(h, 1.0), "{l} {h}");
        let (l, h) = wilson(40.0, 100.0, 0.99).unwrap().unwrap();
        assert!(close(l, 0.28386) && close(h, 0.52858), "{l} {h}");
        assert_eq!(wilson(0.0, 0.0, 0.95), Ok(None));
        assert!(wilson(5.0, 3.0, 0.95).unwrap_err().contains("exceed"));
        assert!(wilson(1.0, 3.0, 1.5).unwrap_err().contains("confidence"));
    }
}
