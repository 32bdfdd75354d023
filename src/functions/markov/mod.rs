//! First-order Markov chain attribution, computed exactly.
//!
//! Every path `c1 > c2 > ... > ck` adds the transitions `(start) → c1`,
//! `c1 → c2`, ..., and `ck → (conversion)` / `ck → (null)` with weights
//! equal to its conversions and non-conversions. Normalising each state's
//! outgoing weights gives the absorbing chain with transient states = the
//! channels, `Q` (channel → channel) and `r` (channel → conversion).
//!
//! The conversion probability from each channel is the solution of
//! `(I − Q) x = r`, and from the start `P = s·x` (`s` = start → channel
//! probabilities). The *removal effect* of channel `c` is the relative drop
//! of `P` when `c` is removed (every transition into `c` goes to null):
//! `RE(c) = 1 − P₋c / P`. Removing `c` loses exactly the conversions that
//! pass through `c`, so `P − P₋c = h(c) · x(c)`, where `h(c)` is the
//! probability of ever reaching `c` from the start. With the fundamental
//! matrix `N = (I − Q)⁻¹`, `h(c) = v(c) / N(c,c)` with `v = sᵀN` (expected
//! visits), so one LU factorisation gives every removal effect — no
//! simulation, no per-channel re-solve. [`removal_effects_by_resolve`] is the
//! direct definition (one solve per removed channel), kept to test the
//! shortcut against.
//!
//! Credits: `share(c) = RE(c) / Σ RE`, credited conversions = share × total
//! conversions, credited revenue = share × total revenue, so the credits sum
//! to the totals exactly.

pub mod udaf;

use std::collections::HashMap;

use nalgebra::{DMatrix, DVector};

/// Transition counts of a first-order chain, built path by path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chain {
    ids: HashMap<String, usize>,
    names: Vec<String>,
    /// start → channel weights, by channel id.
    start: Vec<f64>,
    /// (from, to) → weight between channels.
    edges: HashMap<(usize, usize), f64>,
    /// channel → conversion weights.
    conv: Vec<f64>,
    /// channel → null weights.
    null: Vec<f64>,
    /// Conversions and revenue of the paths added (non-empty ones only).
    total_conversions: f64,
    total_revenue: f64,
}

/// One channel's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelCredit {
    pub channel: String,
    /// `1 − P(conversion without the channel) / P(conversion)`.
    pub removal_effect: f64,
    /// removal_effect / sum of removal effects.
    pub share: f64,
    pub conversions: f64,
    pub revenue: f64,
}

/// Why a chain cannot be solved.
#[derive(Debug, Clone, PartialEq)]
pub enum MarkovError {
    /// `I − Q` is singular (cannot happen for chains built from paths, which
    /// always reach an absorbing state); kept as an error, never a panic.
    Singular,
}

impl std::fmt::Display for MarkovError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MarkovError::Singular => write!(f, "the transition matrix is singular"),
        }
    }
}

impl Chain {
    pub fn new() -> Chain {
        Chain::default()
    }

    fn id(&mut self, name: &str) -> usize {
        if let Some(&i) = self.ids.get(name) {
            return i;
        }
        let i = self.names.len();
        self.ids.insert(name.to_string(), i);
        self.names.push(name.to_string());
        self.start.push(0.0);
        self.conv.push(0.0);
        self.null.push(0.0);
        i
    }

    /// Add one path with its conversions, non-conversions and revenue
    /// (already validated: finite and non-negative). Empty paths and paths
    /// with no weight add nothing: their conversions cannot be credited to
    /// any channel.
    pub fn add_path<S: AsRef<str>>(
        &mut self,
        path: &[S],
        conversions: f64,
        nulls: f64,
        revenue: f64,
    ) {
        let weight = conversions + nulls;
        if path.is_empty() || weight <= 0.0 {
            return;
        }
        let mut prev: Option<usize> = None;
        for channel in path {
            let id = self.id(channel.as_ref());
            match prev {
                None => self.start[id] += weight,
                Some(p) => *self.edges.entry((p, id)).or_insert(0.0) += weight,
            }
            prev = Some(id);
        }
        if let Some(last) = prev {
            self.conv[last] += conversions;
            self.null[last] += nulls;
        }
        self.total_conversions += conversions;
        self.total_revenue += revenue;
    }

    /// Add another chain's counts (partial aggregates).
    pub fn merge(&mut self, other: &Chain) {
        let map: Vec<usize> = other.names.iter().map(|n| self.id(n)).collect();
        for (i, &to) in map.iter().enumerate() {
            self.start[to] += other.start[i];
            self.conv[to] += other.conv[i];
            self.null[to] += other.null[i];
        }
        for (&(a, b), &w) in &other.edges {
            *self.edges.entry((map[a], map[b])).or_insert(0.0) += w;
        }
        self.total_conversions += other.total_conversions;
        self.total_revenue += other.total_revenue;
    }

    /// Rough heap size in bytes (for the memory pool).
    pub fn approx_bytes(&self) -> usize {
        let names: usize = self.names.iter().map(|n| 2 * n.len() + 64).sum();
        names + self.edges.len() * 40 + self.start.len() * 24
    }

    pub fn total_conversions(&self) -> f64 {
        self.total_conversions
    }

    pub fn total_revenue(&self) -> f64 {
        self.total_revenue
    }

    /// The transitions as `(from, to, weight)` with `None` for the start
    /// (as `from`), for conversion (`to = Some(true)`... see [`Edge`]).
    pub fn edges(&self) -> Vec<Edge> {
        let mut out = Vec::new();
        for (i, name) in self.names.iter().enumerate() {
            if self.start[i] != 0.0 {
                out.push(Edge {
                    from: None,
                    to: Target::Channel(name.clone()),
                    weight: self.start[i],
                });
            }
            if self.conv[i] != 0.0 {
                out.push(Edge {
                    from: Some(name.clone()),
                    to: Target::Conversion,
                    weight: self.conv[i],
                });
            }
            if self.null[i] != 0.0 {
                out.push(Edge {
                    from: Some(name.clone()),
                    to: Target::Null,
                    weight: self.null[i],
                });
            }
        }
        for (&(a, b), &w) in &self.edges {
            out.push(Edge {
                from: Some(self.names[a].clone()),
                to: Target::Channel(self.names[b].clone()),
                weight: w,
            });
        }
        out
    }

    /// Add one transition (the inverse of [`Chain::edges`]; used to merge
    /// serialized partial states). `from = None` is the start state.
    pub fn add_edge(&mut self, from: Option<&str>, to: &Target, weight: f64) {
        match (from, to) {
            (None, Target::Channel(c)) => {
                let i = self.id(c);
                self.start[i] += weight;
            }
            (Some(f), Target::Channel(c)) => {
                let a = self.id(f);
                let b = self.id(c);
                *self.edges.entry((a, b)).or_insert(0.0) += weight;
            }
            (Some(f), Target::Conversion) => {
                let a = self.id(f);
                self.conv[a] += weight;
            }
            (Some(f), Target::Null) => {
                let a = self.id(f);
                self.null[a] += weight;
            }
            // start straight to an absorbing state: an empty path, never stored
            (None, _) => {}
        }
    }

    /// Set the totals (used when merging serialized partial states).
    pub fn add_totals(&mut self, conversions: f64, revenue: f64) {
        self.total_conversions += conversions;
        self.total_revenue += revenue;
    }

    /// `Q` (channel → channel), `r` (channel → conversion) and `s` (start →
    /// channel) as probabilities.
    fn matrices(&self) -> (DMatrix<f64>, DVector<f64>, DVector<f64>) {
        let n = self.names.len();
        let mut out: Vec<f64> = self
            .conv
            .iter()
            .zip(&self.null)
            .map(|(c, x)| c + x)
            .collect();
        for (&(a, _), &w) in &self.edges {
            out[a] += w;
        }
        let mut q = DMatrix::zeros(n, n);
        for (&(a, b), &w) in &self.edges {
            q[(a, b)] += w / out[a];
        }
        let r = DVector::from_fn(n, |i, _| {
            if out[i] > 0.0 {
                self.conv[i] / out[i]
            } else {
                0.0
            }
        });
        let total_start: f64 = self.start.iter().sum();
        let s = DVector::from_fn(n, |i, _| {
            if total_start > 0.0 {
                self.start[i] / total_start
            } else {
                0.0
            }
        });
        (q, r, s)
    }

    /// The conversion probability from the start.
    pub fn conversion_probability(&self) -> Result<f64, MarkovError> {
        let (q, r, s) = self.matrices();
        let n = q.nrows();
        let a = DMatrix::identity(n, n) - q;
        let x = a.lu().solve(&r).ok_or(MarkovError::Singular)?;
        Ok(s.dot(&x))
    }

    /// Removal effect, share and credits of every channel, by channel name.
    pub fn attribute(&self) -> Result<Vec<ChannelCredit>, MarkovError> {
        let effects = self.removal_effects()?;
        let sum: f64 = effects.iter().sum();
        let mut out: Vec<ChannelCredit> = self
            .names
            .iter()
            .zip(effects)
            .map(|(name, re)| {
                let share = if sum > 0.0 { re / sum } else { 0.0 };
                ChannelCredit {
                    channel: name.clone(),
                    removal_effect: re,
                    share,
                    conversions: share * self.total_conversions,
                    revenue: share * self.total_revenue,
                }
            })
            .collect();
        out.sort_by(|a, b| a.channel.cmp(&b.channel));
        Ok(out)
    }

    /// Removal effects by channel id, from one inverse of `I − Q`.
    fn removal_effects(&self) -> Result<Vec<f64>, MarkovError> {
        let n = self.names.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let (q, r, s) = self.matrices();
        let fundamental = (DMatrix::identity(n, n) - q)
            .try_inverse()
            .ok_or(MarkovError::Singular)?;
        let x = &fundamental * r;
        let p = s.dot(&x);
        if p <= 0.0 {
            return Ok(vec![0.0; n]);
        }
        let visits = fundamental.transpose() * s;
        Ok((0..n)
            .map(|c| {
                let hit = visits[c] / fundamental[(c, c)];
                (hit * x[c] / p).clamp(0.0, 1.0)
            })
            .collect())
    }

    /// Removal effects by the definition: for each channel, zero its row
    /// and conversion probability and re-solve `(I − Q) x = r`.
    pub fn removal_effects_by_resolve(&self) -> Result<Vec<(String, f64)>, MarkovError> {
        let (q, r, s) = self.matrices();
        let n = q.nrows();
        let a = DMatrix::identity(n, n) - &q;
        let p = s.dot(&a.clone().lu().solve(&r).ok_or(MarkovError::Singular)?);
        let mut out = Vec::new();
        for c in 0..n {
            let mut a_c = a.clone();
            let mut r_c = r.clone();
            for j in 0..n {
                a_c[(c, j)] = if j == c { 1.0 } else { 0.0 };
            }
            r_c[c] = 0.0;
            let x_c = a_c.lu().solve(&r_c).ok_or(MarkovError::Singular)?;
            let re = if p > 0.0 { 1.0 - s.dot(&x_c) / p } else { 0.0 };
            out.push((self.names[c].clone(), re));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

/// Where a transition goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Channel(String),
    Conversion,
    Null,
}

/// One transition with its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// `None`: the start state.
    pub from: Option<String>,
    pub to: Target,
    pub weight: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn chain(paths: &[(&str, f64, f64, f64)]) -> Chain {
        let mut c = Chain::new();
        for (p, conv, null, rev) in paths {
            let path: Vec<&str> = p.split(" > ").collect();
            c.add_path(&path, *conv, *null, *rev);
        }
        c
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9
    }

    fn check(result: &[ChannelCredit], expected: &[(&str, f64, f64)]) {
        assert_eq!(result.len(), expected.len(), "{result:?}");
        for (r, (name, re, conv)) in result.iter().zip(expected) {
            assert_eq!(r.channel, *name);
            assert!(close(r.removal_effect, *re), "{name}: RE {r:?} != {re}");
            assert!(
                close(r.conversions, *conv),
                "{name}: credit {r:?} != {conv}"
            );
        }
    }

    /// Bryl, "Marketing Multi-Channel Attribution model with R (part 1:
    /// Markov chains concept)", analyzecore.com, 2016: journeys
    /// C1 > C2 > C3 (conversion), C1 (null), C2 > C3 (null).
    /// By hand: s = (2/3, 1/3, 0); C1 → C2 1/2, C1 → null 1/2; C2 → C3 1;
    /// C3 → conv 1/2, C3 → null 1/2. x(C3) = 1/2, x(C2) = 1/2,
    /// x(C1) = 1/4; P = 2/3·1/4 + 1/3·1/2 = 1/3.
    /// Without C1: P = 1/3·1/2 = 1/6, RE = 1/2. Without C2 or C3: P = 0,
    /// RE = 1. Shares 0.5/2.5 = 0.2, 0.4, 0.4 of 1 conversion.
    #[test]
    fn bryl_three_journeys() {
        let c = chain(&[
            ("C1 > C2 > C3", 1.0, 0.0, 0.0),
            ("C1", 0.0, 1.0, 0.0),
            ("C2 > C3", 0.0, 1.0, 0.0),
        ]);
        assert!(close(c.conversion_probability().unwrap(), 1.0 / 3.0));
        check(
            &c.attribute().unwrap(),
            &[("C1", 0.5, 0.2), ("C2", 1.0, 0.4), ("C3", 1.0, 0.4)],
        );
    }

    /// Puzyrov, "Markov Chain Attribution – Simple Explanation Of Removal
    /// Effect", serhiipuzyrov.com, 2019: google ads (2 conversions),
    /// mailing (1), google ads > mailing (1), google ads (0 conversions).
    /// By hand: s = (0.8, 0.2); ads → conv 1/2, → mailing 1/4, → null 1/4;
    /// mailing → conv 1. x(mailing) = 1, x(ads) = 3/4, P = 0.8.
    /// Without ads: P = 0.2, RE = 0.75. Without mailing: P = 0.8·0.5 = 0.4,
    /// RE = 0.5. Shares 0.6 / 0.4 of 4 conversions: 2.4 and 1.6.
    #[test]
    fn puzyrov_four_paths() {
        let c = chain(&[
            ("google ads", 2.0, 0.0, 0.0),
            ("mailing", 1.0, 0.0, 0.0),
            ("google ads > mailing", 1.0, 0.0, 0.0),
            ("google ads", 0.0, 1.0, 0.0),
        ]);
        assert!(close(c.conversion_probability().unwrap(), 0.8));
        check(
            &c.attribute().unwrap(),
            &[("google ads", 0.75, 2.4), ("mailing", 0.5, 1.6)],
        );
    }

    /// A chain with a loop (A > B > A) and self-transitions, worked out with
    /// exact fractions by `tests/reference/markov_reference.py` (Gaussian
    /// elimination over `fractions.Fraction`, one solve per removed channel).
    #[test]
    fn loop_example_matches_exact_fractions() {
        let c = chain(&[
            ("A > B > A", 3.0, 1.0, 300.0),
            ("A > C", 1.0, 2.0, 50.0),
            ("B > B > C", 2.0, 0.0, 80.0),
            ("C > A", 0.0, 4.0, 0.0),
            ("B", 1.0, 3.0, 20.0),
        ]);
        // P = 7/17 (reference script output, exact)
        assert!(close(c.conversion_probability().unwrap(), 7.0 / 17.0));
        // RE(A) = 2/3, RE(B) = 127/287, RE(C) = 269/469; of 7 conversions
        // A gets 134603/48536, B 178689/97072, C 231609/97072; of 450
        // revenue A gets 4326525/24268.
        let result = c.attribute().unwrap();
        check(
            &result,
            &[
                ("A", 2.0 / 3.0, 134_603.0 / 48_536.0),
                ("B", 127.0 / 287.0, 178_689.0 / 97_072.0),
                ("C", 269.0 / 469.0, 231_609.0 / 97_072.0),
            ],
        );
        assert!(close(result[0].revenue, 4_326_525.0 / 24_268.0));
    }

    /// A path with its conversions, nulls and revenue.
    type WeightedPath = (Vec<String>, f64, f64, f64);

    fn random_chain(rng: &mut ChaCha8Rng) -> (Chain, Vec<WeightedPath>) {
        let channels = rng.gen_range(1..=8);
        let mut c = Chain::new();
        let mut paths = Vec::new();
        for _ in 0..rng.gen_range(1..=40) {
            let len = rng.gen_range(1..=6);
            let path: Vec<String> = (0..len)
                .map(|_| format!("ch{}", rng.gen_range(0..channels)))
                .collect();
            let converted = rng.gen_bool(0.4);
            let revenue = if converted {
                rng.gen_range(1.0..200.0)
            } else {
                0.0
            };
            let (conv, null) = if converted { (1.0, 0.0) } else { (0.0, 1.0) };
            c.add_path(&path, conv, null, revenue);
            paths.push((path, conv, null, revenue));
        }
        (c, paths)
    }

    /// Property: on random paths the credits sum to the conversions and the
    /// revenue, shares to 1 (when anything converted), every removal effect
    /// is in [0, 1], and the one-inverse shortcut equals the per-channel
    /// re-solve of the definition.
    #[test]
    fn random_paths_credits_sum_to_totals() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for case in 0..300 {
            let (c, _) = random_chain(&mut rng);
            let result = c.attribute().unwrap();
            let conv: f64 = result.iter().map(|r| r.conversions).sum();
            let rev: f64 = result.iter().map(|r| r.revenue).sum();
            if c.total_conversions() > 0.0 {
                assert!(
                    (conv - c.total_conversions()).abs() < 1e-9,
                    "case {case}: {conv} != {}",
                    c.total_conversions()
                );
                assert!((rev - c.total_revenue()).abs() < 1e-6, "case {case}");
                let shares: f64 = result.iter().map(|r| r.share).sum();
                assert!((shares - 1.0).abs() < 1e-9, "case {case}");
            } else {
                assert!(result.iter().all(|r| r.conversions == 0.0));
            }
            let direct = c.removal_effects_by_resolve().unwrap();
            for (r, (name, re)) in result.iter().zip(&direct) {
                assert_eq!(&r.channel, name);
                assert!((0.0..=1.0).contains(&r.removal_effect));
                assert!(
                    (r.removal_effect - re).abs() < 1e-9,
                    "case {case} {name}: {} vs {re}",
                    r.removal_effect
                );
            }
        }
    }

    /// Property: collapsing consecutive repeats (A > A > B → A > B) does not
    /// change anything (a self-loop does not change absorption
    /// probabilities), and splitting the paths into two chains then merging
    /// equals one chain (what partial aggregation relies on).
    #[test]
    fn collapsing_and_merging_change_nothing() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for case in 0..200 {
            let (whole, paths) = random_chain(&mut rng);
            let mut collapsed = Chain::new();
            let mut left = Chain::new();
            let mut right = Chain::new();
            for (i, (p, conv, null, rev)) in paths.iter().enumerate() {
                let mut q = p.clone();
                q.dedup();
                collapsed.add_path(&q, *conv, *null, *rev);
                let half = if i % 2 == 0 { &mut left } else { &mut right };
                half.add_path(p, *conv, *null, *rev);
            }
            left.merge(&right);
            let a = whole.attribute().unwrap();
            for other in [collapsed.attribute().unwrap(), left.attribute().unwrap()] {
                for (x, y) in a.iter().zip(&other) {
                    assert_eq!(x.channel, y.channel);
                    assert!(
                        (x.removal_effect - y.removal_effect).abs() < 1e-9,
                        "case {case}"
                    );
                    assert!((x.conversions - y.conversions).abs() < 1e-9);
                }
            }
        }
    }

    #[test]
    fn serialized_edges_rebuild_the_chain() {
        let c = chain(&[("A > B > A", 3.0, 1.0, 30.0), ("C", 0.0, 2.0, 0.0)]);
        let mut rebuilt = Chain::new();
        for e in c.edges() {
            rebuilt.add_edge(e.from.as_deref(), &e.to, e.weight);
        }
        rebuilt.add_totals(c.total_conversions(), c.total_revenue());
        assert_eq!(c.attribute().unwrap(), rebuilt.attribute().unwrap());
    }

    #[test]
    fn nothing_converted_or_nothing_at_all() {
        assert!(Chain::new().attribute().unwrap().is_empty());
        let c = chain(&[("A > B", 0.0, 2.0, 0.0)]);
        let r = c.attribute().unwrap();
        assert_eq!(r.len(), 2);
        assert!(r
            .iter()
            .all(|x| x.removal_effect == 0.0 && x.conversions == 0.0));
        let mut e = Chain::new();
        e.add_path::<&str>(&[], 3.0, 0.0, 10.0);
        assert_eq!(e.total_conversions(), 0.0);
    }
}
