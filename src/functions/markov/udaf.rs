//! `markov_attribution`: the SQL aggregate over paths that returns, per
//! channel, the exact first-order Markov removal effect and credits (see
//! [`super`] for the method).
//!
//! ```sql
//! -- one row per journey: its channels in order, whether it converted, its revenue
//! markov_attribution(path LIST<VARCHAR>, converted BOOLEAN, revenue DOUBLE)
//! -- or grouped paths, ChannelAttribution-style
//! markov_attribution(path LIST<VARCHAR>, conversions DOUBLE, nulls DOUBLE, revenue DOUBLE)
//!   -> LIST<STRUCT<channel VARCHAR, removal_effect DOUBLE, share DOUBLE,
//!                  conversions DOUBLE, revenue DOUBLE>>   (one entry per channel, by name)
//! ```
//!
//! Example:
//!
//! ```sql
//! SELECT r['channel'], r['removal_effect'], r['conversions']
//! FROM (SELECT unnest(markov_attribution(path, converted, revenue)) AS r FROM my_paths)
//! ```
//!
//! Rows whose path or conversion flag/counts are NULL are ignored (like
//! other aggregates ignore NULLs); a NULL revenue counts as 0. Empty paths
//! add nothing (their conversions cannot be credited to any channel). A
//! NULL channel inside a path, or a negative or non-finite count, is an
//! error naming the argument.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int8Array, ListArray, StringArray,
    StructArray,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type, Int8Type};
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::{format_state_name, AggregateOrderSensitivity};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};

use super::{Chain, Target};

const NAME: &str = "markov_attribution";

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MarkovAttribution {
    signature: Signature,
}

/// The `markov_attribution` aggregate.
pub fn markov_attribution_udaf() -> AggregateUDF {
    AggregateUDF::from(MarkovAttribution {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

/// Fields of one result entry.
pub fn credit_fields() -> Fields {
    Fields::from(vec![
        Field::new("channel", DataType::Utf8, false),
        Field::new("removal_effect", DataType::Float64, false),
        Field::new("share", DataType::Float64, false),
        Field::new("conversions", DataType::Float64, false),
        Field::new("revenue", DataType::Float64, false),
    ])
}

fn text_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

fn is_number(t: &DataType) -> bool {
    t.is_numeric() || *t == DataType::Null
}

impl AggregateUDFImpl for MarkovAttribution {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if !(args.len() == 3 || args.len() == 4) {
            return plan_err!(
                "{NAME} takes (path, converted, revenue) or (path, conversions, nulls, revenue), got {} arguments",
                args.len()
            );
        }
        let path = match &args[0] {
            DataType::Null => text_list(),
            DataType::List(f)
            | DataType::LargeList(f)
            | DataType::ListView(f)
            | DataType::LargeListView(f)
            | DataType::FixedSizeList(f, _)
                if matches!(
                    f.data_type(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
                ) =>
            {
                text_list()
            }
            other => {
                return plan_err!(
                    "{NAME}: argument 1 (path) must be a list of channel names, got {other}"
                )
            }
        };
        let mut out = vec![path];
        if args.len() == 3 {
            if !matches!(args[1], DataType::Boolean | DataType::Null) {
                return plan_err!(
                    "{NAME}: argument 2 (converted) must be a boolean, got {}",
                    args[1]
                );
            }
            out.push(DataType::Boolean);
        }
        let names = ["conversions", "nulls", "revenue"];
        let first_number = if args.len() == 3 { 2 } else { 1 };
        for (i, t) in args.iter().enumerate().skip(first_number) {
            if !is_number(t) {
                let name = if args.len() == 3 {
                    "revenue"
                } else {
                    names[i - 1]
                };
                return plan_err!(
                    "{NAME}: argument {} ({name}) must be a number, got {t}",
                    i + 1
                );
            }
            out.push(DataType::Float64);
        }
        Ok(out)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new_list_field(
            DataType::Struct(credit_fields()),
            true,
        ))))
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(MarkovAccumulator::default()))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let list = |name: &str, t: DataType| {
            Arc::new(Field::new(
                format_state_name(args.name, name),
                DataType::List(Arc::new(Field::new_list_field(t, true))),
                true,
            ))
        };
        Ok(vec![
            list("from", DataType::Utf8),
            list("to", DataType::Utf8),
            list("to_kind", DataType::Int8),
            list("weight", DataType::Float64),
            Arc::new(Field::new(
                format_state_name(args.name, "conversions"),
                DataType::Float64,
                true,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "revenue"),
                DataType::Float64,
                true,
            )),
        ])
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::Insensitive
    }
}

/// Transition counts so far.
#[derive(Debug, Default)]
struct MarkovAccumulator {
    chain: Chain,
}

const KIND_CHANNEL: i8 = 0;
const KIND_CONVERSION: i8 = 1;
const KIND_NULL: i8 = 2;

fn number(array: &ArrayRef, row: usize, arg: &str) -> Result<Option<f64>> {
    let a = array.as_primitive::<Float64Type>();
    if a.is_null(row) {
        return Ok(None);
    }
    let v = a.value(row);
    if !v.is_finite() {
        return exec_err!("{NAME}: {arg} must be a finite number, got {v}");
    }
    Ok(Some(v))
}

fn count(array: &ArrayRef, row: usize, arg: &str) -> Result<Option<f64>> {
    let v = number(array, row, arg)?;
    if let Some(x) = v {
        if x < 0.0 {
            return exec_err!("{NAME}: {arg} must not be negative, got {x}");
        }
    }
    Ok(v)
}

impl Accumulator for MarkovAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(paths) = values.first() else {
            return exec_err!("{NAME}: missing arguments");
        };
        let paths = paths.as_list::<i32>();
        for row in 0..paths.len() {
            if paths.is_null(row) {
                continue;
            }
            let (conversions, nulls, revenue) = if values.len() == 3 {
                let flag: &BooleanArray = values[1].as_boolean();
                if flag.is_null(row) {
                    continue;
                }
                let c = if flag.value(row) { 1.0 } else { 0.0 };
                (c, 1.0 - c, number(&values[2], row, "revenue")?)
            } else {
                let (Some(c), Some(n)) = (
                    count(&values[1], row, "conversions")?,
                    count(&values[2], row, "nulls")?,
                ) else {
                    continue;
                };
                (c, n, number(&values[3], row, "revenue")?)
            };
            let items = paths.value(row);
            let items = items.as_string::<i32>();
            if items.null_count() > 0 {
                return exec_err!("{NAME}: argument 1 (path) contains a NULL channel");
            }
            let path: Vec<&str> = items.iter().flatten().collect();
            self.chain
                .add_path(&path, conversions, nulls, revenue.unwrap_or(0.0));
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let credits = match self.chain.attribute() {
            Ok(c) => c,
            Err(e) => return exec_err!("{NAME}: {e}"),
        };
        let column = |f: fn(&super::ChannelCredit) -> f64| -> ArrayRef {
            Arc::new(credits.iter().map(f).collect::<Float64Array>())
        };
        let entries = StructArray::try_new(
            credit_fields(),
            vec![
                Arc::new(StringArray::from_iter_values(
                    credits.iter().map(|c| c.channel.as_str()),
                )),
                column(|c| c.removal_effect),
                column(|c| c.share),
                column(|c| c.conversions),
                column(|c| c.revenue),
            ],
            None,
        )?;
        Ok(SingleRowListArrayBuilder::new(Arc::new(entries)).build_list_scalar())
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.chain.approx_bytes()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let edges = self.chain.edges();
        let from: StringArray = edges.iter().map(|e| e.from.as_deref()).collect();
        let to: StringArray = edges
            .iter()
            .map(|e| match &e.to {
                Target::Channel(c) => Some(c.as_str()),
                _ => None,
            })
            .collect();
        let kind: Int8Array = edges
            .iter()
            .map(|e| {
                Some(match e.to {
                    Target::Channel(_) => KIND_CHANNEL,
                    Target::Conversion => KIND_CONVERSION,
                    Target::Null => KIND_NULL,
                })
            })
            .collect();
        let weight: Float64Array = edges.iter().map(|e| Some(e.weight)).collect();
        let list = |a: ArrayRef| SingleRowListArrayBuilder::new(a).build_list_scalar();
        Ok(vec![
            list(Arc::new(from)),
            list(Arc::new(to)),
            list(Arc::new(kind)),
            list(Arc::new(weight)),
            ScalarValue::Float64(Some(self.chain.total_conversions())),
            ScalarValue::Float64(Some(self.chain.total_revenue())),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [from, to, kind, weight, conversions, revenue] = states else {
            return exec_err!("{NAME}: unexpected state with {} fields", states.len());
        };
        let (from, to, kind, weight): (&ListArray, &ListArray, &ListArray, &ListArray) = (
            from.as_list(),
            to.as_list(),
            kind.as_list(),
            weight.as_list(),
        );
        let conversions = conversions.as_primitive::<Float64Type>();
        let revenue = revenue.as_primitive::<Float64Type>();
        for row in 0..from.len() {
            if from.is_null(row) {
                continue;
            }
            let f = from.value(row);
            let t = to.value(row);
            let k = kind.value(row);
            let w = weight.value(row);
            let (f, t) = (f.as_string::<i32>(), t.as_string::<i32>());
            let (k, w) = (
                k.as_primitive::<Int8Type>(),
                w.as_primitive::<Float64Type>(),
            );
            for i in 0..f.len() {
                let source = (!f.is_null(i)).then(|| f.value(i));
                let target = match k.value(i) {
                    KIND_CONVERSION => Target::Conversion,
                    KIND_NULL => Target::Null,
                    _ => Target::Channel(t.value(i).to_string()),
                };
                self.chain.add_edge(source, &target, w.value(i));
            }
            self.chain.add_totals(
                conversions.value(row),
                if revenue.is_null(row) {
                    0.0
                } else {
                    revenue.value(row)
                },
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::ListBuilder;
    use datafusion::arrow::array::StringBuilder;

    fn paths(rows: &[&[&str]]) -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in rows {
            for c in *r {
                b.values().append_value(c);
            }
            b.append(true);
        }
        Arc::new(b.finish())
    }

    fn update(acc: &mut MarkovAccumulator, rows: &[&[&str]], converted: &[bool], revenue: &[f64]) {
        let values: Vec<ArrayRef> = vec![
            paths(rows),
            Arc::new(BooleanArray::from(converted.to_vec())),
            Arc::new(Float64Array::from(revenue.to_vec())),
        ];
        acc.update_batch(&values).unwrap();
    }

    /// Two partial accumulators, serialized with `state` and merged, give
    /// the same result as one accumulator over all rows (Bryl's example:
    /// credits 0.2 / 0.4 / 0.4, revenue 50 split 10 / 20 / 20).
    #[test]
    fn partial_states_merge_to_the_whole() {
        let mut whole = MarkovAccumulator::default();
        update(
            &mut whole,
            &[&["C1", "C2", "C3"], &["C1"], &["C2", "C3"]],
            &[true, false, false],
            &[50.0, 0.0, 0.0],
        );
        let mut left = MarkovAccumulator::default();
        update(&mut left, &[&["C1", "C2", "C3"]], &[true], &[50.0]);
        let mut right = MarkovAccumulator::default();
        update(
            &mut right,
            &[&["C1"], &["C2", "C3"]],
            &[false, false],
            &[0.0, 0.0],
        );
        let mut merged = MarkovAccumulator::default();
        for part in [&mut left, &mut right] {
            let states: Vec<ArrayRef> = part
                .state()
                .unwrap()
                .iter()
                .map(|s| s.to_array().unwrap())
                .collect();
            merged.merge_batch(&states).unwrap();
        }
        let expected = whole.evaluate().unwrap();
        assert_eq!(merged.evaluate().unwrap(), expected);
        let ScalarValue::List(list) = expected else {
            panic!("not a list: {expected:?}");
        };
        let entries = list.value(0);
        let entries = entries.as_struct();
        let conversions = entries.column(3).as_primitive::<Float64Type>();
        let revenue = entries.column(4).as_primitive::<Float64Type>();
        for (i, (c, r)) in [(0.2, 10.0), (0.4, 20.0), (0.4, 20.0)].iter().enumerate() {
            assert!((conversions.value(i) - c).abs() < 1e-12);
            assert!((revenue.value(i) - r).abs() < 1e-9);
        }
    }

    #[test]
    fn bad_arguments_are_named() {
        let udaf = MarkovAttribution {
            signature: Signature::user_defined(Volatility::Immutable),
        };
        let text = DataType::Utf8;
        let list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
        let err = udaf
            .coerce_types(&[list.clone(), DataType::Boolean])
            .unwrap_err()
            .to_string();
        assert!(err.contains("got 2 arguments"), "{err}");
        let err = udaf
            .coerce_types(&[list.clone(), DataType::Float64, text, DataType::Float64])
            .unwrap_err()
            .to_string();
        assert!(err.contains("argument 3 (nulls)"), "{err}");
        assert_eq!(
            udaf.coerce_types(&[list, DataType::Int64, DataType::Int32, DataType::Null])
                .unwrap()[1..],
            [DataType::Float64, DataType::Float64, DataType::Float64]
        );
    }
}
