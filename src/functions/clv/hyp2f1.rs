//! The Gauss hypergeometric function ₂F₁(a, b; c; z) for real arguments and
//! z < 1, as needed by the BG/NBD expectations.
//!
//! # Method and convergence
//!
//! For 0 ≤ z < 1 we sum the Gauss series Σₙ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ, which
//! converges for every |z| < 1: the ratio of consecutive terms,
//! ρₖ = (a+k)(b+k) z / ((c+k)(k+1)), tends to z. For k ≥ m > max(|a|, |b|,
//! |c|) each factor of ρₖ = z (1+a/k)(1+b/k) / ((1+c/k)(1+1/k)) is positive
//! and bounded, so every later ratio is at most
//! ρ* = z (1 + max(a,0)/m)(1 + max(b,0)/m) / (1 + min(c,0)/m), and once
//! ρ* < 1 the terms left after tₘ add up to at most |tₘ| ρ* / (1 − ρ*).
//! Summation stops when that bound is below 10⁻¹⁶ of the partial sum (or
//! below 10⁻³⁰⁰). About 37 / (1 − z) terms are needed, so the series is cheap
//! up to z ≈ 0.999; rounding in the term recurrence grows like
//! 10⁻¹⁶ / (1 − z) relative (10⁻¹² at z = 0.9999). After [`MAX_TERMS`] terms
//! without reaching the bound the result is `None` rather than an
//! inaccurate number.
//! When a or b is a non-positive integer the series is a polynomial and ends.
//!
//! For z < 0 the Pfaff transformation
//! ₂F₁(a, b; c; z) = (1 − z)^(−a) ₂F₁(a, c − b; c; z / (z − 1)) maps the
//! argument into [0, 1), where the series has no cancellation from
//! alternating signs.
//!
//! Near z = 1 the BG/NBD code does not call [`hyp2f1`] directly: it uses
//! Euler's transformation ₂F₁(a, b; c; z) = (1 − z)^(c−a−b) ₂F₁(c−a, c−b; c; z)
//! to avoid huge intermediate values for frequent buyers, and sums the
//! resulting series with [`sum_series`] (see `bgnbd.rs`). z ≥ 1 (where the
//! series diverges or needs analytic continuation) is not supported, and
//! neither is c a non-positive integer (₂F₁ is undefined there).

/// Largest number of series terms summed before giving up.
pub const MAX_TERMS: usize = 1_000_000;

/// Relative accuracy the series are summed to.
const REL_TOL: f64 = 1e-16;

/// Sum Σₙ tₙ for n ≥ `start`, where t_start = `first` and
/// tₙ₊₁ = tₙ (a+n)(b+n) z / ((c+n)(n+1)), with 0 ≤ z < 1, to the tail bound
/// of the module docs. `None` when it has not converged within
/// [`MAX_TERMS`] terms or a term overflows.
pub fn sum_series(start: usize, first: f64, a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if !(0.0..1.0).contains(&z) || !first.is_finite() {
        return None;
    }
    let mut sum = 0.0_f64;
    let mut term = first;
    for n in start..start + MAX_TERMS {
        sum += term;
        if term == 0.0 {
            return Some(sum);
        }
        let k = n as f64;
        let next = term * (a + k) * (b + k) * z / ((c + k) * (k + 1.0));
        if !next.is_finite() {
            return None;
        }
        let m = k + 1.0;
        if m > a.abs() && m > b.abs() && m > c.abs() {
            let rho = z * (1.0 + a.max(0.0) / m) * (1.0 + b.max(0.0) / m) / (1.0 + c.min(0.0) / m);
            if rho < 1.0 {
                let tail = next.abs() * rho / (1.0 - rho);
                if tail <= REL_TOL * (sum + next).abs() || tail <= 1e-300 {
                    return Some(sum + next);
                }
            }
        }
        term = next;
    }
    None
}

/// ₂F₁(a, b; c; z) for z < 1; `None` for z ≥ 1, c a non-positive integer,
/// non-finite input, or a series that did not converge (see the module docs).
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if ![a, b, c, z].iter().all(|v| v.is_finite()) || z >= 1.0 {
        return None;
    }
    if c <= 0.0 && c == c.floor() {
        return None;
    }
    if z < 0.0 {
        let w = z / (z - 1.0);
        return hyp2f1_series(a, c - b, c, w).map(|f| f * (1.0 - z).powf(-a));
    }
    hyp2f1_series(a, b, c, z)
}

/// The Gauss series itself, for 0 ≤ z < 1.
fn hyp2f1_series(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if z == 0.0 {
        return Some(1.0);
    }
    sum_series(0, 1.0, a, b, c, z)
}

#[cfg(test)]
mod tests {
    use super::hyp2f1;

    fn close(got: Option<f64>, want: f64, rel: f64) {
        let got = got.expect("converged");
        assert!(
            (got - want).abs() <= rel * want.abs().max(1e-300),
            "got {got:e}, want {want:e}"
        );
    }

    #[test]
    fn closed_forms() {
        // 2F1(1, 1; 2; z) = -ln(1 - z) / z  (Abramowitz & Stegun 15.1.3)
        for z in [0.1, 0.5, 0.9, 0.99, -0.5, -3.0] {
            close(hyp2f1(1.0, 1.0, 2.0, z), -(1.0 - z).ln() / z, 1e-13);
        }
        // rounding in the term recurrence grows like 1e-16 / (1 - z)
        close(
            hyp2f1(1.0, 1.0, 2.0, 0.999),
            -(0.001_f64).ln() / 0.999,
            1e-12,
        );
        close(
            hyp2f1(1.0, 1.0, 2.0, 0.9999),
            -(1.0 - 0.9999_f64).ln() / 0.9999,
            1e-11,
        );
        // 2F1(a, b; b; z) = (1 - z)^(-a)  (A&S 15.1.8)
        for z in [0.3, 0.95, -0.7] {
            close(hyp2f1(2.5, 1.5, 1.5, z), (1.0 - z).powf(-2.5), 1e-13);
        }
        // 2F1(1/2, 1; 3/2; -z^2) = atan(z) / z  (A&S 15.1.5)
        for x in [0.5_f64, 2.0] {
            close(hyp2f1(0.5, 1.0, 1.5, -x * x), x.atan() / x, 1e-13);
        }
        // a polynomial: 2F1(-2, b; c; z) = 1 - 2bz/c + b(b+1)z^2/(c(c+1))
        let (b, c, z) = (3.0, 4.0, 0.5);
        let want = 1.0 - 2.0 * b * z / c + b * (b + 1.0) * z * z / (c * (c + 1.0));
        close(hyp2f1(-2.0, b, c, z), want, 1e-15);
    }

    #[test]
    fn matches_mpmath() {
        // mpmath.hyp2f1 at 40 digits (tests/clv/reference.py, reference.txt)
        let cases = [
            (0.243, 2.426, 2.219, 0.8, 1.572_116_540_914_996_7),
            (5.75, 3.5, 4.3, 0.95, 2_105_169.765_433_093),
            (0.75, 2.5, 2.3, 0.3, 1.340_356_816_801_281_9),
            (50.243, 52.426, 52.219, 0.5, 1_531_932_625_413_011.6),
            (1.5, 2.5, 3.5, -4.0, 0.150_787_805_583_045_32),
        ];
        for (a, b, c, z, want) in cases {
            close(hyp2f1(a, b, c, z), want, 1e-12);
        }
    }

    #[test]
    fn too_close_to_1_is_none_not_a_wrong_number() {
        // needs about 37 / 1e-8 terms, more than MAX_TERMS
        assert_eq!(hyp2f1(1.0, 1.0, 2.0, 1.0 - 1e-8), None);
    }

    #[test]
    fn unsupported_arguments() {
        assert_eq!(hyp2f1(1.0, 1.0, 2.0, 1.0), None);
        assert_eq!(hyp2f1(1.0, 1.0, -2.0, 0.5), None);
        assert_eq!(hyp2f1(f64::NAN, 1.0, 2.0, 0.5), None);
    }
}
