//! `[output]`: where results go and how the Parquet is written.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    pub dir: Option<String>,
    /// Parquet zstd level (1-22).
    pub zstd_level: Option<i32>,
    pub max_row_group_size: Option<usize>,
}

/// Validated Parquet writing options (the folder is resolved with the
/// command line in [`crate::config::Settings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputSettings {
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
        Ok(OutputSettings {
            zstd_level,
            max_row_group_size,
        })
    }
}
