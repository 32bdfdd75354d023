//! The column types a published table may have. BI tools and warehouses
//! read Parquet through connectors that handle a narrower set of types than
//! Arrow: Spark and several JDBC/ODBC connectors reject unsigned integers or
//! read them as the wrong width, some readers cannot open a dictionary-only
//! column, and nanosecond timestamps overflow in Spark and Power BI before
//! 1677 and after 2262. So a published table's plan is given a projection
//! that casts those columns (a `RANK()` is UInt64 in DataFusion, a user's
//! query may produce any of them): unsigned integers to Int64 (a value over
//! i64::MAX fails the cast with an error naming it rather than wrapping),
//! dictionaries to their value type, nanosecond timestamps to microseconds
//! with the same time zone. Internal tables, read back only by microconv,
//! keep their types.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::Column;
use datafusion::logical_expr::{cast, Expr};
use datafusion::prelude::DataFrame;

use crate::error::Result;

/// `df` with every column a published table may not have cast to one it may.
pub fn published(df: DataFrame) -> Result<DataFrame> {
    let schema = df.schema().clone();
    let mut changed = false;
    let exprs: Vec<Expr> = schema
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(Column::from((qualifier, field)));
            match published_type(field.data_type()) {
                Some(to) => {
                    changed = true;
                    cast(column, to).alias(field.name())
                }
                None => column,
            }
        })
        .collect();
    if !changed {
        return Ok(df);
    }
    Ok(df.select(exprs)?)
}

/// The type a column of type `dt` is published as, when not `dt` itself.
pub fn published_type(dt: &DataType) -> Option<DataType> {
    match dt {
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            Some(DataType::Int64)
        }
        DataType::Dictionary(_, value) => {
            Some(published_type(value).unwrap_or_else(|| value.as_ref().clone()))
        }
        DataType::Timestamp(TimeUnit::Nanosecond, tz) => {
            Some(DataType::Timestamp(TimeUnit::Microsecond, tz.clone()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Schema;
    use datafusion::prelude::SessionContext;

    async fn published_schema(ctx: &SessionContext, sql: &str) -> Schema {
        let df = published(ctx.sql(sql).await.unwrap()).unwrap();
        df.schema().as_arrow().clone()
    }

    #[tokio::test]
    async fn unsigned_dictionary_and_nanosecond_columns_are_published_as_bi_types() {
        let ctx = SessionContext::new();
        let schema = published_schema(
            &ctx,
            "SELECT CAST(7 AS INT UNSIGNED) AS u32, \
                    RANK() OVER (ORDER BY 1) AS r, \
                    arrow_cast('a', 'Dictionary(Int32, Utf8)') AS d, \
                    arrow_cast(now(), 'Timestamp(Nanosecond, Some(\"UTC\"))') AS ts, \
                    arrow_cast(1.5, 'Float64') AS f",
        )
        .await;
        let types: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), f.data_type()))
            .collect();
        assert_eq!(
            types,
            [
                "u32:Int64",
                "r:Int64",
                "d:Utf8",
                "ts:Timestamp(µs, \"UTC\")",
                "f:Float64"
            ]
        );
    }

    #[tokio::test]
    async fn an_unsigned_value_over_the_int64_range_is_an_error_not_a_wrap() {
        let ctx = SessionContext::new();
        let df = published(
            ctx.sql("SELECT CAST(18446744073709551615 AS BIGINT UNSIGNED) AS big")
                .await
                .unwrap(),
        )
        .unwrap();
        let err = df.collect().await.unwrap_err().to_string();
        assert!(err.contains("18446744073709551615"), "{err}");
    }

    #[tokio::test]
    async fn a_table_of_published_types_is_left_as_it_is() {
        let ctx = SessionContext::new();
        let df = ctx.sql("SELECT 1 AS a, 'x' AS b").await.unwrap();
        let before = df.logical_plan().clone();
        let after = published(df).unwrap();
        assert_eq!(after.logical_plan(), &before);
    }
}
