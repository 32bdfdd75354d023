//! `first_by`: the value of a group's first row in a two-part order, fast
//! with millions of groups.
//!
//! ```sql
//! first_by(value VARCHAR, key BIGINT | TIMESTAMP, tiebreak VARCHAR) -> VARCHAR
//! ```
//!
//! `first_by(channel, session_start, session_id)` is `first_value(channel
//! ORDER BY session_start, session_id)`: the value of the row with the
//! smallest `key`, ties broken by the smallest `tiebreak` (DuckDB's `arg_min`
//! and Spark's `min_by` with a two-part key). A NULL key or tiebreak sorts
//! last, as in `ORDER BY ... ASC` (NULLS LAST); a NULL value is returned as
//! NULL, as `first_value` does; rows equal in both parts are ordered by value
//! (NULL last), so the result never depends on the input order. A group with
//! no row (all filtered out by `FILTER (WHERE ...)`) gives NULL.
//!
//! Why: DataFusion 55's `first_value(... ORDER BY a, b)` compares every row
//! of a batch through its row format; on the 2.5 million sessions of a
//! 10M-event run two of them took 2.6 s, against 0.2 s for the same
//! `GROUP BY` with `MIN`/`MAX`. This keeps one winner per group and copies a
//! string only when the winner changes.

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Int64Array, Int64Builder, StringArray,
    StringBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::{format_state_name, AggregateOrderSensitivity};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};

use super::ordered_agg::is_text;

/// The `first_by(value, key, tiebreak)` aggregate.
pub fn first_by_udaf() -> AggregateUDF {
    AggregateUDF::from(FirstBy {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FirstBy {
    signature: Signature,
}

impl AggregateUDFImpl for FirstBy {
    fn name(&self) -> &str {
        "first_by"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if args.len() != 3 {
            return plan_err!(
                "first_by takes (value, key, tiebreak), got {} arguments",
                args.len()
            );
        }
        if !is_text(&args[0]) {
            return plan_err!(
                "first_by: argument 1 (value) must be a string, got {}",
                args[0]
            );
        }
        let key = &args[1];
        if !(key.is_integer() || matches!(key, DataType::Timestamp(_, _) | DataType::Null)) {
            return plan_err!(
                "first_by: argument 2 (key) must be an integer or a timestamp, got {key}"
            );
        }
        if !is_text(&args[2]) {
            return plan_err!(
                "first_by: argument 3 (tiebreak) must be a string, got {}",
                args[2]
            );
        }
        // a timestamp keeps its own type (cast to its integer count in update)
        let key = if key.is_integer() || *key == DataType::Null {
            DataType::Int64
        } else {
            key.clone()
        };
        Ok(vec![DataType::Utf8, key, DataType::Utf8])
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let field = |name: &str, t: DataType| {
            Arc::new(Field::new(format_state_name(args.name, name), t, true))
        };
        Ok(vec![
            field("seen", DataType::Boolean),
            field("key", DataType::Int64),
            field("tiebreak", DataType::Utf8),
            field("value", DataType::Utf8),
        ])
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Single(Winners(vec![None], 0))))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Winners(Vec::new(), 0)))
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::Insensitive
    }
}

/// A group's first row so far: key, tiebreak, value.
#[derive(Clone, Debug)]
struct Row {
    key: Option<i64>,
    tiebreak: Option<String>,
    value: Option<String>,
}

/// `a` before `b` in the order (key, tiebreak, value), each NULLS LAST.
fn nulls_last<T: Ord + ?Sized>(a: Option<&T>, b: Option<&T>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn before(key: Option<i64>, tiebreak: Option<&str>, value: Option<&str>, row: &Row) -> bool {
    nulls_last(key.as_ref(), row.key.as_ref())
        .then_with(|| nulls_last(tiebreak, row.tiebreak.as_deref()))
        .then_with(|| nulls_last(value, row.value.as_deref()))
        == Ordering::Less
}

/// The winner of every group (`None`: no row yet), and the bytes of the
/// strings they hold (kept up to date: `size` is called after every batch).
struct Winners(Vec<Option<Row>>, usize);

fn heap_bytes(row: &Row) -> usize {
    row.tiebreak.as_ref().map_or(0, String::capacity)
        + row.value.as_ref().map_or(0, String::capacity)
}

/// Columns of the inputs (or of a partial state) as plain arrays.
struct Columns {
    keys: ArrayRef,
    tiebreaks: ArrayRef,
    values: ArrayRef,
}

impl Columns {
    fn new(values: &ArrayRef, keys: &ArrayRef, tiebreaks: &ArrayRef) -> Result<Self> {
        Ok(Columns {
            keys: cast(keys, &DataType::Int64)?,
            tiebreaks: cast(tiebreaks, &DataType::Utf8)?,
            values: cast(values, &DataType::Utf8)?,
        })
    }
}

impl Winners {
    fn offer(
        &mut self,
        columns: &Columns,
        seen: Option<&BooleanArray>,
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) {
        if self.0.len() < total_num_groups {
            self.0.resize(total_num_groups, None);
        }
        let keys: &Int64Array = columns.keys.as_primitive::<Int64Type>();
        let tiebreaks: &StringArray = columns.tiebreaks.as_string::<i32>();
        let values: &StringArray = columns.values.as_string::<i32>();
        for (i, &g) in group_indices.iter().enumerate() {
            if filter.is_some_and(|f| !f.is_valid(i) || !f.value(i)) {
                continue;
            }
            if seen.is_some_and(|s| !s.is_valid(i) || !s.value(i)) {
                continue; // a partial state of a group with no row
            }
            let key = keys.is_valid(i).then(|| keys.value(i));
            let tiebreak = tiebreaks.is_valid(i).then(|| tiebreaks.value(i));
            let value = values.is_valid(i).then(|| values.value(i));
            let replace = match &self.0[g] {
                None => true,
                Some(row) => before(key, tiebreak, value, row),
            };
            if replace {
                let row = Row {
                    key,
                    tiebreak: tiebreak.map(str::to_string),
                    value: value.map(str::to_string),
                };
                self.1 += heap_bytes(&row);
                if let Some(old) = self.0[g].replace(row) {
                    self.1 -= heap_bytes(&old);
                }
            }
        }
    }

    fn evaluate(rows: &[Option<Row>]) -> ArrayRef {
        let mut out = StringBuilder::new();
        for row in rows {
            out.append_option(row.as_ref().and_then(|r| r.value.as_deref()));
        }
        Arc::new(out.finish())
    }

    fn state(rows: &[Option<Row>]) -> Vec<ArrayRef> {
        let mut seen = BooleanBuilder::new();
        let mut keys = Int64Builder::new();
        let mut tiebreaks = StringBuilder::new();
        let mut values = StringBuilder::new();
        for row in rows {
            seen.append_value(row.is_some());
            keys.append_option(row.as_ref().and_then(|r| r.key));
            tiebreaks.append_option(row.as_ref().and_then(|r| r.tiebreak.as_deref()));
            values.append_option(row.as_ref().and_then(|r| r.value.as_deref()));
        }
        vec![
            Arc::new(seen.finish()),
            Arc::new(keys.finish()),
            Arc::new(tiebreaks.finish()),
            Arc::new(values.finish()),
        ]
    }

    fn merge(
        &mut self,
        states: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        let columns = Columns::new(&states[3], &states[1], &states[2])?;
        let seen = states[0].as_boolean();
        self.offer(&columns, Some(seen), group_indices, None, total_num_groups);
        Ok(())
    }

    fn memory(&self) -> usize {
        self.0.capacity() * std::mem::size_of::<Option<Row>>() + self.1
    }

    /// Take the groups `emit_to` asks for, and their bytes from the count.
    fn take(&mut self, emit_to: EmitTo) -> Vec<Option<Row>> {
        let taken = emit_to.take_needed(&mut self.0);
        self.1 -= taken.iter().flatten().map(heap_bytes).sum::<usize>();
        taken
    }
}

impl GroupsAccumulator for Winners {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let columns = Columns::new(&values[0], &values[1], &values[2])?;
        self.offer(&columns, None, group_indices, opt_filter, total_num_groups);
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(Winners::evaluate(&self.take(emit_to)))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(Winners::state(&self.take(emit_to)))
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
        // each row its own group
        let n = values[0].len();
        let mut one = Winners(Vec::new(), 0);
        let indices: Vec<usize> = (0..n).collect();
        let columns = Columns::new(&values[0], &values[1], &values[2])?;
        one.offer(&columns, None, &indices, opt_filter, n);
        Ok(Winners::state(&one.0))
    }

    fn size(&self) -> usize {
        self.memory()
    }
}

/// The accumulator without GROUP BY: one group.
struct Single(Winners);

impl std::fmt::Debug for Single {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirstBy").finish_non_exhaustive()
    }
}

impl Accumulator for Single {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let zeros = vec![0; values[0].len()];
        let columns = Columns::new(&values[0], &values[1], &values[2])?;
        self.0.offer(&columns, None, &zeros, None, 1);
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        ScalarValue::try_from_array(&Winners::evaluate(&self.0 .0), 0)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.0.memory()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Winners::state(&self.0 .0)
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let zeros = vec![0; states[0].len()];
        self.0.merge(states, &zeros, 1)
    }
}
