//! Proportion statistics the funnel queries need, as scalar SQL functions:
//!
//! - `proportion_ci_low(successes, trials [, confidence])` and
//!   `proportion_ci_high(...)`: the Wilson score interval for a binomial
//!   proportion (default confidence 0.95). NULL when `trials` is 0.
//!   `SELECT proportion_ci_low(40, 100)` → 0.3094.
//! - `two_proportion_p(successes1, trials1, successes2, trials2)`: the
//!   two-sided p-value of the pooled two-proportion z-test of
//!   `successes1/trials1 = successes2/trials2`. NULL when a group has no
//!   trials; 1 when both proportions are 0 or both are 1.
//!   `SELECT two_proportion_p(30, 100, 50, 100)` → 0.0039.
//!
//! Distributions come from `statrs`. Counts may be integers or floats; a
//! negative count or more successes than trials is an error naming the
//! function and argument.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use statrs::distribution::{ContinuousCDF, Normal};

type Kernel = fn(&[f64]) -> std::result::Result<Option<f64>, String>;

/// A scalar function of Float64 arguments with a Float64 result.
#[derive(Debug)]
pub struct FloatFn {
    name: &'static str,
    kernel: Kernel,
    signature: Signature,
}

impl PartialEq for FloatFn {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for FloatFn {}

impl std::hash::Hash for FloatFn {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

fn float_fn(name: &'static str, arities: &[usize], kernel: Kernel) -> ScalarUDF {
    let signature = Signature::one_of(
        arities
            .iter()
            .map(|&n| TypeSignature::Uniform(n, vec![DataType::Float64]))
            .collect(),
        Volatility::Immutable,
    );
    ScalarUDF::from(FloatFn {
        name,
        kernel,
        signature,
    })
}

impl ScalarUDFImpl for FloatFn {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let columns: Vec<&Float64Array> = arrays.iter().map(|a| a.as_primitive()).collect();
        let rows = columns.first().map(|c| c.len()).unwrap_or(0);
        let mut values = vec![0.0; columns.len()];
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            if columns.iter().any(|c| c.is_null(row)) {
                out.push(None);
                continue;
            }
            for (v, c) in values.iter_mut().zip(&columns) {
                *v = c.value(row);
            }
            match (self.kernel)(&values) {
                Ok(v) => out.push(v),
                Err(m) => return exec_err!("{}: {m}", self.name),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(
            out.into_iter().collect::<Float64Array>(),
        )))
    }
}

fn standard_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("the standard normal exists")
}

fn check_counts(successes: f64, trials: f64, which: &str) -> std::result::Result<(), String> {
    if !(successes >= 0.0 && trials >= 0.0) {
        return Err(format!("{which} counts must not be negative"));
    }
    if successes > trials {
        return Err(format!(
            "{which}successes ({successes}) exceed trials ({trials})"
        ));
    }
    Ok(())
}

/// The Wilson score interval `(low, high)`; `None` when `trials` is 0.
pub fn wilson(
    successes: f64,
    trials: f64,
    confidence: f64,
) -> std::result::Result<Option<(f64, f64)>, String> {
    check_counts(successes, trials, "")?;
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(format!(
            "argument 3 (confidence) must be between 0 and 1, got {confidence}"
        ));
    }
    if trials == 0.0 {
        return Ok(None);
    }
    let z = standard_normal().inverse_cdf(1.0 - (1.0 - confidence) / 2.0);
    let p = successes / trials;
    let z2n = z * z / trials;
    let center = (p + z2n / 2.0) / (1.0 + z2n);
    let half = z * (p * (1.0 - p) / trials + z2n / (4.0 * trials)).sqrt() / (1.0 + z2n);
    Ok(Some(((center - half).max(0.0), (center + half).min(1.0))))
}

/// Two-sided p-value of the pooled two-proportion z-test.
pub fn two_proportion_p(
    k1: f64,
    n1: f64,
    k2: f64,
    n2: f64,
) -> std::result::Result<Option<f64>, String> {
    check_counts(k1, n1, "group 1 ")?;
    check_counts(k2, n2, "group 2 ")?;
    if n1 == 0.0 || n2 == 0.0 {
        return Ok(None);
    }
    let pooled = (k1 + k2) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se == 0.0 {
        return Ok(Some(1.0));
    }
    let z = (k1 / n1 - k2 / n2) / se;
    Ok(Some((2.0 * standard_normal().cdf(-z.abs())).min(1.0)))
}

fn confidence(args: &[f64]) -> f64 {
    args.get(2).copied().unwrap_or(0.95)
}

/// `proportion_ci_low(successes, trials [, confidence])`.
pub fn proportion_ci_low_udf() -> ScalarUDF {
    float_fn("proportion_ci_low", &[2, 3], |a| {
        Ok(wilson(a[0], a[1], confidence(a))?.map(|(low, _)| low))
    })
}

/// `proportion_ci_high(successes, trials [, confidence])`.
pub fn proportion_ci_high_udf() -> ScalarUDF {
    float_fn("proportion_ci_high", &[2, 3], |a| {
        Ok(wilson(a[0], a[1], confidence(a))?.map(|(_, high)| high))
    })
}

/// `two_proportion_p(successes1, trials1, successes2, trials2)`.
pub fn two_proportion_p_udf() -> ScalarUDF {
    float_fn("two_proportion_p", &[4], |a| {
        two_proportion_p(a[0], a[1], a[2], a[3])
    })
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

    // Reference: statsmodels proportions_ztest([30, 50], [100, 100]) gives
    // z = -2.8868, p = 0.0038924; ([5, 9], [40, 60]) p = 0.72411.
    #[test]
    fn two_proportion_matches_statsmodels() {
        let p = two_proportion_p(30.0, 100.0, 50.0, 100.0).unwrap().unwrap();
        assert!(close(p, 0.0038924), "{p}");
        let p = two_proportion_p(5.0, 40.0, 9.0, 60.0).unwrap().unwrap();
        assert!(close(p, 0.72411), "{p}");
        assert_eq!(two_proportion_p(0.0, 10.0, 0.0, 5.0), Ok(Some(1.0)));
        assert_eq!(two_proportion_p(1.0, 10.0, 0.0, 0.0), Ok(None));
    }
}
