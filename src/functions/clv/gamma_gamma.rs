//! The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005,
//! "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", and
//! Fader & Hardie's note "The Gamma-Gamma Model of Monetary Value"): a
//! customer's transaction values are Gamma(p, rate ν) with ν ~ Gamma(q,
//! rate γ). Fitted on repeat customers by their number of repeat purchases x
//! and mean repeat value m̄ (the first purchase is excluded, as in lifetimes).

use statrs::function::gamma::{digamma, ln_gamma};

use super::fit::Likelihood;

/// Gamma-Gamma parameters (all positive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

impl Params {
    pub fn from_slice(v: &[f64]) -> Params {
        Params {
            p: v[0],
            q: v[1],
            gamma: v[2],
        }
    }

    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [("p", self.p), ("q", self.q), ("gamma", self.gamma)] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(format!("argument `{name}` must be positive, got {v}"));
            }
        }
        Ok(())
    }
}

/// Log-likelihood of one customer with x > 0 repeat purchases of mean value
/// m̄ > 0: ln of Γ(px+q)/(Γ(px)Γ(q)) · γ^q · m̄^(px−1) · x^(px) / (γ+m̄x)^(px+q).
pub fn log_likelihood(p: &Params, x: f64, m: f64) -> f64 {
    let px = p.p * x;
    ln_gamma(px + p.q) - ln_gamma(px) - ln_gamma(p.q)
        + p.q * p.gamma.ln()
        + (px - 1.0) * m.ln()
        + px * x.ln()
        - (px + p.q) * (x * m + p.gamma).ln()
}

/// E[M | x, m̄] = p(γ + x·m̄) / (px + q − 1): the expected value of a future
/// transaction, shrinking the customer's mean toward the population mean
/// pγ/(q−1). `None` when px + q ≤ 1 (the expectation is infinite).
pub fn expected_value(p: &Params, x: f64, m: f64) -> Option<f64> {
    let denom = p.p * x + p.q - 1.0;
    (denom > 0.0).then(|| p.p * (p.gamma + x * m) / denom)
}

/// Repeat customers (x, m̄) with counts, ready for fitting. The ln Γ terms
/// depend on x only, and the ln m̄ terms on the data only, so each
/// likelihood evaluation costs one logarithm per row.
#[derive(Debug, Clone, Default)]
pub struct Data {
    /// (x, m̄, count)
    pub rows: Vec<(f64, f64, f64)>,
    /// Σ counts by distinct x.
    by_x: Vec<(f64, f64)>,
    /// Σ n·x·ln m̄ and Σ n·ln m̄.
    sum_x_ln_m: f64,
    sum_ln_m: f64,
    total: f64,
}

impl Data {
    pub fn new(rows: Vec<(f64, f64, f64)>) -> Data {
        let mut by_x: std::collections::BTreeMap<u64, f64> = Default::default();
        let (mut sum_x_ln_m, mut sum_ln_m, mut total) = (0.0, 0.0, 0.0);
        for &(x, m, n) in &rows {
            *by_x.entry(x as u64).or_default() += n;
            sum_x_ln_m += n * x * m.ln();
            sum_ln_m += n * m.ln();
            total += n;
        }
        Data {
            rows,
            by_x: by_x.into_iter().map(|(x, n)| (x as f64, n)).collect(),
            sum_x_ln_m,
            sum_ln_m,
            total,
        }
    }
}

impl Likelihood for Data {
    const NAMES: &'static [&'static str] = &["p", "q", "gamma"];

    fn customers(&self) -> f64 {
        self.total
    }

    /// Start: p = 1, q = 2, γ = mean of m̄ (the population mean pγ/(q−1)
    /// then equals the observed mean).
    fn start(&self) -> Vec<f64> {
        let (s, n) = self
            .rows
            .iter()
            .fold((0.0, 0.0), |(s, n), r| (s + r.1 * r.2, n + r.2));
        let mean = if n > 0.0 { s / n } else { 1.0 };
        vec![1.0, 2.0, mean.clamp(1e-6, 1e12)]
    }

    fn ll_grad(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let pr = Params::from_slice(theta);
        let (p, q, gamma) = (pr.p, pr.q, pr.gamma);
        let (lg_q, psi_q, ln_g) = (ln_gamma(q), digamma(q), gamma.ln());
        let mut ll = p * self.sum_x_ln_m - self.sum_ln_m;
        let mut g = [self.sum_x_ln_m, 0.0, 0.0];
        for &(x, n) in &self.by_x {
            let px = p * x;
            let psi_pxq = digamma(px + q);
            ll += n * (ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_g + px * x.ln());
            g[0] += n * x * (psi_pxq - digamma(px) + x.ln());
            g[1] += n * (psi_pxq - psi_q + ln_g);
            g[2] += n * q / gamma;
        }
        for &(x, m, n) in &self.rows {
            let xm_g = x * m + gamma;
            let ln_xm_g = xm_g.ln();
            let px_q = p * x + q;
            ll -= n * px_q * ln_xm_g;
            g[0] -= n * x * ln_xm_g;
            g[1] -= n * ln_xm_g;
            g[2] -= n * px_q / xm_g;
        }
        (ll, g.to_vec())
    }
}
