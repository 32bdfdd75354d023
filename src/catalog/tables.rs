//! The one builder of reference tables: a list of typed columns becomes a
//! one-batch in-memory table registered under its name (replacing any table
//! of that name, so a context can be prepared twice). On a distributed
//! engine the same rows are registered as a `VALUES` plan instead: a plan
//! shipped to Ballista executors carries its rows with it, where an
//! in-memory table would stay behind in this process.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int32Array, Int64Array, ListArray, RecordBatch,
    StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::catalog::TableProvider;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{EmptyRelation, LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::{col, lit, DataFrame, SessionContext};

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
    let table: Arc<dyn TableProvider> = if crate::engine::is_distributed(ctx) {
        values_view(ctx, &batch)?
    } else {
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?)
    };
    ctx.deregister_table(name)?;
    ctx.register_table(name, table)?;
    Ok(())
}

/// `batch` as a view of a `VALUES` list (or of no rows), with its column
/// names, types and nullability.
fn values_view(ctx: &SessionContext, batch: &RecordBatch) -> Result<Arc<dyn TableProvider>> {
    let schema = Arc::new(DFSchema::try_from(batch.schema().as_ref().clone())?);
    let plan = if batch.num_rows() == 0 {
        LogicalPlan::EmptyRelation(EmptyRelation {
            produce_one_row: false,
            schema,
        })
    } else {
        let rows = (0..batch.num_rows())
            .map(|row| {
                batch
                    .columns()
                    .iter()
                    .map(|column| Ok(lit(ScalarValue::try_from_array(column, row)?)))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        // VALUES names its columns column1, column2...
        let names = batch
            .schema()
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| col(format!("column{}", i + 1)).alias(f.name()))
            .collect::<Vec<_>>();
        LogicalPlanBuilder::values_with_schema(rows, &schema)?
            .project(names)?
            .build()?
    };
    Ok(DataFrame::new(ctx.state(), plan).into_view())
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

    /// What a distributed engine reads: the same rows, names, types and
    /// nullability as the in-memory table, from a plan of VALUES (or of no
    /// rows) that carries them.
    #[tokio::test]
    async fn a_distributed_session_gets_the_same_table_as_values() {
        let columns = || {
            vec![
                int32("n", [Some(2), Some(1)]).required(),
                text("s", [Some("a".to_string()), None]),
                int64_list("l", [Some(vec![None, Some(3)]), None]),
                date32("d", [Some(20_000), None]),
                float64("f", [Some(0.5), Some(f64::NAN)]),
            ]
        };
        let local = SessionContext::new();
        let config = datafusion::prelude::SessionConfig::new()
            .with_extension(Arc::new(crate::engine::Distributed));
        let distributed = SessionContext::new_with_config(config);
        assert!(crate::engine::is_distributed(&distributed));
        assert!(!crate::engine::is_distributed(&local));
        for ctx in [&local, &distributed] {
            register(ctx, "t", columns()).unwrap();
            register(ctx, "empty", vec![int64("x", []).required()]).unwrap();
        }
        let show = |ctx: SessionContext, sql: &'static str| async move {
            let df = ctx.sql(sql).await.unwrap();
            let schema = df.schema().as_arrow().clone();
            // (rows only: an empty table may come as no batch or one empty one)
            let batches: Vec<_> = df
                .collect()
                .await
                .unwrap()
                .into_iter()
                .filter(|b| b.num_rows() > 0)
                .collect();
            let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                .unwrap()
                .to_string();
            (schema, text)
        };
        for sql in ["SELECT * FROM t ORDER BY n", "SELECT * FROM empty"] {
            let (schema, rows) = show(local.clone(), sql).await;
            let (dist_schema, dist_rows) = show(distributed.clone(), sql).await;
            assert_eq!(schema, dist_schema, "{sql}");
            assert_eq!(rows, dist_rows, "{sql}");
        }
        let plan = distributed
            .table("t")
            .await
            .unwrap()
            .into_optimized_plan()
            .unwrap()
            .display_indent()
            .to_string();
        assert!(plan.contains("Values:"), "{plan}");
        assert!(!plan.contains("TableScan"), "{plan}");
    }
}
