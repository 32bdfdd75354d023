//! The window-funnel algorithm behind `window_funnel` and
//! `window_funnel_times`, free of Arrow and DataFusion so it can be tested on
//! its own.
//!
//! A group's events are kept as packed `i64`s, `(timestamp << 6) | step`
//! (step 0 = a row that meets no condition, 1..=32 = step k), so sorting the
//! plain integers orders them by time and, at equal times, by step — the
//! order ClickHouse's `windowFunnel` sorts its `(timestamp, condition)` pairs
//! in. The ordered modes follow ClickHouse's `windowFunnel` (see
//! `AggregateFunctionWindowFunnel.cpp`) step for step; `any_order` and the
//! per-step `max_gap` are microconv's own extensions.

/// The largest number of steps a funnel may have.
pub const MAX_STEPS: usize = 32;

/// Bits of a packed event that hold the step.
const STEP_BITS: u32 = 6;
const STEP_MASK: i64 = (1 << STEP_BITS) - 1;
/// Packed timestamps must fit in 57 bits (about ±4,500 years in µs).
const TS_LIMIT: i64 = 1 << (63 - STEP_BITS);

/// Pack a timestamp (µs) and a step (0..=32); `None` when the timestamp is
/// too far from 1970 to pack.
pub fn pack(ts_us: i64, step: u8) -> Option<i64> {
    if !(-TS_LIMIT..TS_LIMIT).contains(&ts_us) || usize::from(step) > MAX_STEPS {
        return None;
    }
    Some((ts_us << STEP_BITS) | i64::from(step))
}

/// Split a packed event into (timestamp µs, step).
pub fn unpack(event: i64) -> (i64, u8) {
    (event >> STEP_BITS, (event & STEP_MASK) as u8)
}

/// How a chain of steps is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Mode {
    /// ClickHouse `strict_order`: any other event after the chain started
    /// stops the search; a step whose previous step has not happened yet
    /// ends it too.
    pub strict_order: bool,
    /// ClickHouse `strict_deduplication`: a repeat of a step already
    /// reached (other than step 1) ends the search.
    pub strict_deduplication: bool,
    /// ClickHouse `strict_increase`: each step strictly after the previous.
    pub strict_increase: bool,
    /// microconv `any_order`: steps 1..k count when one occurrence of each
    /// falls within one window, whatever their order.
    pub any_order: bool,
}

impl Mode {
    /// Parse `ordered`, `strict_order`, `strict_deduplication`,
    /// `strict_increase`, `any_order`, or several ClickHouse options
    /// separated by commas or spaces (`'strict_order, strict_increase'`).
    pub fn parse(text: &str) -> Result<Mode, String> {
        let mut mode = Mode::default();
        for token in text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
        {
            match token.to_ascii_lowercase().as_str() {
                "ordered" | "default" => {}
                "strict_order" => mode.strict_order = true,
                "strict_deduplication" => mode.strict_deduplication = true,
                "strict_increase" => mode.strict_increase = true,
                "any_order" => mode.any_order = true,
                other => {
                    return Err(format!(
                        "`{other}` is not a mode (ordered, strict_order, strict_deduplication, \
                         strict_increase, any_order)"
                    ))
                }
            }
        }
        if mode.any_order
            && (mode.strict_order || mode.strict_deduplication || mode.strict_increase)
        {
            return Err("any_order cannot be combined with other modes".into());
        }
        Ok(mode)
    }

    /// The canonical text of the mode (inverse of [`Mode::parse`]).
    pub fn name(&self) -> String {
        if self.any_order {
            return "any_order".into();
        }
        let flags: Vec<&str> = [
            (self.strict_order, "strict_order"),
            (self.strict_deduplication, "strict_deduplication"),
            (self.strict_increase, "strict_increase"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect();
        if flags.is_empty() {
            "ordered".into()
        } else {
            flags.join(",")
        }
    }
}

/// Everything that decides how one group's events are matched.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Params {
    /// A step counts when `ts(step) <= ts(step 1) + window_us`.
    pub window_us: i64,
    pub mode: Mode,
    /// `max_gap_us[k]` limits the time from step k to step k+1 (0-based
    /// k = 1.. ; index 0 is unused); `None` = no limit.
    pub max_gap_us: Vec<Option<i64>>,
}

impl Params {
    pub fn new(window_us: i64, mode: Mode) -> Params {
        Params {
            window_us,
            mode,
            max_gap_us: Vec::new(),
        }
    }

    fn gap(&self, idx: usize) -> Option<i64> {
        self.max_gap_us.get(idx).copied().flatten()
    }
}

/// The furthest step reached and the timestamps (µs) of the chain that
/// first reached it (`times[..level]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub level: usize,
    pub times: [i64; MAX_STEPS],
}

impl Default for Outcome {
    fn default() -> Outcome {
        Outcome {
            level: 0,
            times: [0; MAX_STEPS],
        }
    }
}

impl Outcome {
    pub fn times(&self) -> &[i64] {
        &self.times[..self.level]
    }
}

/// Evaluate one group. `events` are packed (see [`pack`]) and are sorted
/// here; `n_steps` is the number of conditions (use [`MAX_STEPS`] when it
/// is not known: steps that never occur do not change the result).
pub fn evaluate(events: &mut [i64], params: &Params, n_steps: usize) -> Outcome {
    if events.is_empty() {
        return Outcome::default();
    }
    if !events.is_sorted() {
        events.sort_unstable();
    }
    let n_steps = n_steps.clamp(1, MAX_STEPS);
    if params.mode.any_order {
        any_order(events, params, n_steps)
    } else {
        ordered(events, params, n_steps)
    }
}

/// ClickHouse `windowFunnel` (non-`strict_once` path), with the chain's
/// timestamps recorded. `first[k]`/`last[k]` are ClickHouse's
/// `events_timestamp[k]`: the step-1 time and the step-k time of the latest
/// chain that reached step k+1; `reached` has bit k set once step k+1 was
/// reached (always a prefix, since a step is only set after the previous).
fn ordered(events: &[i64], p: &Params, n_steps: usize) -> Outcome {
    let mode = p.mode;
    let mut first = [0i64; MAX_STEPS];
    let mut last = [0i64; MAX_STEPS];
    let mut paths = [[0i64; MAX_STEPS]; MAX_STEPS];
    let mut reached: u64 = 0;
    let mut best = Outcome::default();
    let mut started = false;
    for &event in events {
        let (ts, step) = unpack(event);
        if step == 0 {
            // only strict_order keeps rows that meet no condition
            if started {
                break;
            }
            continue;
        }
        let idx = usize::from(step - 1);
        if idx == 0 {
            first[0] = ts;
            last[0] = ts;
            paths[0][0] = ts;
            reached |= 1;
            started = true;
            if best.level == 0 {
                best.level = 1;
                best.times[0] = ts;
            }
        } else if (mode.strict_deduplication && reached & (1 << idx) != 0)
            || (mode.strict_order && started && reached & (1 << (idx - 1)) == 0)
        {
            // a repeat of a step already reached (strict_deduplication) or a
            // step whose previous step has not happened (strict_order): the
            // search ends with the furthest step so far, as in ClickHouse
            break;
        } else if reached & (1 << (idx - 1)) != 0 {
            let start = first[idx - 1];
            let prev = last[idx - 1];
            let mut matched = ts <= start.saturating_add(p.window_us);
            if mode.strict_increase {
                matched &= prev < ts;
            }
            if let Some(gap) = p.gap(idx) {
                matched &= ts - prev <= gap;
            }
            if matched {
                first[idx] = start;
                last[idx] = ts;
                let (before, after) = paths.split_at_mut(idx);
                after[0][..idx].copy_from_slice(&before[idx - 1][..idx]);
                after[0][idx] = ts;
                reached |= 1 << idx;
                if idx + 1 > best.level {
                    best.level = idx + 1;
                    best.times = paths[idx];
                }
                if idx + 1 == n_steps {
                    break;
                }
            }
        }
    }
    best
}

/// The largest k such that one occurrence of each of steps 1..k lies within
/// `[t, t + window]` for some t; the times are the earliest occurrence of
/// each step in the first such window.
fn any_order(events: &[i64], p: &Params, n_steps: usize) -> Outcome {
    let steps: Vec<(i64, u8)> = events
        .iter()
        .map(|&e| unpack(e))
        .filter(|&(_, s)| s > 0)
        .collect();
    let mut counts = [0u32; MAX_STEPS];
    let mut present: u64 = 0;
    let mut best = Outcome::default();
    let mut end = 0;
    for start in 0..steps.len() {
        let limit = steps[start].0.saturating_add(p.window_us);
        while end < steps.len() && steps[end].0 <= limit {
            let k = usize::from(steps[end].1 - 1);
            counts[k] += 1;
            present |= 1 << k;
            end += 1;
        }
        let level = (present.trailing_ones() as usize).min(n_steps);
        if level > best.level {
            best.level = level;
            let mut seen: u64 = 0;
            for &(ts, s) in &steps[start..end] {
                let k = usize::from(s - 1);
                if k < level && seen & (1 << k) == 0 {
                    best.times[k] = ts;
                    seen |= 1 << k;
                }
            }
            if level == n_steps {
                break;
            }
        }
        let k = usize::from(steps[start].1 - 1);
        counts[k] -= 1;
        if counts[k] == 0 {
            present &= !(1 << k);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Events as (time, step) with step 0 = another event.
    fn run(mode: &str, window: i64, n: usize, events: &[(i64, u8)]) -> Outcome {
        let params = Params::new(window, Mode::parse(mode).unwrap());
        run_params(&params, n, events)
    }

    fn run_params(params: &Params, n: usize, events: &[(i64, u8)]) -> Outcome {
        let mut packed: Vec<i64> = events
            .iter()
            .filter(|(_, s)| *s > 0 || params.mode.strict_order)
            .map(|&(t, s)| pack(t, s).unwrap())
            .collect();
        evaluate(&mut packed, params, n)
    }

    fn level(mode: &str, window: i64, n: usize, events: &[(i64, u8)]) -> usize {
        run(mode, window, n, events).level
    }

    #[test]
    fn pack_orders_by_time_then_step() {
        let mut v = [
            pack(5, 2).unwrap(),
            pack(-3, 1).unwrap(),
            pack(5, 0).unwrap(),
            pack(5, 1).unwrap(),
        ];
        v.sort_unstable();
        let u: Vec<_> = v.iter().map(|&e| unpack(e)).collect();
        assert_eq!(u, vec![(-3, 1), (5, 0), (5, 1), (5, 2)]);
        assert_eq!(pack(1 << 57, 1), None);
        assert_eq!(pack(0, 33), None);
    }

    // The expected levels below were checked with ClickHouse 26.9 (chdb 4.4):
    // windowFunnel(10[, mode])(t, n='A', n='B', n='C', n='D').
    #[test]
    fn clickhouse_examples() {
        let abcbd = [(1, 1), (2, 2), (3, 3), (4, 2), (5, 4)];
        let abxcd = [(1, 1), (2, 2), (3, 0), (4, 3), (5, 4)];
        let abdc = [(1, 1), (2, 2), (3, 4), (4, 3)];
        let late_d = [(1, 1), (2, 1), (3, 2), (3, 3), (11, 4)];
        let expected = [
            ("ordered", [4, 4, 3, 4]),
            ("strict_order", [4, 2, 2, 4]),
            ("strict_deduplication", [3, 4, 3, 4]),
        ];
        for (mode, want) in expected {
            let got = [
                level(mode, 10, 4, &abcbd),
                level(mode, 10, 4, &abxcd),
                level(mode, 10, 4, &abdc),
                level(mode, 10, 4, &late_d),
            ];
            assert_eq!(got, want, "{mode}");
        }
    }

    #[test]
    fn window_is_inclusive_and_counts_from_step_one() {
        assert_eq!(level("ordered", 10, 3, &[(0, 1), (5, 2), (10, 3)]), 3);
        assert_eq!(level("ordered", 10, 3, &[(0, 1), (5, 2), (11, 3)]), 2);
        // a later step 1 restarts the window; the chain from it completes
        let o = run("ordered", 10, 3, &[(0, 1), (5, 2), (6, 1), (8, 2), (16, 3)]);
        assert_eq!(o.level, 3);
        assert_eq!(o.times(), &[6, 8, 16]);
    }

    #[test]
    fn times_are_those_of_the_first_chain_to_reach_the_furthest_step() {
        let o = run("ordered", 100, 3, &[(0, 1), (5, 2), (50, 1), (55, 2)]);
        assert_eq!((o.level, o.times()), (2, &[0, 5][..]));
    }

    #[test]
    fn simultaneous_events_sort_by_step() {
        // one row meeting steps 1 and 2 at once counts for both
        assert_eq!(level("ordered", 10, 2, &[(3, 2), (3, 1)]), 2);
        // strict_increase needs each step strictly later
        assert_eq!(level("strict_increase", 10, 2, &[(3, 2), (3, 1)]), 1);
    }

    #[test]
    fn strict_order_ignores_other_events_before_the_first_step() {
        assert_eq!(level("strict_order", 10, 2, &[(0, 0), (1, 1), (2, 2)]), 2);
        assert_eq!(level("strict_order", 10, 2, &[(0, 0)]), 0);
    }

    #[test]
    fn max_gap_limits_time_since_previous_step() {
        let mut p = Params::new(100, Mode::default());
        p.max_gap_us = vec![None, Some(5), None];
        assert_eq!(run_params(&p, 3, &[(0, 1), (5, 2), (90, 3)]).level, 3);
        assert_eq!(run_params(&p, 3, &[(0, 1), (6, 2), (90, 3)]).level, 1);
        // a fresh step 1 closer to step 2 satisfies the gap
        assert_eq!(run_params(&p, 3, &[(0, 1), (3, 1), (8, 2)]).level, 2);
    }

    #[test]
    fn any_order_needs_steps_one_to_k_in_one_window() {
        assert_eq!(level("any_order", 10, 3, &[(0, 3), (2, 2), (4, 1)]), 3);
        assert_eq!(level("any_order", 10, 3, &[(0, 2), (20, 1)]), 1);
        // step 3 without step 2 does not count
        assert_eq!(level("any_order", 10, 3, &[(0, 1), (1, 3)]), 1);
        let o = run(
            "any_order",
            10,
            3,
            &[(0, 2), (1, 2), (15, 1), (30, 1), (31, 2), (35, 3)],
        );
        assert_eq!((o.level, o.times()), (3, &[30, 31, 35][..]));
    }

    #[test]
    fn thirty_two_steps() {
        let all: Vec<(i64, u8)> = (1..=32).map(|k| (i64::from(k), k)).collect();
        let o = run("ordered", 100, 32, &all);
        assert_eq!(o.level, 32);
        assert_eq!(o.times()[31], 32);
        // with the step count unknown (a mask), the result is the same
        assert_eq!(run("strict_order", 100, MAX_STEPS, &all).level, 32);
        assert_eq!(level("any_order", 100, 32, &all), 32);
        assert_eq!(level("ordered", 100, 32, &all[..31]), 31);
    }

    #[test]
    fn modes_parse_and_print() {
        assert_eq!(Mode::parse("").unwrap(), Mode::default());
        let m = Mode::parse("strict_order, strict_deduplication").unwrap();
        assert!(m.strict_order && m.strict_deduplication);
        assert_eq!(m.name(), "strict_order,strict_deduplication");
        assert!(Mode::parse("any_order strict_order").is_err());
        assert!(Mode::parse("sometimes").unwrap_err().contains("sometimes"));
    }
}
