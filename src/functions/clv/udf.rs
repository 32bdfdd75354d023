//! The scalar CLV functions: BG/NBD and Gamma-Gamma log-likelihoods and
//! predictions at given parameters, discounted CLV, and ₂F₁. Each is a
//! [`rowwise`] `double` function: integers are cast; a NULL argument gives
//! NULL; a non-finite or impossible argument (a parameter ≤ 0, recency > t,
//! ...) is an error naming the function and the argument; a result that is
//! undefined (a ₂F₁ series that does not converge) or overflows is NULL.

use datafusion::logical_expr::ScalarUDF;

use super::bgnbd::{self, Customer};
use super::gamma_gamma;
use super::hyp2f1::hyp2f1;
use crate::functions::rowwise::{self, arg, Arg};

const R: Arg = arg("r");
const ALPHA: Arg = arg("alpha");
const A: Arg = arg("a");
const B: Arg = arg("b");
const FREQUENCY: Arg = arg("frequency");
const RECENCY: Arg = arg("recency");
const T: Arg = arg("t");
const HORIZON: Arg = arg("horizon");
const GG: [Arg; 5] = [
    arg("p"),
    arg("q"),
    arg("gamma"),
    FREQUENCY,
    arg("monetary_value"),
];

/// Every scalar CLV function.
pub fn udfs() -> [ScalarUDF; 8] {
    [
        bgnbd_log_likelihood_udf(),
        bgnbd_p_alive_udf(),
        bgnbd_expected_purchases_udf(),
        bgnbd_expected_purchases_new_udf(),
        bgnbd_clv_udf(),
        gamma_gamma_log_likelihood_udf(),
        gamma_gamma_expected_value_udf(),
        hyp2f1_udf(),
    ]
}

/// Checked BG/NBD parameters.
fn bg(r: f64, alpha: f64, a: f64, b: f64) -> Result<bgnbd::Params, String> {
    let p = bgnbd::Params { r, alpha, a, b };
    p.check().map(|_| p)
}

/// A checked customer summary.
fn customer(x: f64, tx: f64, t: f64) -> Result<Customer, String> {
    let c = Customer { x, tx, t };
    c.check().map(|_| c)
}

fn non_negative(name: &str, v: f64) -> Result<f64, String> {
    if v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("argument `{name}` must be non-negative, got {v}"))
    }
}

/// Checked Gamma-Gamma parameters and frequency (a non-negative integer).
fn gg(p: f64, q: f64, gamma: f64, x: f64) -> Result<gamma_gamma::Params, String> {
    let params = gamma_gamma::Params { p, q, gamma };
    params.check()?;
    if !(x >= 0.0 && x == x.floor()) {
        return Err(format!(
            "argument `frequency` must be a non-negative integer, got {x}"
        ));
    }
    Ok(params)
}

/// `bgnbd_log_likelihood(r, alpha, a, b, frequency, recency, t)`
pub fn bgnbd_log_likelihood_udf() -> ScalarUDF {
    rowwise::double(
        "bgnbd_log_likelihood",
        [R, ALPHA, A, B, FREQUENCY, RECENCY, T],
        |[r, alpha, a, b, x, tx, t]| {
            let (p, c) = (bg(r, alpha, a, b)?, customer(x, tx, t)?);
            Ok(Some(bgnbd::log_likelihood(&p, &c)))
        },
    )
}

/// `bgnbd_p_alive(r, alpha, a, b, frequency, recency, t)`
pub fn bgnbd_p_alive_udf() -> ScalarUDF {
    rowwise::double(
        "bgnbd_p_alive",
        [R, ALPHA, A, B, FREQUENCY, RECENCY, T],
        |[r, alpha, a, b, x, tx, t]| {
            let (p, c) = (bg(r, alpha, a, b)?, customer(x, tx, t)?);
            Ok(Some(bgnbd::p_alive(&p, &c)))
        },
    )
}

/// `bgnbd_expected_purchases(r, alpha, a, b, frequency, recency, t, horizon)`
pub fn bgnbd_expected_purchases_udf() -> ScalarUDF {
    rowwise::double(
        "bgnbd_expected_purchases",
        [R, ALPHA, A, B, FREQUENCY, RECENCY, T, HORIZON],
        |[r, alpha, a, b, x, tx, t, horizon]| {
            let (p, c) = (bg(r, alpha, a, b)?, customer(x, tx, t)?);
            let horizon = non_negative("horizon", horizon)?;
            Ok(bgnbd::expected_purchases(&p, &c, horizon))
        },
    )
}

/// `bgnbd_expected_purchases_new(r, alpha, a, b, horizon)`
pub fn bgnbd_expected_purchases_new_udf() -> ScalarUDF {
    rowwise::double(
        "bgnbd_expected_purchases_new",
        [R, ALPHA, A, B, HORIZON],
        |[r, alpha, a, b, horizon]| {
            let p = bg(r, alpha, a, b)?;
            let horizon = non_negative("horizon", horizon)?;
            Ok(bgnbd::expected_purchases_new(&p, horizon))
        },
    )
}

/// `bgnbd_clv(r, alpha, a, b, frequency, recency, t, order_value, horizon,
/// monthly_discount_rate, periods_per_month)`
pub fn bgnbd_clv_udf() -> ScalarUDF {
    rowwise::double(
        "bgnbd_clv",
        [
            R,
            ALPHA,
            A,
            B,
            FREQUENCY,
            RECENCY,
            T,
            arg("order_value"),
            HORIZON,
            arg("monthly_discount_rate"),
            arg("periods_per_month"),
        ],
        |[r, alpha, a, b, x, tx, t, order_value, horizon, rate, periods]| {
            let (p, c) = (bg(r, alpha, a, b)?, customer(x, tx, t)?);
            let horizon = non_negative("horizon", horizon)?;
            if rate <= -1.0 {
                return Err(format!(
                    "argument `monthly_discount_rate` must be greater than -1, got {rate}"
                ));
            }
            if periods <= 0.0 {
                return Err(format!(
                    "argument `periods_per_month` must be positive, got {periods}"
                ));
            }
            Ok(bgnbd::discounted_value(
                &p,
                &c,
                order_value,
                horizon,
                rate,
                periods,
            ))
        },
    )
}

/// `gamma_gamma_log_likelihood(p, q, gamma, frequency, monetary_value)`
pub fn gamma_gamma_log_likelihood_udf() -> ScalarUDF {
    rowwise::double("gamma_gamma_log_likelihood", GG, |[p, q, gamma, x, m]| {
        let params = gg(p, q, gamma, x)?;
        if x == 0.0 || m <= 0.0 {
            return Err(format!(
                "the likelihood needs frequency > 0 and monetary_value > 0, got {x} and {m}"
            ));
        }
        Ok(Some(gamma_gamma::log_likelihood(&params, x, m)))
    })
}

/// `gamma_gamma_expected_value(p, q, gamma, frequency, monetary_value)`
pub fn gamma_gamma_expected_value_udf() -> ScalarUDF {
    rowwise::double("gamma_gamma_expected_value", GG, |[p, q, gamma, x, m]| {
        let params = gg(p, q, gamma, x)?;
        Ok(gamma_gamma::expected_value(&params, x, m))
    })
}

/// `hyp2f1(a, b, c, z)`
pub fn hyp2f1_udf() -> ScalarUDF {
    rowwise::double(
        "hyp2f1",
        [arg("a"), arg("b"), arg("c"), arg("z")],
        |[a, b, c, z]| {
            if z >= 1.0 {
                return Err(format!("argument `z` must be less than 1, got {z}"));
            }
            if c <= 0.0 && c == c.floor() {
                return Err(format!(
                    "argument `c` must not be a non-positive integer, got {c}"
                ));
            }
            Ok(hyp2f1(a, b, c, z))
        },
    )
}
