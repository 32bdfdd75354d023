//! Maximum-likelihood fitting shared by the BG/NBD and Gamma-Gamma models.
//!
//! The optimiser is argmin's L-BFGS with a Moré-Thuente line search, on the
//! logarithms of the parameters (so every step stays in the positive
//! domain, and parameters of very different scales — α in days, a near 1 —
//! are comparable), minimising the mean negative log-likelihood per
//! customer with its analytic gradient. If L-BFGS fails (a trial step
//! leaves the range where the likelihood is finite) or does not converge,
//! argmin's Nelder-Mead simplex is run from the start point and L-BFGS
//! again from its best point. The fit is reported converged when the
//! largest gradient component of the mean log-likelihood with respect to
//! the log-parameters is below [`GRAD_TOL`].
//!
//! Standard errors come from the observed information: the Hessian of the
//! total log-likelihood in the natural parameters, by central differences
//! of the analytic gradient, negated and inverted (Cholesky). They are
//! `None` when that matrix is not positive definite (e.g. at a boundary).

use argmin::core::{CostFunction, Error as ArgminError, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::DMatrix;

/// Convergence threshold on the largest component of the gradient of the
/// mean log-likelihood per customer with respect to the log-parameters.
pub const GRAD_TOL: f64 = 1e-6;
const MAX_ITERS: u64 = 1000;
/// Log-parameters are kept within ±LOG_BOUND (1e-13 .. 1e13).
const LOG_BOUND: f64 = 30.0;

/// A model's log-likelihood over a data set.
pub trait Likelihood {
    /// Parameter names, in order.
    const NAMES: &'static [&'static str];
    /// Number of customers (Σ counts).
    fn customers(&self) -> f64;
    /// A positive start point.
    fn start(&self) -> Vec<f64>;
    /// Total log-likelihood and its gradient in the natural parameters.
    fn ll_grad(&self, theta: &[f64]) -> (f64, Vec<f64>);
}

/// The result of a fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub params: Vec<f64>,
    pub std_errors: Option<Vec<f64>>,
    pub log_likelihood: f64,
    pub converged: bool,
    pub iterations: u64,
}

/// The optimisation problem in log-parameters: mean negative LL.
struct LogProblem<'a, L: Likelihood> {
    model: &'a L,
    scale: f64,
}

impl<L: Likelihood> LogProblem<'_, L> {
    fn eval(&self, u: &[f64]) -> Result<(f64, Vec<f64>), ArgminError> {
        if u.iter().any(|v| v.is_nan() || v.abs() > LOG_BOUND) {
            return Err(ArgminError::msg("parameter out of range"));
        }
        let theta: Vec<f64> = u.iter().map(|v| v.exp()).collect();
        let (ll, g) = self.model.ll_grad(&theta);
        if !ll.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return Err(ArgminError::msg("non-finite log-likelihood"));
        }
        let grad = g
            .iter()
            .zip(&theta)
            .map(|(g, t)| -g * t / self.scale)
            .collect();
        Ok((-ll / self.scale, grad))
    }
}

impl<L: Likelihood> CostFunction for LogProblem<'_, L> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, u: &Vec<f64>) -> Result<f64, ArgminError> {
        self.eval(u).map(|(c, _)| c)
    }
}

impl<L: Likelihood> Gradient for LogProblem<'_, L> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, u: &Vec<f64>) -> Result<Vec<f64>, ArgminError> {
        self.eval(u).map(|(_, g)| g)
    }
}

/// Nelder-Mead sees an infinite cost where the likelihood is not finite.
struct Bounded<'a, L: Likelihood>(LogProblem<'a, L>);

impl<L: Likelihood> CostFunction for Bounded<'_, L> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, u: &Vec<f64>) -> Result<f64, ArgminError> {
        Ok(self.0.eval(u).map(|(c, _)| c).unwrap_or(f64::INFINITY))
    }
}

/// Run L-BFGS from `u0`; the best point and the iterations used.
fn lbfgs<L: Likelihood>(model: &L, scale: f64, u0: Vec<f64>) -> Option<(Vec<f64>, u64)> {
    let problem = LogProblem { model, scale };
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(GRAD_TOL * 1e-3)
        .ok()?
        .with_tolerance_cost(1e-15)
        .ok()?;
    let result = Executor::new(problem, solver)
        .configure(|s| s.param(u0).max_iters(MAX_ITERS))
        .run()
        .ok()?;
    let state = result.state();
    Some((state.get_best_param()?.clone(), state.get_iter()))
}

/// Run Nelder-Mead from `u0`.
fn nelder_mead<L: Likelihood>(model: &L, scale: f64, u0: &[f64]) -> Option<(Vec<f64>, u64)> {
    let mut simplex = vec![u0.to_vec()];
    for i in 0..u0.len() {
        let mut v = u0.to_vec();
        v[i] += 0.5;
        simplex.push(v);
    }
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-12).ok()?;
    let result = Executor::new(Bounded(LogProblem { model, scale }), solver)
        .configure(|s| s.max_iters(5 * MAX_ITERS))
        .run()
        .ok()?;
    let state = result.state();
    Some((state.get_best_param()?.clone(), state.get_iter()))
}

/// Largest gradient component of the mean LL w.r.t. the log-parameters.
fn grad_norm<L: Likelihood>(model: &L, scale: f64, u: &[f64]) -> f64 {
    match (LogProblem { model, scale }).eval(u) {
        Ok((_, g)) => g.iter().fold(0.0_f64, |m, v| m.max(v.abs())),
        Err(_) => f64::INFINITY,
    }
}

/// Maximise the log-likelihood of `model`; `None` when no finite point
/// was found at all.
pub fn maximize<L: Likelihood>(model: &L) -> Option<Fit> {
    let scale = model.customers().max(1.0);
    let u0: Vec<f64> = model.start().iter().map(|v| v.ln()).collect();
    let mut iterations = 0;
    let mut best = match lbfgs(model, scale, u0.clone()) {
        Some((u, it)) => {
            iterations += it;
            Some(u)
        }
        None => None,
    };
    let ok = |u: &Option<Vec<f64>>| {
        u.as_ref()
            .is_some_and(|u| grad_norm(model, scale, u) < GRAD_TOL)
    };
    if !ok(&best) {
        if let Some((u, it)) = nelder_mead(model, scale, &u0) {
            iterations += it;
            let polished = lbfgs(model, scale, u.clone());
            best = Some(match polished {
                Some((p, it)) => {
                    iterations += it;
                    p
                }
                None => u,
            });
        }
    }
    let u = best?;
    let theta: Vec<f64> = u.iter().map(|v| v.exp()).collect();
    let (ll, _) = model.ll_grad(&theta);
    if !ll.is_finite() {
        return None;
    }
    Some(Fit {
        converged: grad_norm(model, scale, &u) < GRAD_TOL,
        std_errors: std_errors(model, &theta),
        log_likelihood: ll,
        params: theta,
        iterations,
    })
}

/// Standard errors from the inverse observed information at `theta`.
pub fn std_errors<L: Likelihood>(model: &L, theta: &[f64]) -> Option<Vec<f64>> {
    let k = theta.len();
    let mut h = DMatrix::<f64>::zeros(k, k);
    for j in 0..k {
        let step = 1e-5 * theta[j];
        let mut up = theta.to_vec();
        let mut down = theta.to_vec();
        up[j] += step;
        down[j] -= step;
        let (_, gu) = model.ll_grad(&up);
        let (_, gd) = model.ll_grad(&down);
        for i in 0..k {
            h[(i, j)] = (gu[i] - gd[i]) / (2.0 * step);
        }
    }
    let info = -(&h + h.transpose()) * 0.5;
    if info.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let cov = info.cholesky()?.inverse();
    (0..k)
        .map(|i| {
            let v = cov[(i, i)];
            (v > 0.0 && v.is_finite()).then(|| v.sqrt())
        })
        .collect()
}
