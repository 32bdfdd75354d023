//! `ga4_param(event_params, key)`: the value of one event parameter of a
//! Google Analytics 4 BigQuery export row, as text.
//!
//! GA4 keeps an event's parameters in `event_params`, a repeated record of
//! `key` and `value`, where `value` holds one of `string_value`,
//! `int_value`, `float_value` and `double_value`. The function returns the
//! first parameter named `key`: its string value, else its integer, double
//! or float value written as text (`1700000000`, `12.5`); NULL when the
//! row has no such parameter or it has no value. The input layer's GA4
//! preset reads `page_location`, `ga_session_id`, `source`... with it, and
//! `[input.columns]` can name any other as `param:<key>`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The value fields of a GA4 parameter, in the order they are looked at.
const VALUE_FIELDS: [&str; 4] = ["string_value", "int_value", "double_value", "float_value"];

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Ga4Param {
    signature: Signature,
}

pub fn ga4_param_udf() -> ScalarUDF {
    ScalarUDF::from(Ga4Param {
        signature: Signature::any(2, Volatility::Immutable),
    })
}

/// The struct type of the elements of an `event_params` list, if it is one.
fn element_struct(dt: &DataType) -> Option<&datafusion::arrow::datatypes::Fields> {
    match dt {
        DataType::List(f) | DataType::LargeList(f) => match f.data_type() {
            DataType::Struct(fields) => Some(fields),
            _ => None,
        },
        _ => None,
    }
}

impl ScalarUDFImpl for Ga4Param {
    fn name(&self) -> &str {
        "ga4_param"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let fields = element_struct(&arg_types[0]);
        let ok = fields.is_some_and(|f| f.find("key").is_some() && f.find("value").is_some());
        if !ok {
            return plan_err!(
                "ga4_param: the first argument must be a list of {{key, value}} records (GA4's event_params), not {}",
                arg_types[0]
            );
        }
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [params, key] = args.args.as_slice() else {
            return exec_err!("ga4_param takes two arguments");
        };
        let key = match key {
            ColumnarValue::Scalar(
                ScalarValue::Utf8(Some(k))
                | ScalarValue::Utf8View(Some(k))
                | ScalarValue::LargeUtf8(Some(k)),
            ) => k.clone(),
            _ => return exec_err!("ga4_param: the key must be a text literal"),
        };
        let params = params.to_array(args.number_rows)?;
        Ok(ColumnarValue::Array(lookup(&params, &key)?))
    }
}

/// The parameter `key` of every row of `params` (a list of records).
fn lookup(params: &ArrayRef, key: &str) -> Result<ArrayRef> {
    let (offsets, values): (Vec<usize>, &ArrayRef) = match params.data_type() {
        DataType::List(_) => {
            let l = params.as_list::<i32>();
            (
                l.offsets().iter().map(|o| *o as usize).collect(),
                l.values(),
            )
        }
        DataType::LargeList(_) => {
            let l = params.as_list::<i64>();
            (
                l.offsets().iter().map(|o| *o as usize).collect(),
                l.values(),
            )
        }
        other => return exec_err!("ga4_param: unexpected argument type {other}"),
    };
    let records = values.as_struct();
    let keys = cast(
        records
            .column_by_name("key")
            .expect("checked by return_type"),
        &DataType::Utf8,
    )?;
    let keys: &StringArray = keys.as_string::<i32>();
    let value = records
        .column_by_name("value")
        .expect("checked by return_type");
    // each value field as text, once per batch
    let texts: Vec<ArrayRef> = match value.data_type() {
        DataType::Struct(_) => {
            let value = value.as_struct();
            VALUE_FIELDS
                .iter()
                .filter_map(|f| value.column_by_name(f))
                .map(|c| cast(c, &DataType::Utf8))
                .collect::<std::result::Result<_, _>>()?
        }
        // a flattened export with the value as one column
        _ => vec![cast(value, &DataType::Utf8)?],
    };
    let mut out = StringBuilder::with_capacity(params.len(), params.len() * 8);
    for row in 0..params.len() {
        if params.is_null(row) {
            out.append_null();
            continue;
        }
        let found = (offsets[row]..offsets[row + 1])
            .find(|&i| keys.is_valid(i) && keys.value(i) == key && values.is_valid(i));
        let text = found.and_then(|i| {
            texts.iter().find_map(|t| {
                let t = t.as_string::<i32>();
                t.is_valid(i).then(|| t.value(i))
            })
        });
        out.append_option(text);
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::json::ReaderBuilder;
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::prelude::SessionContext;

    use super::*;

    /// Three GA4-shaped rows, as BigQuery exports them to JSON.
    const ROWS: &str = r#"{"event_name": "page_view", "event_params": [{"key": "page_location", "value": {"string_value": "https://shop.example/p/1"}}, {"key": "ga_session_id", "value": {"int_value": 1700000000}}]}
{"event_name": "purchase", "event_params": [{"key": "ga_session_id", "value": {"int_value": 1700000001}}, {"key": "value", "value": {"double_value": 12.5}}, {"key": "page_location", "value": {}}]}
{"event_name": "scroll", "event_params": []}
"#;

    #[tokio::test]
    async fn finds_each_parameter_as_text_whatever_its_value_field() {
        let mut reader = std::io::Cursor::new(ROWS);
        let (schema, _) =
            datafusion::arrow::json::reader::infer_json_schema(&mut reader, None).unwrap();
        let batch = ReaderBuilder::new(Arc::new(schema))
            .build(std::io::Cursor::new(ROWS))
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let ctx = SessionContext::new();
        ctx.register_udf(ga4_param_udf());
        ctx.register_batch("t", batch).unwrap();
        let out = ctx
            .sql(
                "SELECT event_name, ga4_param(event_params, 'page_location') AS page, \
                 ga4_param(event_params, 'ga_session_id') AS session, \
                 ga4_param(event_params, 'value') AS value FROM t",
            )
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = pretty_format_batches(&out).unwrap().to_string();
        let expected = "\
+------------+--------------------------+------------+-------+
| event_name | page                     | session    | value |
+------------+--------------------------+------------+-------+
| page_view  | https://shop.example/p/1 | 1700000000 |       |
| purchase   |                          | 1700000001 | 12.5  |
| scroll     |                          |            |       |
+------------+--------------------------+------------+-------+";
        assert_eq!(text, expected);
    }

    #[tokio::test]
    async fn a_column_that_is_not_event_params_is_a_plan_error() {
        let ctx = SessionContext::new();
        ctx.register_udf(ga4_param_udf());
        let err = ctx
            .sql("SELECT ga4_param('x', 'page_location')")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("event_params"), "{err}");
    }
}
