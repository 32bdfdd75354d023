//! The input layer: find the event files, map each onto the canonical
//! schema, derive channels, and flag every row that cannot be used with a
//! reason (`rejected_events`) instead of dropping it.

pub mod discover;
pub mod flag;
pub mod map;
pub mod source_path;
pub mod tee;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::lit;
use datafusion::prelude::{
    CsvReadOptions, DataFrame, JsonReadOptions, ParquetReadOptions, SessionContext,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::sync::Arc;

pub use discover::{discover, discover_any, discover_except, Discovery, InputFile};
pub use flag::{InputCounts, AFTER_AS_OF, FLAGGED};

use crate::config::sections::input::{CsvSettings, InputFormat};
use crate::config::Settings;
use crate::error::{Error, Result};

/// Read every file and map it. Files of the same format and Arrow schema
/// are read as one table (their schemas are read here, so an unreadable
/// file is named before anything runs); each row keeps its file name.
///
/// Parquet files carry their types. CSV columns are all read as text (the
/// mapping parses times, numbers and epochs itself, and counts what it
/// cannot read as rejected rows, where type inference would guess from a
/// sample and fail the run on the first value that does not fit). NDJSON
/// values keep their JSON types (numbers, strings, booleans).
pub async fn read_files(
    ctx: &SessionContext,
    files: &[InputFile],
    settings: &Settings,
) -> Result<DataFrame> {
    let mut groups: Vec<(InputFormat, SchemaRef, Vec<&InputFile>)> = Vec::new();
    for file in files {
        let format = file_format(file, settings);
        let schema = if crate::storage::is_remote(&file.path.to_string_lossy()) {
            remote_schema(ctx, file, format, &settings.input.csv).await?
        } else {
            file_schema(&file.path, format, &settings.input.csv)?
        };
        match groups
            .iter_mut()
            .find(|(f, s, _)| *f == format && s.fields() == schema.fields())
        {
            Some((_, _, members)) => members.push(file),
            None => groups.push((format, schema, vec![file])),
        }
    }
    let mut mapped: Option<DataFrame> = None;
    for (format, schema, members) in groups {
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
        let df = read(
            ctx,
            &paths,
            format,
            &schema,
            &settings.input.csv,
            &members[0].path,
        )
        .await
        .map_err(|e| Error::InputFile {
            path: members[0].path.clone(),
            message: e.to_string(),
        })?;
        let source_file = if members.len() == 1 {
            lit(paths[0].clone())
        } else {
            // the object-store path of a file, made a whole path or URL
            // again (`/` for a local file, `s3://bucket/` for an object);
            // input_file_name() is evaluated inside the scan of a
            // multi-file table
            let root = match paths[0].split_once("://") {
                Some((scheme, rest)) => {
                    format!("{scheme}://{}/", rest.split('/').next().unwrap_or(""))
                }
                None => "/".to_string(),
            };
            datafusion::functions::string::expr_fn::concat(vec![
                lit(root),
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

/// A file's format: `[input] format`, else by its extension, else Parquet.
fn file_format(file: &InputFile, settings: &Settings) -> InputFormat {
    settings.input.format.unwrap_or_else(|| {
        InputFormat::of_file(&file.path.to_string_lossy()).unwrap_or(InputFormat::Parquet)
    })
}

/// The CSV delimiter of `path`: the configured one, else tab for `.tsv`.
fn delimiter(path: &std::path::Path, csv: &CsvSettings) -> u8 {
    csv.delimiter.unwrap_or_else(|| {
        let tsv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
        if tsv {
            b'\t'
        } else {
            b','
        }
    })
}

/// Scan `paths` (one format, one schema) as a DataFrame.
async fn read(
    ctx: &SessionContext,
    paths: &[String],
    format: InputFormat,
    schema: &Schema,
    csv: &CsvSettings,
    first: &std::path::Path,
) -> datafusion::error::Result<DataFrame> {
    let paths = paths.to_vec();
    match format {
        InputFormat::Parquet => {
            let options = ParquetReadOptions::default()
                .file_extension("")
                .schema(schema);
            ctx.read_parquet(paths, options).await
        }
        InputFormat::Csv => {
            let options = CsvReadOptions::new()
                .file_extension("")
                .has_header(csv.header)
                .delimiter(delimiter(first, csv))
                .schema(schema);
            ctx.read_csv(paths, options).await
        }
        InputFormat::Ndjson => {
            let options = JsonReadOptions::default().file_extension("").schema(schema);
            ctx.read_json(paths, options).await
        }
    }
}

/// [`file_schema`] of an object in a store (`s3://...`), read through
/// DataFusion's own inference on that one file: the Parquet footer, the CSV
/// header (columns as text), the first 1,000 NDJSON lines.
async fn remote_schema(
    ctx: &SessionContext,
    file: &InputFile,
    format: InputFormat,
    csv: &CsvSettings,
) -> Result<SchemaRef> {
    let url = file.path.to_string_lossy().into_owned();
    let bad = |message: String| Error::InputFile {
        path: file.path.clone(),
        message,
    };
    let df = match format {
        InputFormat::Parquet => {
            ctx.read_parquet(url, ParquetReadOptions::default().file_extension(""))
                .await
        }
        InputFormat::Csv => {
            let options = CsvReadOptions::new()
                .file_extension("")
                .has_header(csv.header)
                .delimiter(delimiter(&file.path, csv))
                .schema_infer_max_records(0);
            ctx.read_csv(url, options).await
        }
        InputFormat::Ndjson => {
            let options = JsonReadOptions::default()
                .file_extension("")
                .schema_infer_max_records(1000);
            ctx.read_json(url, options).await
        }
    }
    .map_err(|e| bad(crate::error::chain(&e)))?;
    let fields: Vec<Arc<Field>> = df
        .schema()
        .fields()
        .iter()
        .map(|f| match format {
            InputFormat::Csv => Arc::new(Field::new(f.name(), DataType::Utf8, true)),
            _ => Arc::new(f.as_ref().clone().with_metadata(Default::default())),
        })
        .collect();
    if fields.is_empty() {
        return Err(bad(format!("no columns found ({format:?})")));
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// The Arrow schema of one input file: a Parquet footer's (metadata
/// dropped), a CSV header's names as text columns, or the types of an
/// NDJSON file's values (from its first 1,000 lines).
fn file_schema(
    path: &std::path::Path,
    format: InputFormat,
    csv: &CsvSettings,
) -> Result<SchemaRef> {
    let bad = |message: String| Error::InputFile {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let fields = match format {
        InputFormat::Parquet => {
            let builder =
                ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad(e.to_string()))?;
            builder.schema().fields().clone()
        }
        InputFormat::Csv => {
            let (schema, _) = datafusion::arrow::csv::reader::Format::default()
                .with_header(csv.header)
                .with_delimiter(delimiter(path, csv))
                .infer_schema(std::io::BufReader::new(file), Some(0))
                .map_err(|e| bad(e.to_string()))?;
            schema
                .fields()
                .iter()
                .map(|f| Arc::new(Field::new(f.name(), DataType::Utf8, true)))
                .collect()
        }
        InputFormat::Ndjson => {
            let mut reader = std::io::BufReader::new(file);
            let (schema, _) =
                datafusion::arrow::json::reader::infer_json_schema(&mut reader, Some(1000))
                    .map_err(|e| bad(e.to_string()))?;
            schema.fields().clone()
        }
    };
    if fields.is_empty() {
        return Err(bad(format!("no columns found ({format:?})")));
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// The first of `files` whose data cannot be read to the end (a corrupt
/// Parquet page, a truncated column chunk, a CSV line with too many
/// fields, a line that is not JSON), as an error naming it.
/// Objects in a store are not re-read here: the engine's own error, which
/// names the object's path, stands.
pub fn unreadable_file(files: &[InputFile], settings: &Settings) -> Option<Error> {
    files.iter().find_map(|f| {
        if crate::storage::is_remote(&f.path.to_string_lossy()) {
            return None;
        }
        let bad = |message: String| Error::InputFile {
            path: f.path.clone(),
            message,
        };
        let format = file_format(f, settings);
        let schema = match file_schema(&f.path, format, &settings.input.csv) {
            Ok(schema) => schema,
            Err(e) => return Some(e),
        };
        let file = match std::fs::File::open(&f.path) {
            Ok(file) => file,
            Err(e) => return Some(Error::io(&f.path, e)),
        };
        let batches: Box<dyn Iterator<Item = std::result::Result<_, ArrowError>>> = match format {
            InputFormat::Parquet => {
                match ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()) {
                    Ok(r) => Box::new(r),
                    Err(e) => return Some(bad(e.to_string())),
                }
            }
            InputFormat::Csv => {
                let csv = &settings.input.csv;
                match datafusion::arrow::csv::ReaderBuilder::new(schema)
                    .with_header(csv.header)
                    .with_delimiter(delimiter(&f.path, csv))
                    .build(file)
                {
                    Ok(r) => Box::new(r),
                    Err(e) => return Some(bad(e.to_string())),
                }
            }
            InputFormat::Ndjson => {
                match datafusion::arrow::json::ReaderBuilder::new(schema)
                    .build(std::io::BufReader::new(file))
                {
                    Ok(r) => Box::new(r),
                    Err(e) => return Some(bad(e.to_string())),
                }
            }
        };
        for batch in batches {
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
