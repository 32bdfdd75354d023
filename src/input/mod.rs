//! The input layer: find the event files, map each onto the canonical
//! schema, derive channels, and flag every row that cannot be used with a
//! reason (`rejected_events`) instead of dropping it.

pub mod discover;
pub mod map;

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray, Int64Array};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{lit, when, Expr};
use datafusion::prelude::{col, DataFrame, ParquetReadOptions, SessionContext};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::sync::Arc;

pub use discover::{discover, Discovery, InputFile};

use crate::error::{Error, Result};
use crate::schema;
use crate::config::settings::Settings;

/// The column holding why a row was rejected (NULL for good rows).
pub const REJECT_REASON: &str = "reject_reason";

/// Read every file and map it. Files with the same Arrow schema are read
/// as one table (their footers are read here, so an unreadable file is
/// named before anything runs); each row keeps its file name.
pub async fn read_files(
    ctx: &SessionContext,
    files: &[InputFile],
    settings: &Settings,
) -> Result<DataFrame> {
    let mut groups: Vec<(SchemaRef, Vec<&InputFile>)> = Vec::new();
    for file in files {
        let schema = file_schema(&file.path)?;
        match groups
            .iter_mut()
            .find(|(s, _)| s.fields() == schema.fields())
        {
            Some((_, members)) => members.push(file),
            None => groups.push((schema, vec![file])),
        }
    }
    let mut mapped: Option<DataFrame> = None;
    for (schema, members) in groups {
        let paths: Vec<String> = members
            .iter()
            .map(|f| f.path.to_string_lossy().into_owned())
            .collect();
        let label = match paths.len() {
            1 => paths[0].clone(),
            n => format!(
                "{} (and {} more file(s) with the same schema)",
                paths[0],
                n - 1
            ),
        };
        let options = ParquetReadOptions::default()
            .file_extension("")
            .schema(&schema);
        let df = ctx
            .read_parquet(paths.clone(), options)
            .await
            .map_err(|e| Error::InputFile {
                path: members[0].path.clone(),
                message: e.to_string(),
            })?;
        let source_file = if members.len() == 1 {
            lit(paths[0].clone())
        } else {
            // the object-store path of a local file, made absolute again;
            // input_file_name() is evaluated inside the scan of a
            // multi-file table
            datafusion::functions::string::expr_fn::concat(vec![
                lit("/"),
                datafusion::functions::core::expr_fn::input_file_name(),
            ])
        };
        let df = map::map_source(df, &label, source_file, settings)?;
        mapped = Some(match mapped {
            None => df,
            Some(acc) => acc.union(df)?,
        });
    }
    mapped.ok_or_else(|| Error::setting("input.events", "no input files"))
}

/// The Arrow schema in a Parquet file's footer (metadata dropped).
fn file_schema(path: &std::path::Path) -> Result<SchemaRef> {
    let bad = |message: String| Error::InputFile {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad(e.to_string()))?;
    let schema = builder.schema();
    Ok(Arc::new(Schema::new(schema.fields().clone())))
}

/// Derive `channel` where the source has none, then flag rejected rows
/// (missing/unparseable required values, duplicate `event_id`).
pub async fn flag_rows(
    ctx: &SessionContext,
    mapped: DataFrame,
    settings: &Settings,
) -> Result<DataFrame> {
    let mut rules: Option<datafusion::logical_expr::conditional_expressions::CaseBuilder> = None;
    for rule in &settings.channel_rules {
        let cond = mapped
            .parse_sql_expr(&rule.when)
            .map_err(|e| Error::ChannelExpr {
                name: rule.name.clone(),
                expr: rule.when.clone(),
                source: Box::new(e),
            })?;
        let value = lit(rule.name.clone());
        rules = Some(match rules {
            None => when(cond, value),
            Some(mut b) => b.when(cond, value),
        });
    }
    let derived: Expr = match rules {
        Some(mut b) => b.otherwise(lit("other"))?,
        None => lit("other"),
    };
    let channel = datafusion::functions::core::expr_fn::coalesce(vec![
        datafusion::functions::core::expr_fn::nullif(col("channel"), lit("")),
        derived,
    ]);
    let mapped = mapped.with_column("channel", channel)?;
    let view = "_microconv_input_mapped";
    ctx.deregister_table(view)?;
    ctx.register_table(view, mapped.into_view())?;
    let sql = FLAG_SQL.replace("{input}", view);
    let df = ctx.sql(&sql).await?;
    Ok(df)
}

/// Hash of the row's content, used as `event_id` when the source has none;
/// reasons are checked in order, so each rejected row has exactly one.
const FLAG_SQL: &str = r#"
WITH m AS (
  SELECT
    COALESCE(event_id, md5(concat_ws('|', COALESCE(user_id, ''), COALESCE(CAST(event_time AS VARCHAR), ''),
      COALESCE(event_name, ''), COALESCE(session_id, ''), COALESCE(page, ''), COALESCE(product_id, ''),
      COALESCE(CAST(revenue AS VARCHAR), ''), COALESCE(source, ''), COALESCE(medium, '')))) AS event_id,
    user_id, event_time, event_name, session_id, channel, source, medium, campaign, device, country,
    page, product_id, category, COALESCE(revenue, 0.0) AS revenue, experiment, variant,
    _source_file, _raw_event_time,
    CASE
      WHEN user_id IS NULL OR trim(user_id) = '' THEN 'missing user_id'
      WHEN _raw_event_time IS NULL THEN 'missing event_time'
      WHEN event_time IS NULL THEN 'unparseable event_time'
      WHEN event_name IS NULL OR trim(event_name) = '' THEN 'missing event_name'
      WHEN _bad_revenue THEN 'unparseable revenue'
    END AS _reason
  FROM {input}
)
SELECT event_id, user_id, event_time, event_name, session_id, channel, source, medium, campaign,
  device, country, page, product_id, category, revenue, experiment, variant,
  _source_file, _raw_event_time,
  CASE
    WHEN _reason IS NOT NULL THEN _reason
    WHEN _prev_id = event_id AND _prev_reason IS NULL THEN 'duplicate event_id'
  END AS reject_reason
FROM (
  -- one global order instead of PARTITION BY event_id: valid rows of an id
  -- come first, and any valid row after another valid row of the same id is
  -- a duplicate (much faster than a window per distinct id)
  SELECT *,
    LAG(event_id) OVER w AS _prev_id,
    LAG(_reason) OVER w AS _prev_reason
  FROM m
  WINDOW w AS (ORDER BY event_id, _reason NULLS FIRST, event_time, _source_file)
)
"#;

/// The canonical `events` from the flagged rows: good rows up to the end
/// of the as-of day.
pub fn events_sql(flagged_table: &str) -> String {
    let cols: Vec<&str> = schema::COLUMNS.iter().map(|c| c.name).collect();
    format!(
        "SELECT {} FROM {flagged_table} WHERE reject_reason IS NULL AND event_time < $as_of_end",
        cols.join(", ")
    )
}

/// `rejected_events`: every rejected row, with its file and reason.
pub fn rejected_sql(flagged_table: &str) -> String {
    format!(
        "SELECT _source_file AS source_file, reject_reason AS reason, event_id, user_id, \
         _raw_event_time AS event_time_raw, event_name FROM {flagged_table} WHERE reject_reason IS NOT NULL"
    )
}

/// Row counts of the flagged input.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InputCounts {
    pub rows: u64,
    pub rejected: BTreeMap<String, u64>,
    pub valid: u64,
    pub after_as_of: u64,
    /// Latest valid event time, microseconds since the epoch.
    pub max_event_time_us: Option<i64>,
}

impl InputCounts {
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

/// Count rows by reason and find the latest valid event; `as_of_end_us`
/// (exclusive) counts the valid events after the as-of day.
pub async fn count(
    ctx: &SessionContext,
    flagged_table: &str,
    as_of_end_us: Option<i64>,
) -> Result<InputCounts> {
    let after = match as_of_end_us {
        Some(end) => format!("SUM(CASE WHEN reject_reason IS NULL AND CAST(event_time AS BIGINT) >= {end} THEN 1 ELSE 0 END)"),
        None => "CAST(0 AS BIGINT)".into(),
    };
    let sql = format!(
        "SELECT COALESCE(reject_reason, '') AS reason, COUNT(*) AS n, \
         MAX(CASE WHEN reject_reason IS NULL THEN CAST(event_time AS BIGINT) END) AS max_us, \
         CAST({after} AS BIGINT) AS after FROM {flagged_table} GROUP BY 1 ORDER BY 1"
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let mut counts = InputCounts::default();
    for b in &batches {
        let reasons = datafusion::arrow::compute::cast(
            b.column(0),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )?;
        let reasons = reasons.as_string::<i32>();
        let n = b.column(1).as_primitive::<Int64Type>();
        let max: &Int64Array = b.column(2).as_primitive::<Int64Type>();
        let after = b.column(3).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            let rows = n.value(i) as u64;
            counts.rows += rows;
            if reasons.value(i).is_empty() {
                counts.valid = rows;
                counts.max_event_time_us = (!max.is_null(i)).then(|| max.value(i));
                counts.after_as_of = if after.is_null(i) {
                    0
                } else {
                    after.value(i) as u64
                };
            } else {
                counts.rejected.insert(reasons.value(i).to_string(), rows);
            }
        }
    }
    Ok(counts)
}

/// An empty table with the given schema (for sources with no rows).
pub fn empty_table(schema: datafusion::arrow::datatypes::SchemaRef) -> Result<Arc<MemTable>> {
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![]])?))
}
