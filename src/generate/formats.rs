//! `generate --format ga4|segment|snowplow`: the generated shop written in
//! a vendor's export schema instead of the canonical one, so the input
//! presets can be tested against the canonical run of the same seed. The
//! canonical files are generated first, then turned into the vendor's
//! tables by the SQL in `formats/*.sql` (GA4's nested records and
//! repeated key/value `event_params` as BigQuery's Parquet export has
//! them), written as Parquet, and the canonical files removed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

use crate::error::{Error, Result};

/// The schema the generated events are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Canonical,
    Ga4,
    Segment,
    Snowplow,
}

impl ExportFormat {
    /// (file name, SQL) of each table of the format, over `generated` (and
    /// `sessions`, the events with their session start).
    fn tables(self) -> &'static [(&'static str, &'static str)] {
        match self {
            ExportFormat::Canonical => &[],
            ExportFormat::Ga4 => &[("events_ga4.parquet", include_str!("formats/ga4.sql"))],
            ExportFormat::Segment => &[
                ("tracks.parquet", include_str!("formats/segment_tracks.sql")),
                ("pages.parquet", include_str!("formats/segment_pages.sql")),
            ],
            ExportFormat::Snowplow => &[(
                "atomic_events.parquet",
                include_str!("formats/snowplow.sql"),
            )],
        }
    }
}

const SESSIONS_SQL: &str = include_str!("formats/sessions.sql");

/// Rewrite the canonical `files` (all of one generated set, in `out`) as
/// the tables of `format`; returns the files written.
pub async fn convert(out: &Path, files: &[PathBuf], format: ExportFormat) -> Result<Vec<PathBuf>> {
    if format == ExportFormat::Canonical {
        return Ok(files.to_vec());
    }
    // plain strings, as the vendors' exports have them (not views)
    let config = SessionConfig::new().set_bool(
        "datafusion.execution.parquet.schema_force_view_types",
        false,
    );
    let ctx = SessionContext::new_with_config(config);
    let paths: Vec<String> = files
        .iter()
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    ctx.register_parquet(
        "generated",
        &paths[0],
        ParquetReadOptions::default().file_extension(""),
    )
    .await?;
    if paths.len() > 1 {
        let df = ctx
            .read_parquet(
                paths.clone(),
                ParquetReadOptions::default().file_extension(""),
            )
            .await?;
        ctx.deregister_table("generated")?;
        ctx.register_table("generated", df.into_view())?;
    }
    let sessions = ctx.sql(SESSIONS_SQL).await?;
    ctx.register_table("sessions", sessions.into_view())?;
    let mut written = Vec::new();
    for (name, sql) in format.tables() {
        let df = ctx.sql(sql).await?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        let path = out.join(name);
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        let parquet = |source| {
            Error::Generate(super::GenerateError::Parquet {
                path: path.clone(),
                source,
            })
        };
        let mut writer = ArrowWriter::try_new(file, schema, None).map_err(parquet)?;
        for batch in &batches {
            writer.write(batch).map_err(parquet)?;
        }
        writer.close().map_err(parquet)?;
        written.push(path);
    }
    for f in files {
        std::fs::remove_file(f).map_err(|e| Error::io(f, e))?;
    }
    Ok(written)
}
