//! Scalar statistics functions: row-wise tests and intervals on 2×2 tables
//! and group summaries. One generic [`StatScalar`] wraps each math function
//! with its SQL name, argument names (used in error messages), optional
//! trailing `confidence`, and either a `double` result or a struct of
//! `estimate`, `lower`, `upper`.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, StructArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::math::{self, Interval};
use super::{coerce_numeric, interval_fields};

/// Up to three outputs of one evaluation.
type Out = [Option<f64>; 3];
/// Evaluate one row; `Err` is a message about a bad argument.
type Eval = fn(&[f64]) -> std::result::Result<Out, String>;

/// A scalar function of numeric arguments.
#[derive(Debug)]
pub struct StatScalar {
    name: &'static str,
    params: &'static [&'static str],
    /// Optional trailing arguments with their defaults.
    optional: &'static [(&'static str, f64)],
    /// true: returns struct<estimate, lower, upper>; false: double.
    interval: bool,
    eval: Eval,
    signature: Signature,
}

impl PartialEq for StatScalar {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for StatScalar {}
impl Hash for StatScalar {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl StatScalar {
    fn udf(
        name: &'static str,
        params: &'static [&'static str],
        optional: &'static [(&'static str, f64)],
        interval: bool,
        eval: Eval,
    ) -> ScalarUDF {
        ScalarUDF::from(StatScalar {
            name,
            params,
            optional,
            interval,
            eval,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }
}

const TWO_BY_TWO: &[&str] = &["x1", "n1", "x0", "n0"];
const SUMMARIES: &[&str] = &["mean1", "sd1", "n1", "mean0", "sd0", "n0"];
const CONFIDENCE: &[(&str, f64)] = &[("confidence", 0.95)];

fn interval(i: Interval) -> Out {
    [i.estimate, i.lower, i.upper]
}

fn p_only(p: Option<f64>) -> Out {
    [p, None, None]
}

/// `risk_ratio(x1, n1, x0, n0 [, confidence])`
pub fn risk_ratio_udf() -> ScalarUDF {
    StatScalar::udf("risk_ratio", TWO_BY_TWO, CONFIDENCE, true, |a| {
        math::check_two_by_two(a[0], a[1], a[2], a[3], false)?;
        math::check_confidence(a[4])?;
        Ok(interval(math::risk_ratio(a[0], a[1], a[2], a[3], a[4])))
    })
}

/// `odds_ratio(x1, n1, x0, n0 [, confidence])`
pub fn odds_ratio_udf() -> ScalarUDF {
    StatScalar::udf("odds_ratio", TWO_BY_TWO, CONFIDENCE, true, |a| {
        math::check_two_by_two(a[0], a[1], a[2], a[3], false)?;
        math::check_confidence(a[4])?;
        Ok(interval(math::odds_ratio(a[0], a[1], a[2], a[3], a[4])))
    })
}

/// `z_test_p_value(x1, n1, x0, n0)`
pub fn z_test_udf() -> ScalarUDF {
    StatScalar::udf("z_test_p_value", TWO_BY_TWO, &[], false, |a| {
        math::check_two_by_two(a[0], a[1], a[2], a[3], false)?;
        Ok(p_only(math::z_test_p(a[0], a[1], a[2], a[3])))
    })
}

/// `fisher_exact_p_value(x1, n1, x0, n0)`
pub fn fisher_udf() -> ScalarUDF {
    StatScalar::udf("fisher_exact_p_value", TWO_BY_TWO, &[], false, |a| {
        math::check_two_by_two(a[0], a[1], a[2], a[3], true)?;
        let [x1, n1, x0, n0] = [a[0], a[1], a[2], a[3]].map(|v| v as u64);
        Ok(p_only(math::fisher_exact_p(x1, n1, x0, n0)))
    })
}

/// `welch_t_test_p_value(mean1, sd1, n1, mean0, sd0, n0)`
pub fn welch_udf() -> ScalarUDF {
    StatScalar::udf("welch_t_test_p_value", SUMMARIES, &[], false, |a| {
        math::check_summary("1", a[1], a[2])?;
        math::check_summary("0", a[4], a[5])?;
        Ok(p_only(math::welch_t_test_p(
            a[0], a[1], a[2], a[3], a[4], a[5],
        )))
    })
}

/// `mean_ratio(mean1, sd1, n1, mean0, sd0, n0 [, confidence])`
pub fn mean_ratio_udf() -> ScalarUDF {
    StatScalar::udf("mean_ratio", SUMMARIES, CONFIDENCE, true, |a| {
        math::check_summary("1", a[1], a[2])?;
        math::check_summary("0", a[4], a[5])?;
        math::check_confidence(a[6])?;
        Ok(interval(math::mean_ratio(
            a[0], a[1], a[2], a[3], a[4], a[5], a[6],
        )))
    })
}

impl ScalarUDFImpl for StatScalar {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let optional: Vec<&str> = self.optional.iter().map(|(n, _)| *n).collect();
        coerce_numeric(self.name, self.params, &optional, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.interval {
            DataType::Struct(interval_fields())
        } else {
            DataType::Float64
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let columns: Vec<&Float64Array> = arrays
            .iter()
            .map(|a| a.as_primitive::<Float64Type>())
            .collect();
        let total = self.params.len() + self.optional.len();
        let mut out: [Vec<Option<f64>>; 3] = Default::default();
        let mut row = vec![0.0; total];
        for r in 0..rows {
            let mut null = false;
            for (i, slot) in row.iter_mut().enumerate() {
                match columns.get(i) {
                    Some(c) if c.is_null(r) => null = true,
                    Some(c) => *slot = c.value(r),
                    None => *slot = self.optional[i - self.params.len()].1,
                }
            }
            let values = if null {
                [None; 3]
            } else {
                (self.eval)(&row)
                    .map_err(|m| DataFusionError::Execution(format!("{}: {m}", self.name)))?
            };
            for (o, v) in out.iter_mut().zip(values) {
                o.push(v.filter(|x| x.is_finite()));
            }
        }
        let [estimate, lower, upper] = out.map(|v| Arc::new(Float64Array::from(v)) as ArrayRef);
        let array: ArrayRef = if self.interval {
            Arc::new(StructArray::new(
                interval_fields(),
                vec![estimate, lower, upper],
                None,
            ))
        } else {
            estimate
        };
        Ok(ColumnarValue::Array(array))
    }
}
