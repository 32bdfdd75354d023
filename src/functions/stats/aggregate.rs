//! Aggregate statistics functions, one input row per stratum or variant:
//!
//! - `cmh_risk_ratio(x1, n1, x0, n0 [, confidence])` and
//!   `cmh_odds_ratio(...)`: Mantel–Haenszel pooled ratios over the strata
//!   rows of a group, each row one stratum's 2×2 table;
//! - `srm_p_value(users [, expected_weight])`: sample-ratio-mismatch
//!   chi-square test over the variant rows of a group.
//!
//! Their states are plain sums, so partial aggregates merge exactly. Rows
//! with a NULL count are skipped; `confidence` is read from the first row
//! (pass a constant).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};

use super::math::{self, Interval, MhSums, SrmSums};
use super::{coerce_numeric, interval_fields};

const TWO_BY_TWO: &[&str] = &["x1", "n1", "x0", "n0"];
const DEFAULT_CONFIDENCE: f64 = 0.95;

fn f64s(values: &[ArrayRef]) -> Vec<&Float64Array> {
    values
        .iter()
        .map(|a| a.as_primitive::<Float64Type>())
        .collect()
}

fn exec(name: &str, message: String) -> DataFusionError {
    DataFusionError::Execution(format!("{name}: {message}"))
}

fn state_fields(name: &str, parts: &[&str]) -> Vec<FieldRef> {
    parts
        .iter()
        .map(|p| {
            Arc::new(Field::new(
                format_state_name(name, p),
                DataType::Float64,
                true,
            ))
        })
        .collect()
}

fn interval_scalar(i: Interval) -> ScalarValue {
    let col = |v: Option<f64>| {
        Arc::new(Float64Array::from(vec![v.filter(|x| x.is_finite())])) as ArrayRef
    };
    ScalarValue::Struct(Arc::new(StructArray::new(
        interval_fields(),
        vec![col(i.estimate), col(i.lower), col(i.upper)],
        None,
    )))
}

/// Which pooled ratio a Mantel–Haenszel aggregate returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Pooled {
    RiskRatio,
    OddsRatio,
}

/// `cmh_risk_ratio` / `cmh_odds_ratio`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Cmh {
    name: &'static str,
    pooled: Pooled,
    signature: Signature,
}

/// `cmh_risk_ratio(x1, n1, x0, n0 [, confidence])`: Mantel–Haenszel pooled
/// risk ratio over strata rows, Greenland–Robins log-scale interval.
pub fn cmh_risk_ratio_udaf() -> AggregateUDF {
    AggregateUDF::from(Cmh {
        name: "cmh_risk_ratio",
        pooled: Pooled::RiskRatio,
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

/// `cmh_odds_ratio(x1, n1, x0, n0 [, confidence])`: Mantel–Haenszel pooled
/// odds ratio over strata rows, Robins–Breslow–Greenland interval.
pub fn cmh_odds_ratio_udaf() -> AggregateUDF {
    AggregateUDF::from(Cmh {
        name: "cmh_odds_ratio",
        pooled: Pooled::OddsRatio,
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

const MH_STATE: [&str; 9] = [
    "rr_num",
    "rr_den",
    "rr_var",
    "r",
    "s",
    "pr",
    "ps_qr",
    "qs",
    "confidence",
];

impl AggregateUDFImpl for Cmh {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_numeric(self.name, TWO_BY_TWO, &["confidence"], arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(interval_fields()))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(args.name, &MH_STATE))
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(CmhAccumulator {
            name: self.name,
            pooled: self.pooled,
            sums: MhSums::default(),
            confidence: None,
        }))
    }
}

#[derive(Debug)]
struct CmhAccumulator {
    name: &'static str,
    pooled: Pooled,
    sums: MhSums,
    confidence: Option<f64>,
}

impl Accumulator for CmhAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let cols = f64s(values);
        for r in 0..cols.first().map_or(0, |c| c.len()) {
            if cols[..4].iter().any(|c| c.is_null(r)) {
                continue;
            }
            let [x1, n1, x0, n0] = [0, 1, 2, 3].map(|i| cols[i].value(r));
            math::check_two_by_two(x1, n1, x0, n0, false).map_err(|m| exec(self.name, m))?;
            if self.confidence.is_none() {
                if let Some(c) = cols.get(4).filter(|c| !c.is_null(r)) {
                    math::check_confidence(c.value(r)).map_err(|m| exec(self.name, m))?;
                    self.confidence = Some(c.value(r));
                }
            }
            self.sums.add(x1, n1, x0, n0);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let confidence = self.confidence.unwrap_or(DEFAULT_CONFIDENCE);
        Ok(interval_scalar(match self.pooled {
            Pooled::RiskRatio => self.sums.risk_ratio(confidence),
            Pooled::OddsRatio => self.sums.odds_ratio(confidence),
        }))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut s: Vec<ScalarValue> = self
            .sums
            .to_array()
            .into_iter()
            .map(|v| ScalarValue::Float64(Some(v)))
            .collect();
        s.push(ScalarValue::Float64(self.confidence));
        Ok(s)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let cols = f64s(states);
        for r in 0..cols.first().map_or(0, |c| c.len()) {
            let mut part = [0.0; MhSums::LEN];
            for (i, v) in part.iter_mut().enumerate() {
                *v = cols[i].value(r);
            }
            self.sums.merge(part);
            if self.confidence.is_none() && !cols[MhSums::LEN].is_null(r) {
                self.confidence = Some(cols[MhSums::LEN].value(r));
            }
        }
        Ok(())
    }
}

/// `srm_p_value(users [, expected_weight])`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Srm {
    signature: Signature,
}

/// `srm_p_value(users [, expected_weight])`: chi-square goodness-of-fit
/// p-value of the users per variant (one row per variant) against the
/// expected split (weights, default equal), `variants − 1` degrees of
/// freedom.
pub fn srm_p_value_udaf() -> AggregateUDF {
    AggregateUDF::from(Srm {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

const SRM: &str = "srm_p_value";

impl AggregateUDFImpl for Srm {
    fn name(&self) -> &str {
        SRM
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_numeric(SRM, &["users"], &["expected_weight"], arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(
            args.name,
            &["users", "weight", "ratio", "variants"],
        ))
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SrmAccumulator(SrmSums::default())))
    }
}

#[derive(Debug)]
struct SrmAccumulator(SrmSums);

impl Accumulator for SrmAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let cols = f64s(values);
        for r in 0..cols.first().map_or(0, |c| c.len()) {
            if cols.iter().any(|c| c.is_null(r)) {
                continue;
            }
            let users = cols[0].value(r);
            let weight = cols.get(1).map_or(1.0, |c| c.value(r));
            if !users.is_finite() || users < 0.0 {
                return Err(exec(
                    SRM,
                    format!("argument `users` must be a non-negative count, got {users}"),
                ));
            }
            if !weight.is_finite() || weight <= 0.0 {
                return Err(exec(
                    SRM,
                    format!("argument `expected_weight` must be positive, got {weight}"),
                ));
            }
            self.0.add(users, weight);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(self.0.p_value()))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(self
            .0
            .to_array()
            .into_iter()
            .map(|v| ScalarValue::Float64(Some(v)))
            .collect())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let cols = f64s(states);
        for r in 0..cols.first().map_or(0, |c| c.len()) {
            self.0.merge([0, 1, 2, 3].map(|i| cols[i].value(r)));
        }
        Ok(())
    }
}
