//! The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005,
//! "Counting Your Customers the Easy Way"): while alive, a customer buys at
//! Poisson rate λ ~ Gamma(r, rate α); after each purchase they drop out with
//! probability p ~ Beta(a, b). A customer is summarised by x (repeat
//! purchases = frequency), tₓ (time of the last purchase since the first =
//! recency) and T (time since the first purchase), all in one time unit.
//!
//! Everything is computed in log space with ln Γ, so large frequencies do not
//! overflow.

use statrs::function::gamma::{digamma, ln_gamma};

use super::fit::Likelihood;
use super::hyp2f1::sum_series;

/// BG/NBD parameters (all positive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl Params {
    pub fn from_slice(p: &[f64]) -> Params {
        Params {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
        }
    }

    /// Check that every parameter is positive and finite.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("r", self.r),
            ("alpha", self.alpha),
            ("a", self.a),
            ("b", self.b),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(format!("argument `{name}` must be positive, got {v}"));
            }
        }
        Ok(())
    }
}

/// One customer's (x, tₓ, T).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Customer {
    pub x: f64,
    pub tx: f64,
    pub t: f64,
}

impl Customer {
    /// Check the summary is a possible one: x a non-negative integer,
    /// 0 ≤ tₓ ≤ T, and tₓ = 0 when x = 0.
    pub fn check(&self) -> Result<(), String> {
        let Customer { x, tx, t } = *self;
        if !(x >= 0.0 && x.is_finite() && x == x.floor()) {
            return Err(format!(
                "argument `frequency` must be a non-negative integer, got {x}"
            ));
        }
        if !(tx >= 0.0 && tx.is_finite()) {
            return Err(format!("argument `recency` must be non-negative, got {tx}"));
        }
        if !(t >= tx && t.is_finite()) {
            return Err(format!(
                "argument `t` must be at least recency ({tx}), got {t}"
            ));
        }
        if x == 0.0 && tx != 0.0 {
            return Err(format!(
                "argument `recency` must be 0 when frequency is 0, got {tx}"
            ));
        }
        Ok(())
    }
}

/// ln of (a / (b+x−1)) ((α+T)/(α+tₓ))^(r+x): the odds that a customer with
/// x > 0 has dropped out, P(dead) / P(alive).
fn ln_dead_odds(p: &Params, c: &Customer) -> f64 {
    p.a.ln() - (p.b + c.x - 1.0).ln() + (p.r + c.x) * ((p.alpha + c.t).ln() - (p.alpha + c.tx).ln())
}

/// Individual log-likelihood, FHL 2005 eq. (6):
/// L = A₁·A₂·(A₃ + δ(x>0)·A₄) with A₁ = Γ(r+x)α^r/Γ(r),
/// A₂ = Γ(a+b)Γ(b+x)/(Γ(b)Γ(a+b+x)), A₃ = (α+T)^−(r+x),
/// A₄ = a/(b+x−1)·(α+tₓ)^−(r+x).
pub fn log_likelihood(p: &Params, c: &Customer) -> f64 {
    let x = c.x;
    ln_gamma(p.r + x) - ln_gamma(p.r) + p.r * p.alpha.ln() + ln_a2(p, x) + ln_a3_a4(p, c).0
}

fn ln_a2(p: &Params, x: f64) -> f64 {
    ln_gamma(p.a + p.b) + ln_gamma(p.b + x) - ln_gamma(p.b) - ln_gamma(p.a + p.b + x)
}

/// ln(A₃ + δA₄) and the shares of A₃ and A₄ in the sum.
fn ln_a3_a4(p: &Params, c: &Customer) -> (f64, f64, f64) {
    let a3 = -(p.r + c.x) * (p.alpha + c.t).ln();
    if c.x == 0.0 {
        return (a3, 1.0, 0.0);
    }
    let a4 = p.a.ln() - (p.b + c.x - 1.0).ln() - (p.r + c.x) * (p.alpha + c.tx).ln();
    let m = a3.max(a4);
    let (w3, w4) = ((a3 - m).exp(), (a4 - m).exp());
    let s = w3 + w4;
    (m + s.ln(), w3 / s, w4 / s)
}

/// P(alive | x, tₓ, T), FHL 2005 eq. (11) (1 when x = 0).
pub fn p_alive(p: &Params, c: &Customer) -> f64 {
    if c.x == 0.0 {
        return 1.0;
    }
    let k = ln_dead_odds(p, c);
    if k > 0.0 {
        let e = (-k).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + k.exp())
    }
}

/// E[Y(t) | x, tₓ, T]: expected repeat purchases in the next `horizon`
/// time units, FHL 2005 eq. (10):
///
/// (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)]
/// / (1 + δ(x>0) · odds), with z = t/(α+T+t).
///
/// Computed without cancellation: by Euler's transformation the bracket is
/// 1 − (1−z)^(a−1) F with F = ₂F₁(a+b−1−r, a−1; a+b+x−1; z) = 1 + (a−1)S,
/// so bracket / (a−1) = −L·φ((a−1)L) − e^((a−1)L)·S with L = ln(1−z) and
/// φ(y) = (eʸ−1)/y; this stays exact as a → 1 and never forms the huge
/// ₂F₁ values of frequent buyers. `None` when the series does not converge.
pub fn expected_purchases(p: &Params, c: &Customer, horizon: f64) -> Option<f64> {
    if horizon == 0.0 {
        return Some(0.0);
    }
    let big_c = p.a + p.b + c.x - 1.0;
    let span = p.alpha + c.t;
    let z = horizon / (span + horizon);
    let ln_1mz = span.ln() - (span + horizon).ln();
    let a1 = p.a + p.b - 1.0 - p.r;
    // S = Σ_{n≥1} (a1)ₙ (a)ₙ₋₁ zⁿ / ((C)ₙ n!): term ratio (a1+n)(a−1+n)z/((C+n)(n+1))
    let s = sum_series(1, a1 * z / big_c, a1, p.a - 1.0, big_c, z)?;
    let y = (p.a - 1.0) * ln_1mz;
    let phi = if y.abs() < 1e-12 {
        1.0 + y / 2.0
    } else {
        y.exp_m1() / y
    };
    let bracket = -ln_1mz * phi - y.exp() * s;
    let value = big_c * bracket * if c.x > 0.0 { p_alive(p, c) } else { 1.0 };
    Some(value.max(0.0))
}

/// E[X(t)]: expected purchases of a new customer in their first `horizon`
/// time units, FHL 2005 eq. (9) (the conditional expectation at x = tₓ = T = 0).
pub fn expected_purchases_new(p: &Params, horizon: f64) -> Option<f64> {
    let c = Customer {
        x: 0.0,
        tx: 0.0,
        t: 0.0,
    };
    expected_purchases(p, &c, horizon)
}

/// Discounted expected value of the next `horizon` time units, in months of
/// `per_month` time units as lifetimes' `customer_lifetime_value`:
/// Σᵢ (E[Y(tᵢ)] − E[Y(tᵢ₋₁)]) · value / (1+d)^(tᵢ/per_month), tᵢ = min(i·per_month,
/// horizon); a last partial month is discounted at its fractional exponent.
pub fn discounted_value(
    p: &Params,
    c: &Customer,
    value: f64,
    horizon: f64,
    monthly_rate: f64,
    per_month: f64,
) -> Option<f64> {
    let mut total = 0.0;
    let mut prev_t = 0.0;
    let mut prev_e = 0.0;
    let mut i = 1.0_f64;
    while prev_t < horizon {
        let t = (i * per_month).min(horizon);
        let e = expected_purchases(p, c, t)?;
        total += (e - prev_e) * value / (1.0 + monthly_rate).powf(t / per_month);
        prev_t = t;
        prev_e = e;
        i += 1.0;
    }
    Some(total)
}

/// Customers grouped by (x, tₓ, T) with counts, ready for fitting.
#[derive(Debug, Clone, Default)]
pub struct Data {
    pub groups: Vec<(Customer, f64)>,
    /// Σ counts by distinct x (the ln Γ terms depend on x only).
    by_x: Vec<(f64, f64)>,
    total: f64,
}

impl Data {
    pub fn new(groups: Vec<(Customer, f64)>) -> Data {
        let mut by_x: std::collections::BTreeMap<u64, f64> = Default::default();
        for (c, n) in &groups {
            *by_x.entry(c.x as u64).or_default() += n;
        }
        let total = groups.iter().map(|g| g.1).sum();
        Data {
            groups,
            by_x: by_x.into_iter().map(|(x, n)| (x as f64, n)).collect(),
            total,
        }
    }

    /// Customers with at least one repeat purchase.
    pub fn repeaters(&self) -> f64 {
        self.by_x.iter().filter(|g| g.0 > 0.0).map(|g| g.1).sum()
    }
}

impl Likelihood for Data {
    const NAMES: &'static [&'static str] = &["r", "alpha", "a", "b"];

    fn customers(&self) -> f64 {
        self.total
    }

    /// Start: r = 1, α = 1/(mean purchase rate), a = b = 1.
    fn start(&self) -> Vec<f64> {
        let (mut xs, mut ts) = (0.0, 0.0);
        for (c, n) in &self.groups {
            xs += c.x * n;
            ts += c.t * n;
        }
        let alpha = if xs > 0.0 && ts > 0.0 { ts / xs } else { 1.0 };
        vec![1.0, alpha.clamp(1e-3, 1e6), 1.0, 1.0]
    }

    fn ll_grad(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let p = Params::from_slice(theta);
        let (r, alpha, a, b) = (p.r, p.alpha, p.a, p.b);
        let (ln_alpha, psi_r, psi_b, psi_ab) = (alpha.ln(), digamma(r), digamma(b), digamma(a + b));
        let (lg_r, lg_b, lg_ab) = (ln_gamma(r), ln_gamma(b), ln_gamma(a + b));
        let mut ll = 0.0;
        let mut g = [0.0; 4];
        for &(x, n) in &self.by_x {
            ll += n
                * (ln_gamma(r + x) - lg_r + r * ln_alpha + lg_ab + ln_gamma(b + x)
                    - lg_b
                    - ln_gamma(a + b + x));
            let psi_abx = digamma(a + b + x);
            g[0] += n * (digamma(r + x) - psi_r + ln_alpha);
            g[1] += n * r / alpha;
            g[2] += n * (psi_ab - psi_abx);
            g[3] += n * (psi_ab + digamma(b + x) - psi_b - psi_abx);
        }
        for (c, n) in &self.groups {
            let (l34, w3, w4) = ln_a3_a4(&p, c);
            ll += n * l34;
            let rx = r + c.x;
            g[0] -= n * (w3 * (alpha + c.t).ln() + w4 * (alpha + c.tx).ln());
            g[1] -= n * rx * (w3 / (alpha + c.t) + w4 / (alpha + c.tx));
            if w4 > 0.0 {
                g[2] += n * w4 / a;
                g[3] -= n * w4 / (b + c.x - 1.0);
            }
        }
        (ll, g.to_vec())
    }
}
