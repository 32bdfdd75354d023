//! `window_funnel` and `window_funnel_times`: ordered funnels in a sliding
//! time window, as aggregate functions callable from SQL.
//!
//! ```sql
//! window_funnel(window, mode, event_time, cond1 [, cond2, ..., cond32] [, max_gaps])
//! window_funnel(window, mode, event_time, step_mask [, max_gaps])
//! window_funnel_times(...same arguments...)
//! ```
//!
//! `window_funnel` returns the furthest step reached (INT, 0 when step 1
//! never happened); `window_funnel_times` returns the timestamps of the steps
//! of the chain that first reached that step (a list of as many timestamps
//! as the level), for time-to-convert.
//!
//! - `window`: how long after step 1 a later step may happen (inclusive):
//!   integer seconds, an `INTERVAL` (no months), or text such as `'7d'`.
//! - `mode`: `'ordered'` (ClickHouse's default), `'strict_order'`,
//!   `'strict_deduplication'` (both exactly as ClickHouse's
//!   `windowFunnel(window, mode)`), `'strict_increase'` (ClickHouse's too;
//!   several ClickHouse options may be joined with commas) or microconv's
//!   `'any_order'` (steps 1..k in any order within one window).
//! - `event_time`: a timestamp (or date).
//! - `cond1..condN`: booleans, step k's condition (NULL counts as false);
//!   or instead one integer `step_mask` whose bit k-1 says the row is step k
//!   (for funnels whose steps are data, as in the bundled queries).
//! - `max_gaps`: optional list of per-step limits in seconds: element k (1-
//!   based) is the longest time from step k-1 to step k (NULL = no limit;
//!   element 1 is ignored).
//!
//! `window`, `mode` and `max_gaps` may be columns (e.g. joined from
//! `funnel_definitions`), but must be the same for every row of a group.
//! Rows with a NULL `event_time` are ignored.
//!
//! Example (the ClickHouse documentation's funnel, one hour):
//! ```sql
//! SELECT user_id,
//!        window_funnel(3600, 'ordered', event_time,
//!                      event_name = 'product_view', event_name = 'add_to_cart',
//!                      event_name = 'purchase') AS level
//! FROM events GROUP BY user_id
//! ```

pub mod algo;
mod state;
pub mod wilson;

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use datafusion::common::{plan_err, Result};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, GroupsAccumulator, Signature, Volatility,
};

use self::algo::MAX_STEPS;
use self::state::{FunnelAccumulator, FunnelGroups};
use crate::schema::{timestamp_type, UTC};

/// What the function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Output {
    /// The furthest step (Int32).
    Level,
    /// The timestamps of the steps reached.
    Times,
}

/// How the step arguments are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Conds {
    /// `n` boolean conditions.
    Booleans(usize),
    /// One integer bitmask.
    Mask,
}

/// The shape of a call's arguments: window, mode, event_time, steps, gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Layout {
    pub conds: Conds,
    pub gaps: bool,
}

impl Layout {
    /// Number of steps used to stop early ([`MAX_STEPS`] for a mask).
    pub fn n_steps(&self) -> usize {
        match self.conds {
            Conds::Booleans(n) => n,
            Conds::Mask => MAX_STEPS,
        }
    }

    /// Index of the `max_gaps` argument, if any.
    pub fn gaps_index(&self) -> Option<usize> {
        self.gaps.then(|| {
            3 + match self.conds {
                Conds::Booleans(n) => n,
                Conds::Mask => 1,
            }
        })
    }
}

fn is_integer(t: &DataType) -> bool {
    t.is_integer()
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_list(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
    )
}

/// Work out the layout from the argument types, with errors naming the
/// function and the argument.
pub(crate) fn layout(name: &str, types: &[DataType]) -> Result<Layout> {
    if types.len() < 4 {
        return plan_err!(
            "{name}(window, mode, event_time, cond1, ..., condN) needs a window, a mode, a \
             timestamp and at least one condition; got {} arguments",
            types.len()
        );
    }
    let gaps = types.len() > 4 && is_list(&types[types.len() - 1]);
    let steps = &types[3..types.len() - usize::from(gaps)];
    if steps.len() == 1 && is_integer(&steps[0]) {
        return Ok(Layout {
            conds: Conds::Mask,
            gaps,
        });
    }
    if steps.len() > MAX_STEPS {
        return plan_err!(
            "{name}: at most {MAX_STEPS} step conditions are supported, got {}",
            steps.len()
        );
    }
    for (i, t) in steps.iter().enumerate() {
        if !matches!(t, DataType::Boolean | DataType::Null) {
            return plan_err!(
                "{name}: argument {} (cond{}) must be a boolean condition (or a single integer \
                 step mask), got {t}",
                i + 4,
                i + 1
            );
        }
    }
    Ok(Layout {
        conds: Conds::Booleans(steps.len()),
        gaps,
    })
}

/// The argument types the function accepts, coerced to the ones it reads.
pub(crate) fn coerce(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    let layout = layout(name, types)?;
    let window = match &types[0] {
        t if is_integer(t) => DataType::Int64,
        t @ (DataType::Interval(_) | DataType::Duration(_)) => t.clone(),
        t if is_text(t) => DataType::Utf8,
        t => {
            return plan_err!(
                "{name}: argument 1 (window) must be integer seconds, an INTERVAL or text like \
                 '7d', got {t}"
            )
        }
    };
    let mode = match &types[1] {
        t if is_text(t) => DataType::Utf8,
        t => return plan_err!("{name}: argument 2 (mode) must be text such as 'ordered', got {t}"),
    };
    let time = match &types[2] {
        DataType::Timestamp(_, tz) => {
            DataType::Timestamp(TimeUnit::Microsecond, tz.clone().or(Some(UTC.into())))
        }
        DataType::Date32 | DataType::Date64 => timestamp_type(),
        t => return plan_err!("{name}: argument 3 (event_time) must be a timestamp, got {t}"),
    };
    let mut out = vec![window, mode, time];
    match layout.conds {
        Conds::Mask => out.push(DataType::Int64),
        Conds::Booleans(n) => out.extend(std::iter::repeat_n(DataType::Boolean, n)),
    }
    if layout.gaps {
        let t = &types[types.len() - 1];
        let item = match t {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                f.data_type()
            }
            _ => unreachable!("layout checked it is a list"),
        };
        if !(is_integer(item) || item.is_null()) {
            return plan_err!(
                "{name}: the last argument (max_gaps) must be a list of integer seconds, got {t}"
            );
        }
        out.push(gaps_type());
    }
    Ok(out)
}

/// `List<Int64>`, the type of `max_gaps` (and of the state's lists).
pub(crate) fn gaps_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)))
}

/// The return type of `window_funnel_times`.
pub(crate) fn times_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(timestamp_type(), true)))
}

/// One of the two funnel aggregates.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WindowFunnel {
    name: &'static str,
    output: Output,
    signature: Signature,
}

impl WindowFunnel {
    fn new(name: &'static str, output: Output) -> Self {
        WindowFunnel {
            name,
            output,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    fn groups(&self, args: &AccumulatorArgs) -> Result<FunnelGroups> {
        let types: Vec<DataType> = args
            .expr_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let layout = layout(self.name, &types)?;
        FunnelGroups::new(self.name, self.output, layout, args.exprs)
    }
}

/// `window_funnel(window, mode, event_time, cond1, ..., condN)`: the
/// furthest step reached.
pub fn window_funnel_udaf() -> AggregateUDF {
    AggregateUDF::from(WindowFunnel::new("window_funnel", Output::Level))
}

/// `window_funnel_times(window, mode, event_time, cond1, ..., condN)`: the
/// timestamps of the steps reached.
pub fn window_funnel_times_udaf() -> AggregateUDF {
    AggregateUDF::from(WindowFunnel::new("window_funnel_times", Output::Times))
}

impl AggregateUDFImpl for WindowFunnel {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce(self.name, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.output {
            Output::Level => DataType::Int32,
            Output::Times => times_type(),
        })
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let field = |suffix: &str, t: DataType| {
            Arc::new(Field::new(format!("{}[{suffix}]", args.name), t, true))
        };
        Ok(vec![
            field("events", gaps_type()),
            field("window_us", DataType::Int64),
            field("mode", DataType::Utf8),
            field("max_gaps_us", gaps_type()),
        ])
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(FunnelAccumulator::new(self.groups(&acc_args)?)))
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        !args.is_distinct
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(self.groups(&args)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let b = DataType::Boolean;
        let base = [DataType::Int64, DataType::Utf8, timestamp_type()];
        let with = |rest: &[DataType]| [&base[..], rest].concat();
        let l = layout("f", &with(&[b.clone(), b.clone()])).unwrap();
        assert_eq!(l.conds, Conds::Booleans(2));
        assert_eq!(l.gaps_index(), None);
        let l = layout("f", &with(&[DataType::Int32, gaps_type()])).unwrap();
        assert_eq!((l.conds, l.gaps_index()), (Conds::Mask, Some(4)));
        let l = layout("f", &with(&[b.clone(), gaps_type()])).unwrap();
        assert_eq!((l.conds, l.gaps_index()), (Conds::Booleans(1), Some(4)));
        assert!(layout("f", &base).is_err());
        let err = layout("f", &with(&[DataType::Utf8]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cond1"), "{err}");
        let many = vec![b; 33];
        assert!(layout("f", &with(&many))
            .unwrap_err()
            .to_string()
            .contains("32"));
    }
}
