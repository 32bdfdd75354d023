//! `bh_q_value(p) OVER (...)`: Benjamini–Hochberg q-values as a window
//! function, so the family of tests is whatever the window partition is:
//! `OVER ()` for every row of a query, `OVER (PARTITION BY experiment)` for
//! one family per experiment. NULL p-values stay NULL and do not count in
//! the number of tests.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};

use super::coerce_numeric;
use super::math;

const NAME: &str = "bh_q_value";

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BhQValue {
    signature: Signature,
}

/// The `bh_q_value` window function.
pub fn bh_q_value_udwf() -> WindowUDF {
    WindowUDF::from(BhQValue {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

impl WindowUDFImpl for BhQValue {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_numeric(NAME, &["p"], &[], arg_types)
    }

    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(BhEvaluator))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            DataType::Float64,
            true,
        )))
    }
}

#[derive(Debug)]
struct BhEvaluator;

impl PartitionEvaluator for BhEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], _num_rows: usize) -> Result<ArrayRef> {
        let p: Vec<Option<f64>> = values[0].as_primitive::<Float64Type>().iter().collect();
        if let Some(bad) = p.iter().flatten().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(DataFusionError::Execution(format!(
                "{NAME}: argument `p` must be a p-value between 0 and 1, got {bad}"
            )));
        }
        Ok(Arc::new(Float64Array::from(math::bh_q_values(&p))))
    }
}
