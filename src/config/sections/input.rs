//! `[input]`: where the events are and how source columns map onto the
//! canonical `events` schema.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::schema;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// Parquet files, directories (recursive, Hive partitions) or globs.
    #[serde(default)]
    pub events: Vec<String>,
    /// canonical column name = column name in the source
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    #[serde(default)]
    pub time: TimeConfig,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimeConfig {
    /// Unit of integer `event_time` values.
    pub unit: Option<EpochUnit>,
}

/// How integer `event_time` values are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum EpochUnit {
    #[serde(rename = "s")]
    Seconds,
    #[serde(rename = "ms")]
    Millis,
    #[serde(rename = "us")]
    Micros,
    /// By magnitude: < 1e11 seconds, < 1e14 milliseconds, else microseconds.
    #[default]
    #[serde(rename = "auto")]
    Auto,
}

/// Validated `[input]`, less the event locations (which the command line
/// may replace; see [`crate::config::Settings`]).
#[derive(Debug, Clone)]
pub struct InputSettings {
    /// canonical name -> source column name, for every canonical column
    pub columns: BTreeMap<&'static str, String>,
    pub epoch_unit: EpochUnit,
}

impl InputConfig {
    pub fn validate(&self) -> Result<InputSettings> {
        for key in self.columns.keys() {
            if schema::column(key).is_none() {
                let names: Vec<_> = schema::COLUMNS.iter().map(|c| c.name).collect();
                return Err(Error::setting(
                    format!("input.columns.{key}"),
                    format!("`{key}` is not a canonical column ({})", names.join(", ")),
                ));
            }
        }
        let columns = schema::COLUMNS
            .iter()
            .map(|c| {
                let source = self
                    .columns
                    .get(c.name)
                    .cloned()
                    .unwrap_or_else(|| c.name.to_string());
                (c.name, source)
            })
            .collect();
        Ok(InputSettings {
            columns,
            epoch_unit: self.time.unit.unwrap_or_default(),
        })
    }
}
