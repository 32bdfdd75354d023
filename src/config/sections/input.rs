//! `[input]`: where the events are and how source columns map onto the
//! canonical `events` schema.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::units::parse_duration;
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
    /// Events later than the run's clock plus this margin are rejected as
    /// `event_time in the future` (default "1d").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub future_margin: Option<String>,
    /// Source columns whose values identify a row when it has no
    /// `event_id` (default: every source column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe_key: Option<Vec<String>>,
    /// `false` keeps every row, duplicates included (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<bool>,
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
    pub future_margin_seconds: i64,
    pub dedupe: Dedupe,
}

/// How duplicate rows are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dedupe {
    /// By `event_id`; rows without one by a hash of the whole source row
    /// (every source column, mapped or not).
    WholeRow,
    /// By `event_id`; rows without one by a hash of these source columns.
    Key(Vec<String>),
    /// Keep every row.
    Off,
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
        let future_margin_seconds = parse_duration(self.future_margin.as_deref().unwrap_or("1d"))
            .map_err(|m| Error::setting("input.future_margin", m))?;
        let dedupe = match (self.dedupe.unwrap_or(true), &self.dedupe_key) {
            (true, None) => Dedupe::WholeRow,
            (true, Some(key)) if key.is_empty() || key.iter().any(|k| k.trim().is_empty()) => {
                return Err(Error::setting(
                    "input.dedupe_key",
                    "name at least one source column, e.g. [\"order_id\", \"line\"]",
                ))
            }
            (true, Some(key)) => Dedupe::Key(key.clone()),
            (false, None) => Dedupe::Off,
            (false, Some(_)) => {
                return Err(Error::setting(
                    "input.dedupe_key",
                    "cannot be used with dedupe = false",
                ))
            }
        };
        Ok(InputSettings {
            columns,
            epoch_unit: self.time.unit.unwrap_or_default(),
            future_margin_seconds,
            dedupe,
        })
    }
}
