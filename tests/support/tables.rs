//! Reading result tables: running SQL, opening published Parquet, and
//! typed values by column name.

use std::path::Path;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::prelude::{ParquetReadOptions, SessionContext};

/// Run `sql` and collect its batches.
pub async fn collect(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql)
        .await
        .unwrap_or_else(|e| panic!("plan {sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("run {sql}: {e}"))
}

/// A fresh context with each of `tables` registered from its published
/// folder `out/<table>` (every `as_of` partition in it).
pub async fn published(out: &Path, tables: &[&str]) -> SessionContext {
    let ctx = SessionContext::new();
    for table in tables {
        let dir = out.join(table);
        ctx.register_parquet(*table, dir.to_str().unwrap(), ParquetReadOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    ctx
}

fn column<'a>(b: &'a RecordBatch, name: &str) -> &'a ArrayRef {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("no column `{name}` in {:?}", b.schema()))
}

/// A value as text, whatever the string type (Utf8, Utf8View, dictionary).
pub fn text(b: &RecordBatch, name: &str, row: usize) -> String {
    let c = cast(column(b, name), &DataType::Utf8).unwrap();
    c.as_string::<i32>().value(row).to_string()
}

/// A Float64 value; `None` when NULL.
pub fn f64_at(b: &RecordBatch, name: &str, row: usize) -> Option<f64> {
    let a = column(b, name).as_primitive::<Float64Type>();
    (!a.is_null(row)).then(|| a.value(row))
}

/// An Int64 value.
pub fn i64_at(b: &RecordBatch, name: &str, row: usize) -> i64 {
    column(b, name).as_primitive::<Int64Type>().value(row)
}
