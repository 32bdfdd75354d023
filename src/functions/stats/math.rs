//! The statistics behind the SQL functions, as plain Rust on `f64`s so they
//! can be unit-tested without a query engine. Distributions come from
//! `statrs`; nothing here re-implements a CDF.
//!
//! Conventions: a 2×2 table is given as `(x1, n1, x0, n0)`: converters and
//! users in group 1 (exposed / treatment) and group 0 (unexposed / control).
//! Undefined results (a zero denominator, the log of zero) are `None`, which
//! becomes SQL NULL; invalid input is an `Err` naming the argument.

use statrs::distribution::{
    ChiSquared, ContinuousCDF, Discrete, Hypergeometric, Normal, StudentsT,
};

/// An estimate with its confidence interval; any part may be undefined.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Interval {
    pub estimate: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

impl Interval {
    /// `exp(log_estimate ± z·se)` around a ratio `estimate`.
    fn log_scale(estimate: f64, se: f64, confidence: f64) -> Interval {
        let z = z_critical(confidence);
        let l = estimate.ln();
        Interval {
            estimate: Some(estimate),
            lower: Some((l - z * se).exp()),
            upper: Some((l + z * se).exp()),
        }
    }

    fn estimate_only(estimate: f64) -> Interval {
        Interval {
            estimate: Some(estimate),
            ..Interval::default()
        }
    }
}

/// The two-sided standard-normal critical value for `confidence` (1.959964
/// for 0.95).
pub fn z_critical(confidence: f64) -> f64 {
    Normal::standard().inverse_cdf(1.0 - (1.0 - confidence) / 2.0)
}

/// Check that `confidence` is a probability strictly between 0 and 1.
pub fn check_confidence(confidence: f64) -> Result<(), String> {
    if confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(format!(
            "argument `confidence` must be between 0 and 1 (exclusive), got {confidence}"
        ))
    }
}

/// Check a 2×2 table given as `(x1, n1, x0, n0)`: finite, non-negative,
/// converters not above users; `whole` also requires integers.
pub fn check_two_by_two(x1: f64, n1: f64, x0: f64, n0: f64, whole: bool) -> Result<(), String> {
    for (name, v) in [("x1", x1), ("n1", n1), ("x0", x0), ("n0", n0)] {
        if !v.is_finite() || v < 0.0 {
            return Err(format!(
                "argument `{name}` must be a non-negative count, got {v}"
            ));
        }
        if whole && v.fract() != 0.0 {
            return Err(format!("argument `{name}` must be a whole count, got {v}"));
        }
    }
    if x1 > n1 {
        return Err(format!("argument `x1` ({x1}) is larger than `n1` ({n1})"));
    }
    if x0 > n0 {
        return Err(format!("argument `x0` ({x0}) is larger than `n0` ({n0})"));
    }
    Ok(())
}

/// Risk ratio `(x1/n1) / (x0/n0)` with the log risk-ratio (Katz) interval:
/// `exp(ln RR ± z·sqrt(1/x1 − 1/n1 + 1/x0 − 1/n0))`.
/// The estimate is undefined when a group is empty or `x0 = 0`; the
/// interval also when `x1 = 0`.
pub fn risk_ratio(x1: f64, n1: f64, x0: f64, n0: f64, confidence: f64) -> Interval {
    if n1 == 0.0 || n0 == 0.0 || x0 == 0.0 {
        return Interval::default();
    }
    let rr = (x1 / n1) / (x0 / n0);
    if x1 == 0.0 {
        return Interval::estimate_only(rr);
    }
    let se = (1.0 / x1 - 1.0 / n1 + 1.0 / x0 - 1.0 / n0).max(0.0).sqrt();
    Interval::log_scale(rr, se, confidence)
}

/// Odds ratio `ad / bc` of the table `a = x1, b = n1 − x1, c = x0,
/// d = n0 − x0` with Woolf's interval `exp(ln OR ± z·sqrt(1/a+1/b+1/c+1/d))`.
/// The estimate is undefined when `b·c = 0`; the interval when any cell is 0.
pub fn odds_ratio(x1: f64, n1: f64, x0: f64, n0: f64, confidence: f64) -> Interval {
    let (a, b, c, d) = (x1, n1 - x1, x0, n0 - x0);
    if b == 0.0 || c == 0.0 {
        return Interval::default();
    }
    let or = (a * d) / (b * c);
    if a == 0.0 || d == 0.0 {
        return Interval::estimate_only(or);
    }
    let se = (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d).sqrt();
    Interval::log_scale(or, se, confidence)
}

/// Two-sided p-value of the pooled two-proportion z test (the test
/// `statsmodels.stats.proportion.proportions_ztest` runs by default, and
/// the square root of the uncorrected chi-square test). Undefined when a
/// group is empty or nobody (or everybody) converted.
pub fn z_test_p(x1: f64, n1: f64, x0: f64, n0: f64) -> Option<f64> {
    if n1 == 0.0 || n0 == 0.0 {
        return None;
    }
    let pooled = (x1 + x0) / (n1 + n0);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n0)).sqrt();
    if se == 0.0 || !se.is_finite() {
        return None;
    }
    let z = (x1 / n1 - x0 / n0) / se;
    Some((2.0 * Normal::standard().sf(z.abs())).min(1.0))
}

/// Two-sided p-value of Fisher's exact test: the sum of the hypergeometric
/// probabilities of every table with the observed margins that is no more
/// likely than the observed one (with R's relative tolerance of 1e-7, as in
/// `fisher.test` and `scipy.stats.fisher_exact`). Undefined when a group is
/// empty. Counts must be whole.
pub fn fisher_exact_p(x1: u64, n1: u64, x0: u64, n0: u64) -> Option<f64> {
    if n1 == 0 || n0 == 0 {
        return None;
    }
    let population = n1 + n0;
    let converters = x1 + x0;
    let h = Hypergeometric::new(population, converters, n1).ok()?;
    let lo = n1.saturating_sub(population - converters);
    let hi = converters.min(n1);
    let observed = h.ln_pmf(x1);
    let threshold = observed + (1.0 + 1e-7f64).ln();
    let p: f64 = (lo..=hi)
        .map(|x| h.ln_pmf(x))
        .filter(|l| *l <= threshold)
        .map(f64::exp)
        .sum();
    Some(p.min(1.0))
}

/// Benjamini–Hochberg adjusted p-values (q-values) of `p`, in the same
/// order: `q_(i) = min over j ≥ i of m·p_(j)/j`, capped at 1, where `m` is
/// the number of non-null p-values. Nulls stay null and are not counted.
pub fn bh_q_values(p: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut order: Vec<(usize, f64)> = p
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let m = order.len() as f64;
    let mut out = vec![None; p.len()];
    let mut running = 1.0f64;
    for (rank, (i, v)) in order.iter().enumerate().rev() {
        running = running.min(v * m / (rank as f64 + 1.0));
        out[*i] = Some(running.min(1.0));
    }
    out
}

/// Running sums over the strata of a Mantel–Haenszel analysis. Each stratum
/// is a 2×2 table `(x1, n1, x0, n0)`; strata with no users add nothing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MhSums {
    /// Σ x1·n0/N (risk-ratio numerator)
    pub rr_num: f64,
    /// Σ x0·n1/N (risk-ratio denominator)
    pub rr_den: f64,
    /// Σ (n1·n0·(x1+x0) − x1·x0·N)/N² (Greenland–Robins variance numerator)
    pub rr_var: f64,
    /// Σ R = Σ a·d/N (odds-ratio numerator)
    pub r: f64,
    /// Σ S = Σ b·c/N (odds-ratio denominator)
    pub s: f64,
    /// Σ P·R with P = (a+d)/N
    pub pr: f64,
    /// Σ (P·S + Q·R) with Q = (b+c)/N
    pub ps_qr: f64,
    /// Σ Q·S
    pub qs: f64,
}

impl MhSums {
    pub const LEN: usize = 8;

    /// Add one stratum.
    pub fn add(&mut self, x1: f64, n1: f64, x0: f64, n0: f64) {
        let n = n1 + n0;
        if n == 0.0 {
            return;
        }
        let (a, b, c, d) = (x1, n1 - x1, x0, n0 - x0);
        self.rr_num += a * n0 / n;
        self.rr_den += c * n1 / n;
        self.rr_var += (n1 * n0 * (a + c) - a * c * n) / (n * n);
        let (p, q, r, s) = ((a + d) / n, (b + c) / n, a * d / n, b * c / n);
        self.r += r;
        self.s += s;
        self.pr += p * r;
        self.ps_qr += p * s + q * r;
        self.qs += q * s;
    }

    pub fn to_array(self) -> [f64; Self::LEN] {
        [
            self.rr_num,
            self.rr_den,
            self.rr_var,
            self.r,
            self.s,
            self.pr,
            self.ps_qr,
            self.qs,
        ]
    }

    /// Add another partial sum (e.g. from another partition).
    pub fn merge(&mut self, other: [f64; Self::LEN]) {
        self.rr_num += other[0];
        self.rr_den += other[1];
        self.rr_var += other[2];
        self.r += other[3];
        self.s += other[4];
        self.pr += other[5];
        self.ps_qr += other[6];
        self.qs += other[7];
    }

    /// Mantel–Haenszel pooled risk ratio with the Greenland–Robins (1985)
    /// variance of its log.
    pub fn risk_ratio(&self, confidence: f64) -> Interval {
        if self.rr_den == 0.0 {
            return Interval::default();
        }
        let rr = self.rr_num / self.rr_den;
        if self.rr_num == 0.0 {
            return Interval::estimate_only(rr);
        }
        let var = self.rr_var / (self.rr_num * self.rr_den);
        Interval::log_scale(rr, var.max(0.0).sqrt(), confidence)
    }

    /// Mantel–Haenszel pooled odds ratio with the Robins–Breslow–Greenland
    /// (1986) variance of its log (the interval R's `mantelhaen.test` and
    /// statsmodels' `StratifiedTable.oddsratio_pooled_confint` report).
    pub fn odds_ratio(&self, confidence: f64) -> Interval {
        if self.s == 0.0 {
            return Interval::default();
        }
        let or = self.r / self.s;
        if self.r == 0.0 {
            return Interval::estimate_only(or);
        }
        let var = self.pr / (2.0 * self.r * self.r)
            + self.ps_qr / (2.0 * self.r * self.s)
            + self.qs / (2.0 * self.s * self.s);
        Interval::log_scale(or, var.max(0.0).sqrt(), confidence)
    }
}

/// Running sums of a sample-ratio-mismatch test over variants: observed
/// users `o` and expected weight `w` per variant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SrmSums {
    /// Σ o
    pub users: f64,
    /// Σ w
    pub weight: f64,
    /// Σ o²/w
    pub ratio: f64,
    /// number of variants
    pub variants: f64,
}

impl SrmSums {
    pub fn add(&mut self, users: f64, weight: f64) {
        self.users += users;
        self.weight += weight;
        self.ratio += users * users / weight;
        self.variants += 1.0;
    }

    pub fn merge(&mut self, o: [f64; 4]) {
        self.users += o[0];
        self.weight += o[1];
        self.ratio += o[2];
        self.variants += o[3];
    }

    pub fn to_array(self) -> [f64; 4] {
        [self.users, self.weight, self.ratio, self.variants]
    }

    /// Pearson chi-square statistic `Σ (o − e)²/e` with `e = N·w/W`,
    /// computed as `(W/N)·Σ o²/w − N`.
    pub fn statistic(&self) -> Option<f64> {
        if self.users == 0.0 || self.variants < 2.0 {
            return None;
        }
        Some((self.weight / self.users * self.ratio - self.users).max(0.0))
    }

    /// Upper-tail chi-square p-value with `variants − 1` degrees of freedom.
    pub fn p_value(&self) -> Option<f64> {
        let stat = self.statistic()?;
        let chi = ChiSquared::new(self.variants - 1.0).ok()?;
        Some(chi.sf(stat))
    }
}

/// Check a (mean, standard deviation, n) summary of one group.
pub fn check_summary(group: &str, sd: f64, n: f64) -> Result<(), String> {
    if !sd.is_finite() || sd < 0.0 {
        return Err(format!(
            "argument `sd{group}` must be a non-negative standard deviation, got {sd}"
        ));
    }
    if !n.is_finite() || n < 0.0 {
        return Err(format!(
            "argument `n{group}` must be a non-negative count, got {n}"
        ));
    }
    Ok(())
}

/// Two-sided p-value of Welch's unequal-variance t test from group
/// summaries (as `scipy.stats.ttest_ind(..., equal_var=False)`). Undefined
/// with fewer than 2 observations in a group or zero variance in both.
pub fn welch_t_test_p(m1: f64, sd1: f64, n1: f64, m0: f64, sd0: f64, n0: f64) -> Option<f64> {
    if n1 < 2.0 || n0 < 2.0 {
        return None;
    }
    let (v1, v0) = (sd1 * sd1 / n1, sd0 * sd0 / n0);
    let se2 = v1 + v0;
    if se2 == 0.0 {
        return None;
    }
    let t = (m1 - m0) / se2.sqrt();
    let df = se2 * se2 / (v1 * v1 / (n1 - 1.0) + v0 * v0 / (n0 - 1.0));
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    Some((2.0 * dist.sf(t.abs())).min(1.0))
}

/// Ratio of two means `m1/m0` with a delta-method interval on the log
/// scale: `exp(ln(m1/m0) ± z·sqrt(sd1²/(n1·m1²) + sd0²/(n0·m0²)))`.
/// Undefined unless both means and both counts are positive.
pub fn mean_ratio(m1: f64, sd1: f64, n1: f64, m0: f64, sd0: f64, n0: f64, conf: f64) -> Interval {
    if m1 <= 0.0 || m0 <= 0.0 || n1 <= 0.0 || n0 <= 0.0 {
        return Interval::default();
    }
    let se = (sd1 * sd1 / (n1 * m1 * m1) + sd0 * sd0 / (n0 * m0 * m0)).sqrt();
    Interval::log_scale(m1 / m0, se, conf)
}

#[cfg(test)]
mod tests {
    //! Expected values are hand calculations (shown) or scipy 1.x output
    //! (`tests/slt/reference/stats_reference.py` prints them all).
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn risk_ratio_by_hand() {
        // 2×2: 20/100 vs 10/100: RR 2, se = sqrt(1/20 − 1/100 + 1/10 − 1/100) = sqrt(0.13)
        let i = risk_ratio(20.0, 100.0, 10.0, 100.0, 0.95);
        close(i.estimate.unwrap(), 2.0, 1e-12);
        let se = 0.13f64.sqrt();
        close(
            i.lower.unwrap(),
            (2f64.ln() - 1.959963984540054 * se).exp(),
            1e-9,
        );
        assert_eq!(risk_ratio(5.0, 10.0, 0.0, 10.0, 0.95), Interval::default());
        assert_eq!(risk_ratio(0.0, 10.0, 2.0, 10.0, 0.95).lower, None);
    }

    #[test]
    fn fisher_matches_the_tea_tasting_lady() {
        // Fisher's tea-tasting table [[3,1],[1,3]]: two-sided p = 34/70
        // (hypergeometric probabilities 1,16,36,16,1 over 70; tables no more
        // likely than 16/70: 1+16+16+1).
        close(fisher_exact_p(3, 4, 1, 4).unwrap(), 34.0 / 70.0, 1e-12);
        close(fisher_exact_p(4, 4, 0, 4).unwrap(), 2.0 / 70.0, 1e-12);
        close(fisher_exact_p(2, 4, 2, 4).unwrap(), 1.0, 1e-12);
        assert_eq!(fisher_exact_p(0, 0, 1, 4), None);
    }

    #[test]
    fn bh_by_hand() {
        // m = 4: sorted 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.04, 0.04, 0.5
        let q = bh_q_values(&[Some(0.03), None, Some(0.01), Some(0.5), Some(0.02)]);
        let q: Vec<Option<f64>> = q
            .into_iter()
            .map(|v| v.map(|x| (x * 1e9).round() / 1e9))
            .collect();
        assert_eq!(q, vec![Some(0.04), None, Some(0.04), Some(0.5), Some(0.04)]);
    }

    #[test]
    fn srm_by_hand() {
        // 60 vs 40 expected 50/50: chi2 = 10²/50 + 10²/50 = 4
        let mut s = SrmSums::default();
        s.add(60.0, 1.0);
        s.add(40.0, 1.0);
        close(s.statistic().unwrap(), 4.0, 1e-9);
        // sf of chi2(1) at 4 = 2·(1 − Φ(2)) = 0.0455003
        close(s.p_value().unwrap(), 2.0 * Normal::standard().sf(2.0), 1e-9);
    }

    #[test]
    fn mantel_haenszel_of_one_stratum_is_the_crude_ratio() {
        let mut m = MhSums::default();
        m.add(20.0, 100.0, 10.0, 100.0);
        let pooled = m.risk_ratio(0.95);
        let crude = risk_ratio(20.0, 100.0, 10.0, 100.0, 0.95);
        close(pooled.estimate.unwrap(), 2.0, 1e-12);
        // one stratum: GR variance = (n1 n0 M1 − a c N)/N² / (a n0/N · c n1/N)
        //   = (1e4·30 − 200·200)/4e4 / (10·5) = 6.5/50 = 0.13, the Katz variance
        close(pooled.lower.unwrap(), crude.lower.unwrap(), 1e-9);
        let or = m.odds_ratio(0.95);
        close(or.estimate.unwrap(), (20.0 * 90.0) / (80.0 * 10.0), 1e-12);
    }
}
