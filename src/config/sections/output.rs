//! `[output]`: where results go and how the Parquet is written.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// A local folder or an object-store URL (`s3://bucket/out`).
    pub dir: Option<String>,
    /// `parquet` (the default) or `delta`.
    pub format: Option<OutputFormat>,
    /// Where a run whose output is an object store or Delta builds its
    /// tables before publishing them there (default: a folder under the
    /// system temp dir named after the output URL).
    pub work_dir: Option<String>,
    /// Parquet zstd level (1-22).
    pub zstd_level: Option<i32>,
    pub max_row_group_size: Option<usize>,
}

/// How tables are published.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// `<table>/as_of=<date>/part-*.parquet` plus the run manifests.
    #[default]
    Parquet,
    /// One Delta Lake table per output table at `<out>/<table>`,
    /// partitioned by `as_of`.
    Delta,
}

impl OutputFormat {
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Parquet => "parquet",
            OutputFormat::Delta => "delta",
        }
    }
}

/// Validated Parquet writing options (the folder is resolved with the
/// command line in [`crate::config::Settings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputSettings {
    pub format: OutputFormat,
    pub zstd_level: i32,
    pub max_row_group_size: usize,
}

impl OutputConfig {
    pub fn validate(&self) -> Result<OutputSettings> {
        let zstd_level = self.zstd_level.unwrap_or(3);
        if !(1..=22).contains(&zstd_level) {
            return Err(Error::setting(
                "output.zstd_level",
                "must be between 1 and 22",
            ));
        }
        let max_row_group_size = self.max_row_group_size.unwrap_or(1 << 20);
        if max_row_group_size == 0 {
            return Err(Error::setting(
                "output.max_row_group_size",
                "must be at least 1 row",
            ));
        }
        let format = self.format.unwrap_or_default();
        if format == OutputFormat::Delta && !cfg!(feature = "delta") {
            return Err(Error::setting(
                "output.format",
                "`delta` needs a build with the `delta` feature (it is on by default)",
            ));
        }
        Ok(OutputSettings {
            format,
            zstd_level,
            max_row_group_size,
        })
    }
}
