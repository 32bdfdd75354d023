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
    /// canonical column name = column name in the source; another name
    /// adds that column (see `keep`)
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
    /// A vendor export's mapping (`ga4`, `segment`, `snowplow`); entries of
    /// `columns` override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<super::presets::Preset>,
    /// `parquet`, `csv` or `ndjson` (default: by each file's extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<InputFormat>,
    /// How CSV files are read.
    #[serde(default)]
    pub csv: CsvConfig,
    /// Source columns carried through as columns of `events` and
    /// `session_events` (named in lowercase), for conversions, channel
    /// rules and your own queries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<String>,
}

/// Names a kept column may not have: the columns `events` and
/// `session_events` already have, and the intermediate columns of the
/// queries that carry kept columns through (`flag.sql`,
/// `session_events.sql`), which select them as `* EXCEPT (...)`.
pub const RESERVED_KEEP_NAMES: [&str; 16] = [
    "anonymous_id",
    "event_seq",
    "dwell_seconds",
    "reject_reason",
    "user_bucket",
    "session_bucket",
    "rn",
    "prev_user",
    "prev_time",
    "is_new",
    "packed_start",
    "next_user",
    "next_time",
    "prev_session",
    "first_rn",
    "next_session",
];

/// `[identity]`: follow people across devices and logins.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// Map every `user_id` (an anonymous or device id) that was seen with a
    /// login to the last login it was seen with (default `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stitch: Option<bool>,
    /// Where the login id comes from, in the notation of `[input.columns]`
    /// (default: the preset's, `user_id` for GA4, Segment and Snowplow,
    /// else a column `login_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
}

/// Validated `[identity]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentitySettings {
    pub stitch: bool,
    /// The login id's source; `None` when not stitching.
    pub login: Option<String>,
}

impl IdentityConfig {
    pub fn validate(&self, preset: Option<super::presets::Preset>) -> Result<IdentitySettings> {
        let stitch = self.stitch.unwrap_or(false);
        if !stitch {
            if self.login.is_some() {
                return Err(Error::setting(
                    "identity.login",
                    "is only read with [identity] stitch = true",
                ));
            }
            return Ok(IdentitySettings::default());
        }
        let login = self
            .login
            .clone()
            .or_else(|| preset.and_then(|p| p.login()).map(str::to_string))
            .unwrap_or_else(|| "login_id".to_string());
        Ok(IdentitySettings {
            stitch,
            login: Some(login),
        })
    }
}

/// The format of the input files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    Parquet,
    Csv,
    Ndjson,
}

impl InputFormat {
    /// The format of a file named `name`, by its extension (`.parquet`,
    /// `.parq`; `.csv`, `.tsv`; `.ndjson`, `.jsonl`, `.json`).
    pub fn of_file(name: &str) -> Option<InputFormat> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "parquet" | "parq" => Some(InputFormat::Parquet),
            "csv" | "tsv" => Some(InputFormat::Csv),
            "ndjson" | "jsonl" | "json" => Some(InputFormat::Ndjson),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CsvConfig {
    /// One character; `"\t"` for tab-separated files (default `,`; `\t`
    /// for `.tsv` files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// The first line names the columns (default `true`); without one the
    /// columns are `column_1`, `column_2`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<bool>,
}

/// Validated `[input.csv]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvSettings {
    /// `None`: `,`, or tab for `.tsv` files.
    pub delimiter: Option<u8>,
    pub header: bool,
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
    /// `None`: by each file's extension.
    pub format: Option<InputFormat>,
    pub csv: CsvSettings,
    /// Source columns kept: (name, source), see [`InputConfig::kept`].
    pub keep: Vec<(String, String)>,
    /// `[identity]` (set by [`crate::config::Settings`]).
    pub identity: IdentitySettings,
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
    /// The kept columns, (name, source): each of `keep` (the source
    /// column, named in lowercase), then each `[input.columns]` entry whose
    /// key is not a canonical column (`engagement_time_msec =
    /// "param:engagement_time_msec"`: a column named by its key). Names are
    /// checked: plain SQL names, none twice, none a canonical or reserved
    /// column, none starting with `_`.
    fn kept(&self) -> Result<Vec<(String, String)>> {
        let listed = self
            .keep
            .iter()
            .map(|n| ("input.keep".to_string(), n.to_ascii_lowercase(), n.clone()));
        let mapped = self
            .columns
            .iter()
            .filter(|(key, _)| schema::column(key).is_none())
            .map(|(key, source)| {
                (
                    format!("input.columns.{key}"),
                    key.to_ascii_lowercase(),
                    source.clone(),
                )
            });
        // a key that is a canonical name but for `_` and case is a typo,
        // not a new column
        let squash = |n: &str| n.replace('_', "").to_ascii_lowercase();
        for key in self.columns.keys().filter(|k| schema::column(k).is_none()) {
            if let Some(c) = schema::COLUMNS
                .iter()
                .find(|c| squash(c.name) == squash(key))
            {
                return Err(Error::setting(
                    format!("input.columns.{key}"),
                    format!(
                        "`{key}` is not a canonical column: did you mean `{}`?",
                        c.name
                    ),
                ));
            }
        }
        let mut kept: Vec<(String, String)> = Vec::new();
        for (setting, lower, source) in listed.chain(mapped) {
            let bad = |why: &str| {
                Error::setting(setting.clone(), format!("cannot keep `{lower}`: {why}"))
            };
            let plain = lower.starts_with(|c: char| c.is_ascii_lowercase())
                && lower
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !plain {
                return Err(bad(
                    "a kept column needs a plain name (letters, digits and _, starting with a letter)",
                ));
            }
            if schema::column(&lower).is_some() || RESERVED_KEEP_NAMES.contains(&lower.as_str()) {
                return Err(bad("events already has a column of that name"));
            }
            if kept.iter().any(|(n, _)| *n == lower) {
                return Err(bad("it is listed twice"));
            }
            kept.push((lower, source));
        }
        Ok(kept)
    }

    pub fn validate(&self) -> Result<InputSettings> {
        let columns = schema::COLUMNS
            .iter()
            .map(|c| {
                let source = self
                    .columns
                    .get(c.name)
                    .cloned()
                    .or_else(|| {
                        self.preset
                            .and_then(|p| p.source_of(c.name))
                            .map(str::to_string)
                    })
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
        let delimiter = match self.csv.delimiter.as_deref() {
            None => None,
            Some("\\t") | Some("\t") => Some(b'\t'),
            Some(d) if d.len() == 1 && d.is_ascii() => Some(d.as_bytes()[0]),
            Some(d) => {
                return Err(Error::setting(
                    "input.csv.delimiter",
                    format!("`{d}` is not one ASCII character (use \"\\t\" for tab)"),
                ))
            }
        };
        let keep = self.kept()?;
        Ok(InputSettings {
            identity: IdentitySettings::default(),
            keep,
            columns,
            epoch_unit: self.time.unit.unwrap_or_default(),
            future_margin_seconds,
            dedupe,
            format: self.format,
            csv: CsvSettings {
                delimiter,
                header: self.csv.header.unwrap_or(true),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(delimiter: &str) -> Result<CsvSettings> {
        let config: InputConfig =
            toml::from_str(&format!("csv = {{ delimiter = {delimiter:?} }}")).unwrap();
        config.validate().map(|s| s.csv)
    }

    #[test]
    fn csv_delimiters_are_one_character_or_a_tab() {
        assert_eq!(csv(";").unwrap().delimiter, Some(b';'));
        assert_eq!(csv("\\t").unwrap().delimiter, Some(b'\t'));
        assert_eq!(csv("\t").unwrap().delimiter, Some(b'\t'));
        let err = csv(";;").unwrap_err().to_string();
        assert!(err.contains("input.csv.delimiter"), "{err}");
    }

    #[test]
    fn formats_come_from_extensions() {
        assert_eq!(
            InputFormat::of_file("a/b.PARQUET"),
            Some(InputFormat::Parquet)
        );
        assert_eq!(InputFormat::of_file("x.tsv"), Some(InputFormat::Csv));
        assert_eq!(InputFormat::of_file("x.jsonl"), Some(InputFormat::Ndjson));
        assert_eq!(InputFormat::of_file("x.csv.gz"), None);
        assert_eq!(InputFormat::of_file("events_20260101"), None);
    }
}
