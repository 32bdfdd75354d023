//! The Wilson score interval for the funnel's step conversion rates, as
//! scalar SQL functions:
//!
//! `proportion_ci_low(successes, trials [, confidence])` and
//! `proportion_ci_high(...)`: the bounds of the Wilson score interval for a
//! binomial proportion (default confidence 0.95); NULL when `trials` is 0.
//! `SELECT proportion_ci_low(40, 100)` → 0.3094.
//!
//! The normal quantile is `stats::math::z_critical` (statrs). Counts may be integers or
//! floats; a negative count, more successes than trials or a confidence
//! outside (0, 1) is an error naming the function. (The segment test of
//! `friction_points` is `z_test_p_value` from `stats`.)

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

use crate::functions::stats::math;

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

/// The Wilson score interval `(low, high)`; `None` when `trials` is 0.
pub fn wilson(
    successes: f64,
    trials: f64,
    confidence: f64,
) -> std::result::Result<Option<(f64, f64)>, String> {
    if !(successes >= 0.0 && trials >= 0.0) {
        return Err("counts must not be negative".into());
    }
    if successes > trials {
        return Err(format!("successes ({successes}) exceed trials ({trials})"));
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
