//! The one builder of reference tables: a list of typed columns becomes a
//! one-batch in-memory table registered under its name (replacing any table
//! of that name, so a context can be prepared twice).

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, ListArray, RecordBatch,
    StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::error::Result;

/// The values of one column.
pub enum Values {
    Text(Vec<Option<String>>),
    Int32(Vec<Option<i32>>),
    Int64(Vec<Option<i64>>),
    Float64(Vec<Option<f64>>),
    Int64List(Vec<Option<Vec<Option<i64>>>>),
    /// Days since 1970-01-01.
    Date32(Vec<Option<i32>>),
}

/// One column of a reference table.
pub struct Column {
    name: &'static str,
    nullable: bool,
    values: Values,
}

impl Column {
    fn new(name: &'static str, values: Values) -> Column {
        Column {
            name,
            nullable: true,
            values,
        }
    }

    /// A column that is declared NOT NULL in the table's schema.
    pub fn required(mut self) -> Column {
        self.nullable = false;
        self
    }

    fn field_and_array(self) -> (Field, ArrayRef) {
        let (data_type, array): (DataType, ArrayRef) = match self.values {
            Values::Text(v) => (DataType::Utf8, Arc::new(StringArray::from(v))),
            Values::Int32(v) => (DataType::Int32, Arc::new(Int32Array::from(v))),
            Values::Int64(v) => (DataType::Int64, Arc::new(Int64Array::from(v))),
            Values::Float64(v) => (DataType::Float64, Arc::new(Float64Array::from(v))),
            Values::Date32(v) => (DataType::Date32, Arc::new(Date32Array::from(v))),
            Values::Int64List(v) => (
                DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true))),
                Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(v)),
            ),
        };
        (Field::new(self.name, data_type, self.nullable), array)
    }
}

pub fn text(name: &'static str, values: impl IntoIterator<Item = Option<String>>) -> Column {
    Column::new(name, Values::Text(values.into_iter().collect()))
}

pub fn int32(name: &'static str, values: impl IntoIterator<Item = Option<i32>>) -> Column {
    Column::new(name, Values::Int32(values.into_iter().collect()))
}

pub fn int64(name: &'static str, values: impl IntoIterator<Item = Option<i64>>) -> Column {
    Column::new(name, Values::Int64(values.into_iter().collect()))
}

pub fn float64(name: &'static str, values: impl IntoIterator<Item = Option<f64>>) -> Column {
    Column::new(name, Values::Float64(values.into_iter().collect()))
}

pub fn date32(name: &'static str, days: impl IntoIterator<Item = Option<i32>>) -> Column {
    Column::new(name, Values::Date32(days.into_iter().collect()))
}

pub fn int64_list(
    name: &'static str,
    values: impl IntoIterator<Item = Option<Vec<Option<i64>>>>,
) -> Column {
    Column::new(name, Values::Int64List(values.into_iter().collect()))
}

/// Build the table from `columns` (all of one length) and register it as
/// `name`, replacing an earlier one.
pub fn register(ctx: &SessionContext, name: &str, columns: Vec<Column>) -> Result<()> {
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) =
        columns.into_iter().map(Column::field_and_array).unzip();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    ctx.deregister_table(name)?;
    ctx.register_table(
        name,
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn columns_keep_their_types_nullability_and_rows() {
        let ctx = SessionContext::new();
        register(
            &ctx,
            "t",
            vec![
                int32("n", [Some(1), Some(2)]).required(),
                text("s", [Some("a".to_string()), None]),
                int64_list("l", [Some(vec![None, Some(3)]), None]),
            ],
        )
        .unwrap();
        let df = ctx.table("t").await.unwrap();
        let schema = df.schema().as_arrow().clone();
        assert!(!schema.field(0).is_nullable());
        assert_eq!(schema.field(0).data_type(), &DataType::Int32);
        assert!(schema.field(1).is_nullable());
        let rows: usize = df
            .collect()
            .await
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum();
        assert_eq!(rows, 2);
        // registering again replaces the table
        register(&ctx, "t", vec![int64("x", [Some(1)])]).unwrap();
        let schema = ctx.table("t").await.unwrap().schema().as_arrow().clone();
        assert_eq!(schema.fields().len(), 1);
    }
}
