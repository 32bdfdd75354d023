//! Customer lifetime value models as SQL functions: BG/NBD (repeat
//! purchases and churn) and Gamma-Gamma (spend per purchase), fitted by
//! maximum likelihood in an aggregate and applied by scalar functions that
//! take the parameters. Durations (recency, t, horizon) are in one time unit
//! of the caller's choice, the same for fitting and prediction.
//!
//! # Fitting aggregates
//!
//! - `bgnbd_fit(frequency, recency, t [, count]) -> STRUCT<r, alpha, a, b,
//!   r_se, alpha_se, a_se, b_se, log_likelihood, customers, converged,
//!   iterations>`: maximum-likelihood BG/NBD fit over customers' summaries
//!   (`count` customers per row, default 1). frequency must be a
//!   non-negative integer, 0 ≤ recency ≤ t, recency = 0 when frequency = 0;
//!   rows with a NULL are skipped. Parameters are NULL when there is no
//!   repeat customer or every t is 0 (nothing to estimate); `*_se` are NULL
//!   when the information matrix is not positive definite.
//!   `SELECT bgnbd_fit(frequency, recency, t) AS m FROM clv_rfm` then
//!   `m['r']`.
//! - `gamma_gamma_fit(frequency, monetary_value [, count]) -> STRUCT<p, q,
//!   gamma, p_se, q_se, gamma_se, log_likelihood, customers, converged,
//!   iterations>`: Gamma-Gamma fit over repeat customers; rows with
//!   frequency = 0 or monetary_value ≤ 0 are ignored (not counted in
//!   `customers`); parameters are NULL with fewer than 2 such customers.
//!
//! # Scalar functions (DOUBLE results; NULL in, NULL out)
//!
//! - `bgnbd_log_likelihood(r, alpha, a, b, frequency, recency, t)`: one
//!   customer's log-likelihood (FHL 2005 eq. 6).
//! - `bgnbd_p_alive(r, alpha, a, b, frequency, recency, t)`: probability the
//!   customer is still active (eq. 11); 1 when frequency = 0.
//! - `bgnbd_expected_purchases(r, alpha, a, b, frequency, recency, t,
//!   horizon)`: expected repeat purchases in the next `horizon` (eq. 10);
//!   NULL if the ₂F₁ series does not converge (horizon ≫ alpha + t).
//! - `bgnbd_expected_purchases_new(r, alpha, a, b, horizon)`: expected
//!   repeat purchases of a new customer in their first `horizon` (eq. 9).
//! - `bgnbd_clv(r, alpha, a, b, frequency, recency, t, order_value, horizon,
//!   monthly_discount_rate, periods_per_month)`: discounted value of the
//!   expected purchases over `horizon` at `order_value` each, month by month
//!   (as lifetimes' `customer_lifetime_value`).
//! - `gamma_gamma_log_likelihood(p, q, gamma, frequency, monetary_value)`:
//!   one repeat customer's log-likelihood.
//! - `gamma_gamma_expected_value(p, q, gamma, frequency, monetary_value)`:
//!   conditional expected value of a transaction, p(γ + x·m̄)/(px + q − 1);
//!   NULL when px + q ≤ 1.
//! - `hyp2f1(a, b, c, z)`: the Gauss hypergeometric function for z < 1 (see
//!   [`hyp2f1`] for the method and its convergence).
//!
//! Example: `SELECT bgnbd_p_alive(0.243, 4.414, 0.793, 2.426, 2, 30.43,
//! 38.86)` is 0.7255 (a CDNOW customer under the published parameters).

pub mod bgnbd;
pub mod fit;
pub mod gamma_gamma;
pub mod hyp2f1;
pub mod udaf;
pub mod udf;

pub use udaf::{bgnbd_fit_udaf, gamma_gamma_fit_udaf};

use datafusion::prelude::SessionContext;

/// Register the CLV aggregates and scalar functions.
pub fn register(ctx: &SessionContext) {
    ctx.register_udaf(bgnbd_fit_udaf());
    ctx.register_udaf(gamma_gamma_fit_udaf());
    for f in udf::udfs() {
        ctx.register_udf(f);
    }
}

#[cfg(test)]
mod tests;
