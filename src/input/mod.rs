//! The input layer: find the event files, map each onto the canonical
//! schema, derive channels, and flag every row that cannot be used with a
//! reason (`rejected_events`) instead of dropping it.

pub mod discover;
pub mod flag;
pub mod map;
pub mod tee;

use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::lit;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::sync::Arc;

pub use discover::{discover, discover_except, Discovery, InputFile};
pub use flag::{InputCounts, AFTER_AS_OF, FLAGGED};

use crate::config::Settings;
use crate::error::{Error, Result};

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
        let df = map::map_source(df, &label, source_file, &settings.input)?;
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

/// The first of `files` whose data cannot be read to the end (a corrupt
/// page, a truncated column chunk), as an error naming it.
pub fn unreadable_file(files: &[InputFile]) -> Option<Error> {
    files.iter().find_map(|f| {
        let bad = |message: String| Error::InputFile {
            path: f.path.clone(),
            message,
        };
        let file = match std::fs::File::open(&f.path) {
            Ok(file) => file,
            Err(e) => return Some(Error::io(&f.path, e)),
        };
        let reader = match ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()) {
            Ok(r) => r,
            Err(e) => return Some(bad(e.to_string())),
        };
        for batch in reader {
            if let Err(e) = batch {
                return Some(bad(e.to_string()));
            }
        }
        None
    })
}

/// An empty table with the given schema (for sources with no rows).
pub fn empty_table(schema: datafusion::arrow::datatypes::SchemaRef) -> Result<Arc<MemTable>> {
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![]])?))
}
