//! The fitting aggregates `bgnbd_fit(frequency, recency, t [, count])` and
//! `gamma_gamma_fit(frequency, monetary_value [, count])`. Each collects the
//! distinct customer summaries with their counts (so a fit over millions of
//! customers works on the few hundred thousand distinct combinations), then
//! maximises the likelihood (`fit.rs`) and returns one struct.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, ListArray, StructArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type};
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, TypeSignature, Volatility,
};

use super::fit::{maximize, Fit, Likelihood};
use super::{bgnbd, gamma_gamma};

/// Which model an aggregate fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Model {
    BgNbd,
    GammaGamma,
}

impl Model {
    fn name(self) -> &'static str {
        match self {
            Model::BgNbd => "bgnbd_fit",
            Model::GammaGamma => "gamma_gamma_fit",
        }
    }

    /// Names of the summary arguments (before the optional count).
    fn inputs(self) -> &'static [&'static str] {
        match self {
            Model::BgNbd => &["frequency", "recency", "t"],
            Model::GammaGamma => &["frequency", "monetary_value"],
        }
    }

    fn params(self) -> &'static [&'static str] {
        match self {
            Model::BgNbd => bgnbd::Data::NAMES,
            Model::GammaGamma => gamma_gamma::Data::NAMES,
        }
    }

    /// The struct returned: parameters, their standard errors, fit facts.
    fn return_fields(self) -> Fields {
        let mut f: Vec<Field> = Vec::new();
        for p in self.params() {
            f.push(Field::new(*p, DataType::Float64, true));
        }
        for p in self.params() {
            f.push(Field::new(format!("{p}_se"), DataType::Float64, true));
        }
        f.push(Field::new("log_likelihood", DataType::Float64, true));
        f.push(Field::new("customers", DataType::Int64, false));
        f.push(Field::new("converged", DataType::Boolean, false));
        f.push(Field::new("iterations", DataType::Int64, false));
        Fields::from(f)
    }
}

/// A fitting aggregate.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FitUdaf {
    model: Model,
    signature: Signature,
}

fn fit_udaf(model: Model) -> AggregateUDF {
    let n = model.inputs().len();
    AggregateUDF::from(FitUdaf {
        model,
        signature: Signature::one_of(
            vec![
                TypeSignature::Uniform(n, vec![DataType::Float64]),
                TypeSignature::Uniform(n + 1, vec![DataType::Float64]),
            ],
            Volatility::Immutable,
        ),
    })
}

/// `bgnbd_fit(frequency, recency, t [, count])`.
pub fn bgnbd_fit_udaf() -> AggregateUDF {
    fit_udaf(Model::BgNbd)
}

/// `gamma_gamma_fit(frequency, monetary_value [, count])`.
pub fn gamma_gamma_fit_udaf() -> AggregateUDF {
    fit_udaf(Model::GammaGamma)
}

impl AggregateUDFImpl for FitUdaf {
    fn name(&self) -> &str {
        self.model.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(self.model.return_fields()))
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(FitAccumulator {
            model: self.model,
            groups: HashMap::new(),
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let list = DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)));
        let mut names: Vec<&str> = self.model.inputs().to_vec();
        names.push("count");
        Ok(names
            .iter()
            .map(|n| {
                Arc::new(Field::new(
                    format!("{}[{n}]", args.name),
                    list.clone(),
                    true,
                ))
            })
            .collect())
    }
}

/// Distinct summaries (f64 bits, unused slots 0) → count.
#[derive(Debug)]
struct FitAccumulator {
    model: Model,
    groups: HashMap<[u64; 3], f64>,
}

impl FitAccumulator {
    /// Validate one row; `Ok(false)` when the model ignores it.
    fn check(&self, v: &[f64], count: f64) -> Result<bool, String> {
        if !(count >= 0.0 && count.is_finite() && count == count.floor()) {
            return Err(format!(
                "argument `count` must be a non-negative integer, got {count}"
            ));
        }
        match self.model {
            Model::BgNbd => bgnbd::Customer {
                x: v[0],
                tx: v[1],
                t: v[2],
            }
            .check()
            .map(|_| true),
            Model::GammaGamma => {
                let (x, m) = (v[0], v[1]);
                if !(x >= 0.0 && x.is_finite() && x == x.floor()) {
                    return Err(format!(
                        "argument `frequency` must be a non-negative integer, got {x}"
                    ));
                }
                if m.is_nan() {
                    return Err("argument `monetary_value` is NaN".into());
                }
                Ok(x > 0.0 && m > 0.0 && m.is_finite())
            }
        }
    }

    fn add(&mut self, v: &[f64], count: f64) -> Result<()> {
        match self.check(v, count) {
            Err(m) => exec_err!("{}: {m}", self.model.name()),
            Ok(false) => Ok(()),
            Ok(true) => {
                if count > 0.0 {
                    // + 0.0 turns -0.0 into 0.0 so both land in one group
                    let mut key = [0u64; 3];
                    for (k, x) in key.iter_mut().zip(v) {
                        *k = (x + 0.0).to_bits();
                    }
                    *self.groups.entry(key).or_default() += count;
                }
                Ok(())
            }
        }
    }

    fn fit(&self) -> (Option<Fit>, f64) {
        // sorted, so the sums inside the fit (and so its result, to the last
        // bit) do not depend on hash or partition order
        let mut sorted: Vec<(&[u64; 3], &f64)> = self.groups.iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let rows = sorted
            .into_iter()
            .map(|(k, n)| (k.iter().map(|b| f64::from_bits(*b)).collect::<Vec<_>>(), *n));
        match self.model {
            Model::BgNbd => {
                let data = bgnbd::Data::new(
                    rows.map(|(v, n)| {
                        (
                            bgnbd::Customer {
                                x: v[0],
                                tx: v[1],
                                t: v[2],
                            },
                            n,
                        )
                    })
                    .collect(),
                );
                let usable = data.repeaters() > 0.0 && data.groups.iter().any(|g| g.0.t > 0.0);
                (usable.then(|| maximize(&data)).flatten(), data.customers())
            }
            Model::GammaGamma => {
                let data = gamma_gamma::Data::new(rows.map(|(v, n)| (v[0], v[1], n)).collect());
                let usable = data.customers() >= 2.0;
                (usable.then(|| maximize(&data)).flatten(), data.customers())
            }
        }
    }
}

impl Accumulator for FitAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let k = self.model.inputs().len();
        let cols: Vec<&Float64Array> = values
            .iter()
            .map(|a| a.as_primitive::<Float64Type>())
            .collect();
        let mut row = vec![0.0; k];
        for i in 0..values[0].len() {
            if cols.iter().any(|c| c.is_null(i)) {
                continue;
            }
            for (j, c) in cols.iter().take(k).enumerate() {
                row[j] = c.value(i);
            }
            let count = cols.get(k).map_or(1.0, |c| c.value(i));
            self.add(&row, count)?;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let k = self.model.inputs().len();
        let mut columns: Vec<Vec<f64>> = vec![Vec::with_capacity(self.groups.len()); k + 1];
        for (key, n) in &self.groups {
            for (j, b) in key.iter().take(k).enumerate() {
                columns[j].push(f64::from_bits(*b));
            }
            columns[k].push(*n);
        }
        Ok(columns
            .into_iter()
            .map(|c| {
                let len = c.len();
                let list = ListArray::new(
                    Arc::new(Field::new_list_field(DataType::Float64, true)),
                    OffsetBuffer::from_lengths([len]),
                    Arc::new(Float64Array::from(c)),
                    None,
                );
                ScalarValue::List(Arc::new(list))
            })
            .collect())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let lists: Vec<&ListArray> = states.iter().map(|a| a.as_list::<i32>()).collect();
        for i in 0..lists[0].len() {
            if lists[0].is_null(i) {
                continue;
            }
            // the lists are the inputs then the counts, as update_batch expects
            let values: Vec<ArrayRef> = lists.iter().map(|l| l.value(i)).collect();
            self.update_batch(&values)?;
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let (fit, customers) = self.fit();
        let k = self.model.params().len();
        let one = |v: Option<f64>| Arc::new(Float64Array::from(vec![v])) as ArrayRef;
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for i in 0..k {
            arrays.push(one(fit.as_ref().map(|f| f.params[i])));
        }
        for i in 0..k {
            let se = fit
                .as_ref()
                .and_then(|f| f.std_errors.as_ref())
                .map(|s| s[i]);
            arrays.push(one(se));
        }
        arrays.push(one(fit.as_ref().map(|f| f.log_likelihood)));
        arrays.push(Arc::new(Int64Array::from(vec![customers as i64])));
        arrays.push(Arc::new(BooleanArray::from(vec![fit
            .as_ref()
            .is_some_and(|f| f.converged)])));
        arrays.push(Arc::new(Int64Array::from(vec![fit
            .as_ref()
            .map_or(0, |f| f.iterations as i64)])));
        let s = StructArray::try_new(self.model.return_fields(), arrays, None)?;
        Ok(ScalarValue::Struct(Arc::new(s)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self.groups.capacity() * (std::mem::size_of::<[u64; 3]>() + 16)
    }
}
