//! Per-group state of the funnel aggregates, shared by the
//! `GroupsAccumulator` (GROUP BY, millions of groups) and the single-group
//! `Accumulator` (no GROUP BY, window frames).
//!
//! A group holds one packed `i64` per (row, step it meets) — see
//! [`super::algo::pack`] — and an index into a small table of the
//! distinct parameter sets (window, mode, max gaps) seen, so the bundled
//! queries can pass a funnel's parameters as columns. Events are sorted once,
//! when the group is evaluated. The partial-aggregation state is the packed
//! events as a list plus the parameters.

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int32Array, Int64Array, Int64Builder, ListArray,
    ListBuilder, StringArray, StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{
    DataType, Field, Int64Type, IntervalDayTimeType, IntervalMonthDayNanoType, IntervalUnit,
    TimestampMicrosecondType,
};
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};
use datafusion::physical_expr::expressions::Literal;
use datafusion::physical_expr::PhysicalExpr;

use super::algo::{evaluate, pack, Mode, Outcome, Params};
use super::{Conds, Layout, Output};
use crate::config::units::parse_duration;
use crate::schema::UTC;

const NO_PARAMS: u32 = u32::MAX;
const MICROS: i64 = 1_000_000;

/// The state of every group of one aggregate.
#[derive(Debug)]
pub(crate) struct FunnelGroups {
    name: &'static str,
    output: Output,
    layout: Layout,
    /// Set when window, mode and max_gaps are literals: their id in `params`.
    fixed: Option<u32>,
    params: Vec<Params>,
    group_param: Vec<u32>,
    events: Vec<Vec<i64>>,
    /// Heap bytes of the groups' event vectors: their capacity (a vector
    /// grows by doubling, so up to twice its length) plus the allocator's
    /// own bytes per vector, kept up to date for `size`. Counting lengths
    /// only saw about half of it on users with a few events each: at 100M
    /// events the aggregation of `funnel_chains` went about 0.5 GB past the
    /// pool.
    heap_bytes: usize,
}

/// What the allocator spends on one allocation beside the bytes asked for
/// (glibc: an 8-byte header, sizes rounded up to 16).
const ALLOCATION_OVERHEAD: usize = 16;

/// The heap bytes of `events` as [`FunnelGroups::heap_bytes`] counts them.
fn heap_bytes_of(events: &[Vec<i64>]) -> usize {
    events
        .iter()
        .filter(|v| v.capacity() > 0)
        .map(|v| v.capacity() * 8 + ALLOCATION_OVERHEAD)
        .sum()
}

/// Grow `v` by `extend` and count what its allocation grew by.
fn counted(v: &mut Vec<i64>, heap_bytes: &mut usize, extend: impl FnOnce(&mut Vec<i64>)) {
    let before = v.capacity();
    extend(v);
    let after = v.capacity();
    if after != before {
        *heap_bytes += (after - before) * 8;
        if before == 0 {
            *heap_bytes += ALLOCATION_OVERHEAD;
        }
    }
}

impl FunnelGroups {
    pub fn new(
        name: &'static str,
        output: Output,
        layout: Layout,
        exprs: &[Arc<dyn PhysicalExpr>],
    ) -> Result<FunnelGroups> {
        let mut groups = FunnelGroups {
            name,
            output,
            layout,
            fixed: None,
            params: Vec::new(),
            group_param: Vec::new(),
            events: Vec::new(),
            heap_bytes: 0,
        };
        groups.fixed = groups.literal_params(exprs)?;
        Ok(groups)
    }

    /// A fresh state with the same configuration.
    fn empty_like(&self) -> FunnelGroups {
        FunnelGroups {
            name: self.name,
            output: self.output,
            layout: self.layout,
            fixed: self.fixed,
            params: self.params.clone(),
            group_param: Vec::new(),
            events: Vec::new(),
            heap_bytes: 0,
        }
    }

    /// When the parameter arguments are literals, check them once here.
    fn literal_params(&mut self, exprs: &[Arc<dyn PhysicalExpr>]) -> Result<Option<u32>> {
        let literal = |i: usize| {
            exprs
                .get(i)
                .and_then(|e| e.downcast_ref::<Literal>())
                .map(|l| l.value().clone())
        };
        let (Some(window), Some(mode)) = (literal(0), literal(1)) else {
            return Ok(None);
        };
        let gaps = match self.layout.gaps_index() {
            Some(i) => match literal(i) {
                Some(g) => Some(g.to_array()?),
                None => return Ok(None),
            },
            None => None,
        };
        let (window, mode) = (window.to_array()?, mode.to_array()?);
        let cols = ParamCols::new(self.name, self.layout, &window, &mode, gaps.as_ref())?;
        let params = cols.params(0)?;
        self.params.push(params);
        Ok(Some(0))
    }

    fn resize(&mut self, total: usize) {
        if self.events.len() < total {
            self.events.resize_with(total, Vec::new);
            self.group_param.resize(total, NO_PARAMS);
        }
    }

    fn intern(&mut self, params: Params) -> u32 {
        match self.params.iter().position(|p| *p == params) {
            Some(i) => i as u32,
            None => {
                self.params.push(params);
                (self.params.len() - 1) as u32
            }
        }
    }

    /// The parameter id of `row`, parsing its parameters only when no row
    /// of this batch with the same raw values was seen.
    fn param_id(&mut self, cols: &ParamCols, cache: &mut RowCache, row: usize) -> Result<u32> {
        if let Some(id) = cache.find(|rep| cols.same(rep, row)) {
            return Ok(id);
        }
        let id = self.intern(cols.params(row)?);
        cache.add(row, id);
        Ok(id)
    }

    fn bind(&mut self, group: usize, id: u32) -> Result<()> {
        let current = self.group_param[group];
        if current == NO_PARAMS {
            self.group_param[group] = id;
        } else if current != id {
            return exec_err!(
                "{}: window, mode and max_gaps must be the same for every row of a group \
                 (found {:?} and {:?})",
                self.name,
                self.params[current as usize],
                self.params[id as usize]
            );
        }
        Ok(())
    }

    fn push(&mut self, group: usize, ts: i64, step: u8) -> Result<()> {
        let Some(event) = pack(ts, step) else {
            return exec_err!("{}: event_time {ts} µs is out of range", self.name);
        };
        counted(&mut self.events[group], &mut self.heap_bytes, |v| {
            v.push(event)
        });
        Ok(())
    }

    /// Add input rows.
    pub fn update(
        &mut self,
        values: &[ArrayRef],
        groups: &[usize],
        filter: Option<&BooleanArray>,
        total: usize,
    ) -> Result<()> {
        self.resize(total);
        let times = values[2].as_primitive::<TimestampMicrosecondType>();
        let cols = match self.fixed {
            Some(_) => None,
            None => Some(ParamCols::new(
                self.name,
                self.layout,
                &values[0],
                &values[1],
                self.layout.gaps_index().map(|i| &values[i]),
            )?),
        };
        let steps = match self.layout.conds {
            Conds::Booleans(n) => Steps::Booleans(
                values[3..3 + n]
                    .iter()
                    .map(|a| a.as_boolean())
                    .collect::<Vec<_>>(),
            ),
            Conds::Mask => Steps::Mask(values[3].as_primitive::<Int64Type>()),
        };
        let mut cache = RowCache::default();
        for (row, &group) in groups.iter().enumerate() {
            if filter.is_some_and(|f| !f.is_valid(row) || !f.value(row)) || times.is_null(row) {
                continue;
            }
            let id = match (&cols, self.fixed) {
                (_, Some(id)) => id,
                (Some(cols), None) => self.param_id(cols, &mut cache, row)?,
                (None, None) => unreachable!("either fixed or read from columns"),
            };
            self.bind(group, id)?;
            let strict_order = self.params[id as usize].mode.strict_order;
            let ts = times.value(row);
            let mut any = false;
            match &steps {
                Steps::Booleans(conds) => {
                    for (i, c) in conds.iter().enumerate() {
                        if c.is_valid(row) && c.value(row) {
                            self.push(group, ts, (i + 1) as u8)?;
                            any = true;
                        }
                    }
                }
                Steps::Mask(mask) => {
                    let m = if mask.is_valid(row) {
                        mask.value(row)
                    } else {
                        0
                    };
                    if !(0..1 << 32).contains(&m) {
                        return exec_err!(
                            "{}: step_mask {m} is not a bitmask of steps 1 to 32",
                            self.name
                        );
                    }
                    let mut bits = m as u64;
                    while bits != 0 {
                        self.push(group, ts, (bits.trailing_zeros() + 1) as u8)?;
                        bits &= bits - 1;
                        any = true;
                    }
                }
            }
            if !any && strict_order {
                self.push(group, ts, 0)?;
            }
        }
        Ok(())
    }

    /// Add partial states (see [`FunnelGroups::state`]).
    pub fn merge(&mut self, values: &[ArrayRef], groups: &[usize], total: usize) -> Result<()> {
        self.resize(total);
        let events = values[0].as_list::<i32>();
        let event_values = events.values().as_primitive::<Int64Type>();
        let cols = ParamCols::from_state(self.name, &values[1], &values[2], &values[3])?;
        let mut cache = RowCache::default();
        for (row, &group) in groups.iter().enumerate() {
            if cols.window_us[row].is_some() {
                let id = self.param_id(&cols, &mut cache, row)?;
                self.bind(group, id)?;
            }
            if events.is_valid(row) {
                let range = list_range(events, row);
                let new = &event_values.values()[range];
                counted(&mut self.events[group], &mut self.heap_bytes, |v| {
                    v.extend_from_slice(new)
                });
            }
        }
        Ok(())
    }

    /// The result of groups `range` (sorts their events in place).
    pub fn result(&mut self, range: Range<usize>) -> Result<ArrayRef> {
        let n_steps = self.layout.n_steps();
        let mut outcomes = Vec::with_capacity(range.len());
        for g in range {
            let id = self.group_param.get(g).copied().unwrap_or(NO_PARAMS);
            outcomes.push(if id == NO_PARAMS {
                Outcome::default()
            } else {
                evaluate(&mut self.events[g], &self.params[id as usize], n_steps)
            });
        }
        Ok(match self.output {
            Output::Level => Arc::new(
                outcomes
                    .iter()
                    .map(|o| o.level as i32)
                    .collect::<Int32Array>(),
            ),
            Output::Times => times_list(outcomes),
        })
    }

    /// The partial state of groups `range`: events, window_us, mode, max_gaps_us.
    pub fn state(&self, range: Range<usize>) -> Result<Vec<ArrayRef>> {
        let groups = &self.events[range.clone()];
        let offsets = OffsetBuffer::from_lengths(groups.iter().map(Vec::len));
        let flat: Int64Array = groups.iter().flatten().copied().collect();
        let item = Arc::new(Field::new_list_field(DataType::Int64, true));
        let events = ListArray::try_new(item.clone(), offsets, Arc::new(flat), None)?;
        // each parameter set's text once, not once per group
        let names: Vec<String> = self.params.iter().map(|p| p.mode.name()).collect();
        let ids = &self.group_param[range];
        let mut windows = Int64Builder::with_capacity(ids.len());
        let mut modes = StringBuilder::with_capacity(ids.len(), ids.len() * 8);
        let mut gaps = ListBuilder::new(Int64Builder::new());
        for &id in ids {
            if id == NO_PARAMS {
                windows.append_null();
                modes.append_null();
                gaps.append(false);
                continue;
            }
            let p = &self.params[id as usize];
            windows.append_value(p.window_us);
            modes.append_value(&names[id as usize]);
            for &g in &p.max_gap_us {
                gaps.values().append_option(g);
            }
            gaps.append(!p.max_gap_us.is_empty());
        }
        let (windows, modes, gaps) = (windows.finish(), modes.finish(), gaps.finish());
        Ok(vec![
            Arc::new(events),
            Arc::new(windows),
            Arc::new(modes),
            Arc::new(gaps),
        ])
    }

    /// Forget the groups that were emitted.
    fn take(&mut self, emit_to: EmitTo) {
        let emitted = emit_to.take_needed(&mut self.events);
        emit_to.take_needed(&mut self.group_param);
        self.heap_bytes = self.heap_bytes.saturating_sub(heap_bytes_of(&emitted));
    }

    fn len_for(&self, emit_to: EmitTo) -> usize {
        match emit_to {
            EmitTo::All => self.events.len(),
            EmitTo::First(n) => n,
        }
    }

    fn bytes(&self) -> usize {
        self.heap_bytes
            + self.events.capacity() * std::mem::size_of::<Vec<i64>>()
            + self.group_param.capacity() * 4
    }
}

fn list_range(list: &ListArray, row: usize) -> Range<usize> {
    let offsets = list.value_offsets();
    offsets[row] as usize..offsets[row + 1] as usize
}

fn times_list(outcomes: Vec<Outcome>) -> ArrayRef {
    let offsets = OffsetBuffer::from_lengths(outcomes.iter().map(|o| o.level));
    let flat = TimestampMicrosecondArray::from_iter_values(
        outcomes.iter().flat_map(|o| o.times().iter().copied()),
    )
    .with_timezone(UTC);
    let item = Arc::new(Field::new_list_field(flat.data_type().clone(), true));
    Arc::new(ListArray::new(item, offsets, Arc::new(flat), None))
}

enum Steps<'a> {
    Booleans(Vec<&'a BooleanArray>),
    Mask(&'a Int64Array),
}

/// Rows of a batch whose parameters were already looked up, with their id;
/// a batch that interleaves a few funnels parses each one's parameters once.
#[derive(Default)]
struct RowCache {
    seen: Vec<(usize, u32)>,
}

impl RowCache {
    /// Kept small: beyond it, rows are parsed and interned one by one.
    const LIMIT: usize = 16;

    fn find(&mut self, same_as: impl Fn(usize) -> bool) -> Option<u32> {
        let i = self.seen.iter().position(|&(rep, _)| same_as(rep))?;
        // most recently used first
        self.seen[..=i].rotate_right(1);
        Some(self.seen[0].1)
    }

    fn add(&mut self, row: usize, id: u32) {
        if self.seen.len() < Self::LIMIT {
            self.seen.insert(0, (row, id));
        }
    }
}

/// The parameter columns of one batch: the arguments (window in any
/// accepted type, gaps in seconds) or a partial state (µs).
struct ParamCols<'a> {
    name: &'static str,
    window_us: Vec<Option<i64>>,
    modes: &'a StringArray,
    gaps: Option<(&'a ListArray, &'a Int64Array)>,
    /// µs per unit of a gap value.
    gap_unit: i64,
}

impl<'a> ParamCols<'a> {
    fn new(
        name: &'static str,
        layout: Layout,
        window: &'a ArrayRef,
        mode: &'a ArrayRef,
        gaps: Option<&'a ArrayRef>,
    ) -> Result<ParamCols<'a>> {
        let Some(modes) = mode.as_any().downcast_ref::<StringArray>() else {
            return exec_err!("{name}: mode must be text, got {}", mode.data_type());
        };
        let gaps = match gaps {
            Some(g) => {
                let list = g.as_list::<i32>();
                Some((list, list.values().as_primitive::<Int64Type>()))
            }
            None => None,
        };
        debug_assert_eq!(layout.gaps, gaps.is_some());
        Ok(ParamCols {
            name,
            window_us: window_micros(name, window)?,
            modes,
            gaps,
            gap_unit: MICROS,
        })
    }

    /// The parameters of partial states: window_us, mode, max_gaps_us.
    fn from_state(
        name: &'static str,
        windows: &'a ArrayRef,
        modes: &'a ArrayRef,
        gaps: &'a ArrayRef,
    ) -> Result<ParamCols<'a>> {
        let list = gaps.as_list::<i32>();
        Ok(ParamCols {
            name,
            window_us: windows.as_primitive::<Int64Type>().iter().collect(),
            modes: modes.as_string::<i32>(),
            gaps: Some((list, list.values().as_primitive::<Int64Type>())),
            gap_unit: 1,
        })
    }

    /// Whether rows `a` and `b` have the same parameters.
    fn same(&self, a: usize, b: usize) -> bool {
        let gaps_same = match self.gaps {
            None => true,
            Some((list, values)) => {
                list.is_valid(a) == list.is_valid(b) && {
                    let (ra, rb) = (list_range(list, a), list_range(list, b));
                    ra.len() == rb.len()
                        && ra.zip(rb).all(|(i, j)| {
                            values.is_valid(i) == values.is_valid(j)
                                && values.value(i) == values.value(j)
                        })
                }
            }
        };
        self.window_us[a] == self.window_us[b]
            && self.modes.is_valid(a) == self.modes.is_valid(b)
            && self.modes.value(a) == self.modes.value(b)
            && gaps_same
    }

    fn params(&self, row: usize) -> Result<Params> {
        let name = self.name;
        let Some(window_us) = self.window_us[row] else {
            return exec_err!("{name}: window is NULL");
        };
        if self.modes.is_null(row) {
            return exec_err!("{name}: mode is NULL");
        }
        let mode = Mode::parse(self.modes.value(row))
            .or_else(|m| exec_err!("{name}: argument 2 (mode): {m}"))?;
        let mut params = Params::new(window_us, mode);
        if let Some((list, values)) = self.gaps {
            if list.is_valid(row) {
                let mut gaps = Vec::new();
                for i in list_range(list, row) {
                    gaps.push(match values.is_valid(i) {
                        false => None,
                        true if values.value(i) < 0 => {
                            return exec_err!("{name}: max_gaps must not be negative");
                        }
                        true => Some(values.value(i).saturating_mul(self.gap_unit)),
                    });
                }
                if mode.any_order && gaps.iter().skip(1).any(Option::is_some) {
                    return exec_err!("{name}: max_gaps cannot be used with mode any_order");
                }
                params.max_gap_us = gaps;
            }
        }
        Ok(params)
    }
}

/// The window of every row in µs (NULL stays NULL).
fn window_micros(name: &str, window: &ArrayRef) -> Result<Vec<Option<i64>>> {
    let bad = |what: String| exec_err!("{name}: argument 1 (window): {what}");
    let mut out = Vec::with_capacity(window.len());
    for row in 0..window.len() {
        if window.is_null(row) {
            out.push(None);
            continue;
        }
        let us = match window.data_type() {
            DataType::Int64 => window
                .as_primitive::<Int64Type>()
                .value(row)
                .checked_mul(MICROS),
            DataType::Utf8 => {
                let text = window.as_string::<i32>().value(row);
                match parse_duration(text) {
                    Ok(s) => s.checked_mul(MICROS),
                    Err(m) => return bad(m),
                }
            }
            DataType::Interval(IntervalUnit::MonthDayNano) => {
                let v = window.as_primitive::<IntervalMonthDayNanoType>().value(row);
                if v.months != 0 {
                    return bad("months are not a fixed length; use days".into());
                }
                i64::from(v.days)
                    .checked_mul(86_400 * MICROS)
                    .and_then(|d| d.checked_add(v.nanoseconds / 1000))
            }
            DataType::Interval(IntervalUnit::DayTime) => {
                let v = window.as_primitive::<IntervalDayTimeType>().value(row);
                i64::from(v.days)
                    .checked_mul(86_400 * MICROS)
                    .and_then(|d| d.checked_add(i64::from(v.milliseconds) * 1000))
            }
            DataType::Duration(_) => match ScalarValue::try_from_array(window, row)? {
                ScalarValue::DurationSecond(Some(v)) => v.checked_mul(MICROS),
                ScalarValue::DurationMillisecond(Some(v)) => v.checked_mul(1000),
                ScalarValue::DurationMicrosecond(Some(v)) => Some(v),
                ScalarValue::DurationNanosecond(Some(v)) => Some(v / 1000),
                _ => return bad("unreadable duration".into()),
            },
            other => return bad(format!("unsupported type {other}")),
        };
        match us {
            Some(us) if us >= 0 => out.push(Some(us)),
            Some(_) => return bad("must not be negative".into()),
            None => return bad("too large".into()),
        }
    }
    Ok(out)
}

impl GroupsAccumulator for FunnelGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.update(values, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let n = self.len_for(emit_to);
        let out = self.result(0..n)?;
        self.take(emit_to);
        Ok(out)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let n = self.len_for(emit_to);
        let out = FunnelGroups::state(self, 0..n)?;
        self.take(emit_to);
        Ok(out)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.merge(values, group_indices, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let rows = values.first().map(|v| v.len()).unwrap_or(0);
        let mut single = self.empty_like();
        let groups: Vec<usize> = (0..rows).collect();
        single.update(values, &groups, opt_filter, rows)?;
        single.state(0..rows)
    }

    fn size(&self) -> usize {
        self.bytes()
    }
}

/// The single-group form, used without GROUP BY.
#[derive(Debug)]
pub(crate) struct FunnelAccumulator(FunnelGroups);

impl FunnelAccumulator {
    pub fn new(groups: FunnelGroups) -> Self {
        FunnelAccumulator(groups)
    }
}

impl Accumulator for FunnelAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let rows = values.first().map(|v| v.len()).unwrap_or(0);
        self.0.update(values, &vec![0; rows], None, 1)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.0.resize(1);
        ScalarValue::try_from_array(&self.0.result(0..1)?, 0)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.0.bytes()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.0.resize(1);
        self.0
            .state(0..1)?
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let rows = states.first().map(|v| v.len()).unwrap_or(0);
        self.0.merge(states, &vec![0; rows], 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_bytes_follow_the_vectors_capacity_and_are_all_given_back() {
        let mut groups: Vec<Vec<i64>> = vec![Vec::new(); 3];
        let mut bytes = 0;
        for (g, n) in [(0, 1), (1, 5)] {
            for i in 0..n {
                counted(&mut groups[g], &mut bytes, |v| v.push(i));
            }
        }
        counted(&mut groups[2], &mut bytes, |v| {
            v.extend_from_slice(&[1, 2, 3])
        });
        // what the vectors hold now, counted afresh
        assert_eq!(bytes, heap_bytes_of(&groups));
        // at least the 9 events and an allocation's overhead per vector
        assert!(bytes >= 9 * 8 + 3 * ALLOCATION_OVERHEAD, "{bytes}");
        // a vector grows by doubling: never more than twice what it holds
        // (from Rust's first allocation of 4 slots)
        assert!(
            bytes <= (4 + 2 * 5 + 4) * 8 + 3 * ALLOCATION_OVERHEAD,
            "{bytes}"
        );
        let emitted = EmitTo::First(2).take_needed(&mut groups);
        bytes -= heap_bytes_of(&emitted);
        assert_eq!(bytes, heap_bytes_of(&groups));
    }
}
