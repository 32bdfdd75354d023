//! One rule for testing a 2×2 table, shared by every query that compares two
//! conversion rates (`micro_conversion_lift`, its by-segment table and
//! `experiments`):
//!
//! - `two_proportion_test(x1, n1, x0, n0)`: `'fisher'` when the smallest
//!   expected cell count is below 5, else `'z'`; NULL when a group is empty.
//!   The smallest expected cell is `min(n1, n0) × min(x, n − x) / n` with
//!   `x = x1 + x0` and `n = n1 + n0`, so the rule reads
//!   `min(n1, n0) × min(x, n − x) < 5n`.
//! - `two_proportion_p_value(x1, n1, x0, n0)`: the two-sided p-value of the
//!   test it names: `fisher_exact_p_value` or `z_test_p_value` (the pooled
//!   two-proportion z test), so both always agree.
//!
//! Arguments are counts as in the other 2×2 functions (converters and users
//! of group 1, then of group 0); a NULL argument gives NULL, a negative count
//! or converters above users is an error naming the function, and Fisher's
//! test also needs whole counts.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::math;

/// The test the rule picks for a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    Fisher,
    Z,
}

impl Test {
    pub fn name(self) -> &'static str {
        match self {
            Test::Fisher => "fisher",
            Test::Z => "z",
        }
    }
}

/// Fisher's exact test when the smallest expected cell count is below 5,
/// else the z test; `None` when a group is empty.
pub fn choose(x1: f64, n1: f64, x0: f64, n0: f64) -> Option<Test> {
    if n1 == 0.0 || n0 == 0.0 {
        return None;
    }
    let (x, n) = (x1 + x0, n1 + n0);
    if n1.min(n0) * x.min(n - x) < 5.0 * n {
        Some(Test::Fisher)
    } else {
        Some(Test::Z)
    }
}

/// The chosen test after checking the table (Fisher's also needs whole counts).
fn checked_choice(x1: f64, n1: f64, x0: f64, n0: f64) -> std::result::Result<Option<Test>, String> {
    math::check_two_by_two(x1, n1, x0, n0, false)?;
    let test = choose(x1, n1, x0, n0);
    if test == Some(Test::Fisher) {
        math::check_two_by_two(x1, n1, x0, n0, true)?;
    }
    Ok(test)
}

/// The two-sided p-value of the chosen test.
pub fn p_value(x1: f64, n1: f64, x0: f64, n0: f64) -> std::result::Result<Option<f64>, String> {
    Ok(match checked_choice(x1, n1, x0, n0)? {
        None => None,
        Some(Test::Z) => math::z_test_p(x1, n1, x0, n0),
        Some(Test::Fisher) => math::fisher_exact_p(x1 as u64, n1 as u64, x0 as u64, n0 as u64),
    }
    .filter(|p| p.is_finite()))
}

/// What a [`TwoProportion`] function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Output {
    /// The name of the test (Utf8).
    Test,
    /// Its p-value (Float64).
    PValue,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TwoProportion {
    name: &'static str,
    output: Output,
    signature: Signature,
}

fn udf(name: &'static str, output: Output) -> ScalarUDF {
    ScalarUDF::from(TwoProportion {
        name,
        output,
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

/// `two_proportion_test(x1, n1, x0, n0)`
pub fn two_proportion_test_udf() -> ScalarUDF {
    udf("two_proportion_test", Output::Test)
}

/// `two_proportion_p_value(x1, n1, x0, n0)`
pub fn two_proportion_p_value_udf() -> ScalarUDF {
    udf("two_proportion_p_value", Output::PValue)
}

/// Register both functions into `ctx`.
pub fn register(ctx: &datafusion::prelude::SessionContext) {
    ctx.register_udf(two_proportion_test_udf());
    ctx.register_udf(two_proportion_p_value_udf());
}

impl ScalarUDFImpl for TwoProportion {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name;
        if arg_types.len() != 4 {
            return plan_err!(
                "{name} takes 4 arguments ({name}(x1, n1, x0, n0)), got {}",
                arg_types.len()
            );
        }
        arg_types
            .iter()
            .zip(["x1", "n1", "x0", "n0"])
            .map(|(t, arg)| {
                if t.is_numeric() || t.is_null() {
                    Ok(DataType::Float64)
                } else {
                    plan_err!("{name}: argument `{arg}` must be numeric, got {t}")
                }
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.output {
            Output::Test => DataType::Utf8,
            Output::PValue => DataType::Float64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [x1, n1, x0, n0] = arrays.as_slice() else {
            return exec_err!("{} takes 4 arguments", self.name);
        };
        let [x1, n1, x0, n0] = [x1, n1, x0, n0].map(|a| a.as_primitive::<Float64Type>());
        let rows = x1.len();
        let mut tests: Vec<Option<&'static str>> = Vec::with_capacity(rows);
        let mut p_values: Vec<Option<f64>> = Vec::with_capacity(rows);
        for r in 0..rows {
            if [x1, n1, x0, n0].iter().any(|c| c.is_null(r)) {
                tests.push(None);
                p_values.push(None);
                continue;
            }
            let [a, b, c, d] = [x1, n1, x0, n0].map(|col| col.value(r));
            let error = |m: String| {
                datafusion::error::DataFusionError::Execution(format!("{}: {m}", self.name))
            };
            match self.output {
                Output::Test => {
                    tests.push(checked_choice(a, b, c, d).map_err(error)?.map(Test::name))
                }
                Output::PValue => p_values.push(p_value(a, b, c, d).map_err(error)?),
            }
        }
        let out: ArrayRef = match self.output {
            Output::Test => Arc::new(StringArray::from(tests)),
            Output::PValue => Arc::new(Float64Array::from(p_values)),
        };
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_compares_the_smallest_expected_cell_with_5() {
        // n = 40, x = 10: min(20, 20) * min(10, 30) = 200 >= 5 * 40 = 200 -> z
        assert_eq!(choose(5.0, 20.0, 5.0, 20.0), Some(Test::Z));
        // one converter fewer: 20 * 9 = 180 < 5 * 39 = 195 -> fisher
        assert_eq!(choose(4.0, 20.0, 5.0, 19.0), Some(Test::Fisher));
        // everybody converted: min(x, n - x) = 0 -> fisher
        assert_eq!(choose(3.0, 3.0, 4.0, 4.0), Some(Test::Fisher));
        assert_eq!(choose(0.0, 0.0, 5.0, 20.0), None);
    }

    #[test]
    fn p_value_is_the_chosen_tests() {
        // the tea-tasting lady (3 of 4 vs 1 of 4): Fisher's two-sided p = 34/70
        let p = p_value(3.0, 4.0, 1.0, 4.0).unwrap().unwrap();
        assert!((p - 34.0 / 70.0).abs() < 1e-12, "{p}");
        assert_eq!(
            p_value(50.0, 100.0, 30.0, 100.0).unwrap(),
            math::z_test_p(50.0, 100.0, 30.0, 100.0)
        );
        assert!(p_value(5.0, 4.0, 1.0, 4.0).is_err());
        assert!(p_value(1.5, 4.0, 1.0, 4.0).is_err());
    }
}
