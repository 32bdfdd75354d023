//! The scalar CLV functions: BG/NBD and Gamma-Gamma log-likelihoods and
//! predictions at given parameters, discounted CLV, and ₂F₁. Every argument
//! is a DOUBLE (integers are cast); a NULL argument gives NULL; an
//! impossible argument (a parameter ≤ 0, recency > t, ...) is an error naming
//! the function and the argument.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::bgnbd::{self, Customer};
use super::gamma_gamma;
use super::hyp2f1::hyp2f1;

/// The scalar functions, by what they compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClvFn {
    BgNbdLogLikelihood,
    BgNbdPAlive,
    BgNbdExpectedPurchases,
    BgNbdExpectedPurchasesNew,
    BgNbdClv,
    GammaGammaLogLikelihood,
    GammaGammaExpectedValue,
    Hyp2f1,
}

const BG: [&str; 4] = ["r", "alpha", "a", "b"];
const CUSTOMER: [&str; 3] = ["frequency", "recency", "t"];
const GG: [&str; 5] = ["p", "q", "gamma", "frequency", "monetary_value"];

impl ClvFn {
    pub const ALL: [ClvFn; 8] = [
        ClvFn::BgNbdLogLikelihood,
        ClvFn::BgNbdPAlive,
        ClvFn::BgNbdExpectedPurchases,
        ClvFn::BgNbdExpectedPurchasesNew,
        ClvFn::BgNbdClv,
        ClvFn::GammaGammaLogLikelihood,
        ClvFn::GammaGammaExpectedValue,
        ClvFn::Hyp2f1,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ClvFn::BgNbdLogLikelihood => "bgnbd_log_likelihood",
            ClvFn::BgNbdPAlive => "bgnbd_p_alive",
            ClvFn::BgNbdExpectedPurchases => "bgnbd_expected_purchases",
            ClvFn::BgNbdExpectedPurchasesNew => "bgnbd_expected_purchases_new",
            ClvFn::BgNbdClv => "bgnbd_clv",
            ClvFn::GammaGammaLogLikelihood => "gamma_gamma_log_likelihood",
            ClvFn::GammaGammaExpectedValue => "gamma_gamma_expected_value",
            ClvFn::Hyp2f1 => "hyp2f1",
        }
    }

    /// Argument names, in order.
    pub fn args(self) -> Vec<&'static str> {
        let bg_customer = || [BG.as_slice(), CUSTOMER.as_slice()].concat();
        match self {
            ClvFn::BgNbdLogLikelihood | ClvFn::BgNbdPAlive => bg_customer(),
            ClvFn::BgNbdExpectedPurchases => [bg_customer(), vec!["horizon"]].concat(),
            ClvFn::BgNbdExpectedPurchasesNew => [BG.as_slice(), &["horizon"]].concat(),
            ClvFn::BgNbdClv => [
                bg_customer(),
                vec![
                    "order_value",
                    "horizon",
                    "monthly_discount_rate",
                    "periods_per_month",
                ],
            ]
            .concat(),
            ClvFn::GammaGammaLogLikelihood | ClvFn::GammaGammaExpectedValue => GG.to_vec(),
            ClvFn::Hyp2f1 => vec!["a", "b", "c", "z"],
        }
    }

    /// Evaluate at one row of arguments.
    pub fn eval(self, v: &[f64]) -> Result<Option<f64>, String> {
        let bg = || {
            let p = bgnbd::Params::from_slice(&v[..4]);
            p.check().map(|_| p)
        };
        let customer = || {
            let c = Customer {
                x: v[4],
                tx: v[5],
                t: v[6],
            };
            c.check().map(|_| c)
        };
        let non_negative = |i: usize, name: &str| {
            if v[i] >= 0.0 && v[i].is_finite() {
                Ok(v[i])
            } else {
                Err(format!(
                    "argument `{name}` must be non-negative, got {}",
                    v[i]
                ))
            }
        };
        match self {
            ClvFn::BgNbdLogLikelihood => Ok(Some(bgnbd::log_likelihood(&bg()?, &customer()?))),
            ClvFn::BgNbdPAlive => Ok(Some(bgnbd::p_alive(&bg()?, &customer()?))),
            ClvFn::BgNbdExpectedPurchases => {
                let (p, c) = (bg()?, customer()?);
                Ok(bgnbd::expected_purchases(
                    &p,
                    &c,
                    non_negative(7, "horizon")?,
                ))
            }
            ClvFn::BgNbdExpectedPurchasesNew => {
                let p = bg()?;
                Ok(bgnbd::expected_purchases_new(
                    &p,
                    non_negative(4, "horizon")?,
                ))
            }
            ClvFn::BgNbdClv => {
                let (p, c) = (bg()?, customer()?);
                if !v[7].is_finite() {
                    return Err(format!(
                        "argument `order_value` must be finite, got {}",
                        v[7]
                    ));
                }
                let horizon = non_negative(8, "horizon")?;
                if !(v[9] > -1.0 && v[9].is_finite()) {
                    return Err(format!(
                        "argument `monthly_discount_rate` must be greater than -1, got {}",
                        v[9]
                    ));
                }
                if !(v[10] > 0.0 && v[10].is_finite()) {
                    return Err(format!(
                        "argument `periods_per_month` must be positive, got {}",
                        v[10]
                    ));
                }
                Ok(bgnbd::discounted_value(&p, &c, v[7], horizon, v[9], v[10]))
            }
            ClvFn::GammaGammaLogLikelihood | ClvFn::GammaGammaExpectedValue => {
                let p = gamma_gamma::Params::from_slice(&v[..3]);
                p.check()?;
                let (x, m) = (v[3], v[4]);
                if !(x >= 0.0 && x.is_finite() && x == x.floor()) {
                    return Err(format!(
                        "argument `frequency` must be a non-negative integer, got {x}"
                    ));
                }
                if self == ClvFn::GammaGammaExpectedValue {
                    if !m.is_finite() {
                        return Err(format!("argument `monetary_value` must be finite, got {m}"));
                    }
                    return Ok(gamma_gamma::expected_value(&p, x, m));
                }
                if x == 0.0 || !(m > 0.0 && m.is_finite()) {
                    return Err(format!(
                        "the likelihood needs frequency > 0 and monetary_value > 0, got {x} and {m}"
                    ));
                }
                Ok(Some(gamma_gamma::log_likelihood(&p, x, m)))
            }
            ClvFn::Hyp2f1 => {
                let (a, b, c, z) = (v[0], v[1], v[2], v[3]);
                if z.is_nan() || z >= 1.0 {
                    return Err(format!("argument `z` must be less than 1, got {z}"));
                }
                if c <= 0.0 && c == c.floor() {
                    return Err(format!(
                        "argument `c` must not be a non-positive integer, got {c}"
                    ));
                }
                Ok(hyp2f1(a, b, c, z))
            }
        }
    }
}

/// A scalar CLV function as a DataFusion UDF.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ClvUdf {
    func: ClvFn,
    signature: Signature,
}

/// The UDF for `func`.
pub fn udf(func: ClvFn) -> ScalarUDF {
    ScalarUDF::from(ClvUdf {
        func,
        signature: Signature::uniform(
            func.args().len(),
            vec![DataType::Float64],
            Volatility::Immutable,
        ),
    })
}

impl ScalarUDFImpl for ClvUdf {
    fn name(&self) -> &str {
        self.func.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let cols: Vec<&Float64Array> = arrays
            .iter()
            .map(|a| a.as_primitive::<Float64Type>())
            .collect();
        let rows = cols.first().map_or(args.number_rows, |c| c.len());
        let mut row = vec![0.0; cols.len()];
        let mut out = Vec::with_capacity(rows);
        for i in 0..rows {
            if cols.iter().any(|c| c.is_null(i)) {
                out.push(None);
                continue;
            }
            for (j, c) in cols.iter().enumerate() {
                row[j] = c.value(i);
            }
            match self.func.eval(&row) {
                Ok(v) => out.push(v),
                Err(m) => return exec_err!("{}: {m}", self.func.name()),
            }
        }
        if all_scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::Float64(
                out.first().copied().flatten(),
            )));
        }
        let out: ArrayRef = Arc::new(Float64Array::from(out));
        Ok(ColumnarValue::Array(out))
    }
}
