//! One way to write a scalar SQL function of numbers evaluated row by row
//! (the Wilson interval, the 2×2-table tests, the CLV predictions): a
//! function declares its SQL name, its arguments by name (optional ones
//! last, with their defaults), and a kernel on plain `f64`s; [`double`]
//! makes it return a `double`, [`record`] a struct of named doubles such as
//! `struct<estimate, lower, upper>`. The kernel takes its arguments as an
//! array, so it names them in its pattern: `|[successes, trials]| ...`.
//!
//! # NULL and error policy (every function built here)
//!
//! - Planning: each argument must be numeric (integer, decimal, float) or
//!   NULL and is cast to `double`; a wrong argument count or a non-numeric
//!   argument is a planning error naming the function and the argument.
//! - A NULL argument gives a NULL result: a NULL `double`, or a NULL struct
//!   whose fields also read as NULL. NULL is checked first, so a NULL
//!   anywhere wins over a bad value elsewhere in the row.
//! - A non-finite argument (NaN, ±infinity) is an error
//!   `name: argument `arg` must be finite, got inf`, so kernels only ever see
//!   finite numbers. An out-of-domain argument (a negative count, a
//!   confidence outside (0, 1)) is an error the kernel reports as
//!   `Err(message)`; the message names the argument and is prefixed with
//!   the function name. An error stops the query: a bad value is a bug
//!   upstream, not something to hide as NULL.
//! - An undefined result (the kernel returns `None`, e.g. an empty group)
//!   and a non-finite result (an overflow) are NULL.
//!
//! Literal and column arguments both work; with literals only, the result
//! is a literal too.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Float64Type};
use datafusion::common::{exec_datafusion_err, exec_err, internal_err, plan_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::scalar::ScalarValue;

/// One declared argument: its name (for error messages) and, for an
/// optional trailing argument, the value used when it is left out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arg {
    name: &'static str,
    default: Option<f64>,
}

/// A required argument.
pub const fn arg(name: &'static str) -> Arg {
    Arg {
        name,
        default: None,
    }
}

/// An optional trailing argument and its default.
pub const fn opt(name: &'static str, default: f64) -> Arg {
    Arg {
        name,
        default: Some(default),
    }
}

/// The row kernel: the arguments in declared order (defaults filled in,
/// all finite) to the result, or a message about a bad argument.
pub type Kernel<const N: usize, R> = fn([f64; N]) -> std::result::Result<R, String>;

/// What a kernel returns for one row: one value (`Option<f64>`, for a
/// `double`) or one per struct field (`[Option<f64>; M]`). `None` is an
/// undefined result, NULL in SQL.
pub trait Output: Copy + std::fmt::Debug + Send + Sync + 'static {
    /// How many values a row has.
    const WIDTH: usize;
    /// The `i`-th value.
    fn value(&self, i: usize) -> Option<f64>;
}

impl Output for Option<f64> {
    const WIDTH: usize = 1;
    fn value(&self, _i: usize) -> Option<f64> {
        *self
    }
}

impl<const M: usize> Output for [Option<f64>; M] {
    const WIDTH: usize = M;
    fn value(&self, i: usize) -> Option<f64> {
        self[i]
    }
}

/// A `double` function: `kernel` evaluated on each row of `args`.
pub fn double<const N: usize>(
    name: &'static str,
    args: [Arg; N],
    kernel: Kernel<N, Option<f64>>,
) -> ScalarUDF {
    ScalarUDF::from(RowFn::new(name, args, None, kernel))
}

/// A function returning a struct of the doubles `fields`, in that order.
pub fn record<const N: usize, const M: usize>(
    name: &'static str,
    args: [Arg; N],
    fields: [&'static str; M],
    kernel: Kernel<N, [Option<f64>; M]>,
) -> ScalarUDF {
    ScalarUDF::from(RowFn::new(name, args, Some(double_fields(&fields)), kernel))
}

/// Nullable `double` fields with these names: the type of a [`record`]
/// result (and of any struct of doubles that should match it).
pub fn double_fields(names: &[&str]) -> Fields {
    names
        .iter()
        .map(|n| Arc::new(Field::new(*n, DataType::Float64, true)))
        .collect()
}

/// Coerce every argument to `double`, checking the argument count and that
/// each argument is numeric; errors name the function and the argument.
/// Shared with the aggregates and window functions of `stats`, which take
/// the same kind of arguments.
pub fn coerce_numeric(
    name: &str,
    params: &[&str],
    optional: &[&str],
    arg_types: &[DataType],
) -> Result<Vec<DataType>> {
    let max = params.len() + optional.len();
    if arg_types.len() < params.len() || arg_types.len() > max {
        let mut sig: Vec<String> = params.iter().map(|p| p.to_string()).collect();
        sig.extend(optional.iter().map(|p| format!("[{p}]")));
        return plan_err!(
            "{name} takes {} arguments ({name}({})), got {}",
            if optional.is_empty() {
                params.len().to_string()
            } else {
                format!("{} to {max}", params.len())
            },
            sig.join(", "),
            arg_types.len()
        );
    }
    arg_types
        .iter()
        .zip(params.iter().chain(optional.iter()))
        .map(|(t, arg)| {
            if t.is_numeric() || t.is_null() {
                Ok(DataType::Float64)
            } else {
                plan_err!("{name}: argument `{arg}` must be numeric, got {t}")
            }
        })
        .collect()
}

/// The UDF behind [`double`] and [`record`].
#[derive(Debug)]
struct RowFn<const N: usize, R> {
    name: &'static str,
    args: [Arg; N],
    /// How many leading arguments are required.
    required: usize,
    /// `None`: a `double` result; `Some`: a struct of these fields.
    fields: Option<Fields>,
    kernel: Kernel<N, R>,
    signature: Signature,
}

impl<const N: usize, R: Output> RowFn<N, R> {
    fn new(
        name: &'static str,
        args: [Arg; N],
        fields: Option<Fields>,
        kernel: Kernel<N, R>,
    ) -> Self {
        let required = args.iter().take_while(|a| a.default.is_none()).count();
        // Declarations are code, not input: a mistake here is a bug to catch
        // in the first test that registers the function.
        assert!(
            args[required..].iter().all(|a| a.default.is_some()),
            "{name}: optional arguments must come last"
        );
        assert_eq!(
            fields.as_ref().map_or(1, |f| f.len()),
            R::WIDTH,
            "{name}: one struct field per output value"
        );
        RowFn {
            name,
            args,
            required,
            fields,
            kernel,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// The arguments of one call as columns, optional ones filled with
    /// their defaults.
    fn columns(&self, values: &[ColumnarValue]) -> Result<Vec<Column>> {
        if values.len() < self.required || values.len() > N {
            return internal_err!("{}: {} arguments after planning", self.name, values.len());
        }
        let given = values.iter().map(Column::new);
        let defaults = self.args[values.len()..]
            .iter()
            .map(|a| Ok(Column::Scalar(a.default)));
        given.chain(defaults).collect()
    }

    /// Evaluate row `r`: `None` when an argument is NULL.
    fn eval_row(&self, columns: &[Column], r: usize) -> Result<Option<R>> {
        let mut row = [0.0; N];
        for (slot, column) in row.iter_mut().zip(columns) {
            match column.get(r) {
                Some(v) => *slot = v,
                None => return Ok(None),
            }
        }
        for (v, arg) in row.iter().zip(&self.args) {
            if !v.is_finite() {
                return exec_err!(
                    "{}: argument `{}` must be finite, got {v}",
                    self.name,
                    arg.name
                );
            }
        }
        (self.kernel)(row)
            .map(Some)
            .map_err(|m| exec_datafusion_err!("{}: {m}", self.name))
    }

    /// The result array from the rows' outputs (`None`: a NULL row).
    fn to_array(&self, rows: Vec<Option<R>>) -> Result<ArrayRef> {
        let column = |i: usize| -> ArrayRef {
            let values = rows.iter().map(|row| {
                row.as_ref()
                    .and_then(|o| o.value(i))
                    .filter(|v| v.is_finite())
            });
            Arc::new(values.collect::<Float64Array>())
        };
        let Some(fields) = &self.fields else {
            return Ok(column(0));
        };
        let columns = (0..R::WIDTH).map(column).collect();
        // The struct itself is NULL for a NULL row (its fields are NULL as
        // well, since `get_field` does not apply the parent's nulls).
        let nulls = NullBuffer::from_iter(rows.iter().map(Option::is_some));
        let nulls = (nulls.null_count() > 0).then_some(nulls);
        Ok(Arc::new(StructArray::try_new(
            fields.clone(),
            columns,
            nulls,
        )?))
    }
}

/// One argument of a call.
enum Column {
    Scalar(Option<f64>),
    Array(Float64Array),
}

impl Column {
    /// `value` as `double`; planning already coerced it, the cast is a no-op
    /// unless DataFusion hands over an untyped NULL.
    fn new(value: &ColumnarValue) -> Result<Column> {
        Ok(match value {
            ColumnarValue::Scalar(s) => match s.cast_to(&DataType::Float64)? {
                ScalarValue::Float64(v) => Column::Scalar(v),
                other => return internal_err!("expected a double, got {other:?}"),
            },
            ColumnarValue::Array(a) => Column::Array(
                cast(a, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone(),
            ),
        })
    }

    fn get(&self, r: usize) -> Option<f64> {
        match self {
            Column::Scalar(v) => *v,
            Column::Array(a) => a.is_valid(r).then(|| a.value(r)),
        }
    }
}

// Identity is the SQL name: names are unique in a session, and comparing
// the kernels' function pointers is not reliable.
impl<const N: usize, R> PartialEq for RowFn<N, R> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl<const N: usize, R> Eq for RowFn<N, R> {}

impl<const N: usize, R> Hash for RowFn<N, R> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl<const N: usize, R: Output> ScalarUDFImpl for RowFn<N, R> {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let names: Vec<&str> = self.args.iter().map(|a| a.name).collect();
        let (params, optional) = names.split_at(self.required);
        coerce_numeric(self.name, params, optional, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match &self.fields {
            Some(fields) => DataType::Struct(fields.clone()),
            None => DataType::Float64,
        })
    }

    // NULL in, NULL out: lets the optimizer reason about NULLs through us.
    fn is_strict(&self) -> bool {
        true
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let literals = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if literals { 1 } else { args.number_rows };
        let columns = self.columns(&args.args)?;
        let outputs = (0..rows)
            .map(|r| self.eval_row(&columns, r))
            .collect::<Result<Vec<_>>>()?;
        let array = self.to_array(outputs)?;
        if literals {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &array, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(array))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::prelude::SessionContext;

    /// `scaled(x, factor [, offset])` = x·factor + offset (offset 0 by
    /// default); factor must not be negative; x = 0 is undefined.
    fn scaled_udf() -> ScalarUDF {
        double(
            "scaled",
            [arg("x"), arg("factor"), opt("offset", 0.0)],
            |[x, factor, offset]| {
                if factor < 0.0 {
                    return Err(format!(
                        "argument `factor` must be non-negative, got {factor}"
                    ));
                }
                Ok((x != 0.0).then_some(x * factor + offset))
            },
        )
    }

    /// `spread(x, half)` = struct<low, mid, high> of x − half, x, x + half.
    fn spread_udf() -> ScalarUDF {
        record(
            "spread",
            [arg("x"), arg("half")],
            ["low", "mid", "high"],
            |[x, half]| Ok([Some(x - half), Some(x), Some(x + half)]),
        )
    }

    fn context() -> SessionContext {
        let ctx = SessionContext::new();
        ctx.register_udf(scaled_udf());
        ctx.register_udf(spread_udf());
        ctx
    }

    async fn run(sql: &str) -> Result<String> {
        let batches = context().sql(sql).await?.collect().await?;
        Ok(pretty_format_batches(&batches)?.to_string())
    }

    async fn error(sql: &str) -> String {
        match run(sql).await {
            Ok(out) => panic!("expected an error from {sql}, got\n{out}"),
            Err(e) => e.to_string(),
        }
    }

    #[tokio::test]
    async fn literal_and_array_arguments() {
        // 2·3 + 1 = 7 from literals (integers coerced); from a column,
        // 1·3 + 1 = 4, NULL for the NULL row, 2.5·3 + 1 = 8.5 (a decimal)
        let out = run("SELECT scaled(2, 3, 1) AS s").await.unwrap();
        assert!(out.contains("| 7.0 |"), "{out}");
        let out = run(
            "SELECT scaled(x, 3, 1) AS s FROM (VALUES (CAST(1 AS DECIMAL(4, 1))), (NULL), (2.5)) v(x)",
        )
        .await
        .unwrap();
        assert!(out.contains("| 4.0 |\n|     |\n| 8.5 |"), "{out}");
    }

    #[test]
    fn literals_give_a_literal() {
        let udf = scaled_udf();
        let arg = |v: f64| ColumnarValue::Scalar(ScalarValue::Float64(Some(v)));
        let field = Arc::new(Field::new("x", DataType::Float64, true));
        let out = udf
            .invoke_with_args(ScalarFunctionArgs {
                args: vec![arg(2.0), arg(3.0)],
                arg_fields: vec![field.clone(), field.clone()],
                number_rows: 5,
                return_field: field,
                config_options: Default::default(),
            })
            .unwrap();
        assert!(
            matches!(out, ColumnarValue::Scalar(ScalarValue::Float64(Some(v))) if v == 6.0),
            "{out:?}"
        );
    }

    #[tokio::test]
    async fn optional_argument_defaults() {
        // offset left out is 0: 2·3 + 0 = 6
        let out = run("SELECT scaled(2, 3) AS s").await.unwrap();
        assert!(out.contains("| 6.0 |"), "{out}");
    }

    #[tokio::test]
    async fn null_argument_gives_null() {
        // a NULL optional argument too; NULL wins over a bad factor
        let out =
            run("SELECT scaled(NULL, 3) AS a, scaled(2, 3, NULL) AS b, scaled(NULL, -1) AS c")
                .await
                .unwrap();
        assert!(out.contains("|   |   |   |"), "{out}");
        // a struct result is a NULL struct whose fields read NULL
        let out = run(
            "SELECT s IS NULL AS n, s['mid'] AS mid FROM (SELECT spread(x, 1) AS s FROM (VALUES (2.0), (NULL)) v(x))",
        )
        .await
        .unwrap();
        assert!(out.contains("| false | 2.0 |\n| true  |     |"), "{out}");
    }

    #[tokio::test]
    async fn struct_result() {
        let out = run("SELECT spread(10, 2) AS s, arrow_typeof(spread(10, 2)) AS t")
            .await
            .unwrap();
        assert!(out.contains("{low: 8.0, mid: 10.0, high: 12.0}"), "{out}");
        assert!(
            out.contains(r#"Struct("low": Float64, "mid": Float64, "high": Float64)"#),
            "{out}"
        );
    }

    #[tokio::test]
    async fn bad_argument_is_an_error_naming_function_and_argument() {
        let e = error("SELECT scaled(2, -1)").await;
        assert!(
            e.contains("scaled: argument `factor` must be non-negative, got -1"),
            "{e}"
        );
        // in a column, the bad row fails the query
        let e = error("SELECT scaled(2, f) FROM (VALUES (1.0), (-2.0)) v(f)").await;
        assert!(
            e.contains("scaled: argument `factor` must be non-negative, got -2"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn non_finite_argument_is_an_error_and_result_null() {
        let e = error("SELECT scaled(2, 3, CAST('NaN' AS DOUBLE))").await;
        assert!(
            e.contains("scaled: argument `offset` must be finite, got NaN"),
            "{e}"
        );
        let e = error("SELECT scaled(CAST('-inf' AS DOUBLE), 3)").await;
        assert!(
            e.contains("scaled: argument `x` must be finite, got -inf"),
            "{e}"
        );
        // undefined (x = 0) and overflowing (1e308·10) results are NULL
        let out = run("SELECT scaled(0, 3) AS a, scaled(1e308, 10) AS b")
            .await
            .unwrap();
        assert!(out.contains("|   |   |"), "{out}");
    }

    #[tokio::test]
    async fn planning_checks_count_and_types() {
        let e = error("SELECT scaled(1)").await;
        assert!(
            e.contains("scaled takes 2 to 3 arguments (scaled(x, factor, [offset])), got 1"),
            "{e}"
        );
        let e = error("SELECT spread(1, 2, 3)").await;
        assert!(
            e.contains("spread takes 2 arguments (spread(x, half)), got 3"),
            "{e}"
        );
        let e = error("SELECT scaled(1, 'two')").await;
        assert!(
            e.contains("scaled: argument `factor` must be numeric, got Utf8"),
            "{e}"
        );
    }

    #[test]
    #[should_panic(expected = "optional arguments must come last")]
    fn optional_arguments_come_last() {
        double("bad", [opt("a", 1.0), arg("b")], |[a, b]| Ok(Some(a + b)));
    }
}
