//! The TOML config file, as written by the user. Every table rejects unknown
//! keys (the error names the key and its line). Values here are raw; they are
//! validated once into [`crate::config::settings::Settings`].

pub mod sections;
pub mod settings;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub input: InputConfig,
    #[serde(default)]
    pub sessions: SessionsConfig,
    #[serde(default)]
    pub conversions: Vec<ConversionConfig>,
    /// Funnel definitions (see `funnel_config`).
    #[serde(default)]
    pub funnels: Vec<crate::config::sections::funnels::FunnelConfig>,
    /// Channel rules, first match wins; empty means the built-in defaults.
    #[serde(default)]
    pub channels: Vec<ChannelRuleConfig>,
    #[serde(default)]
    pub journeys: crate::config::sections::attribution::JourneysConfig,
    #[serde(default)]
    pub attribution: crate::config::sections::attribution::AttributionConfig,
    #[serde(default)]
    pub queries: QueriesConfig,
    #[serde(default)]
    pub output: OutputConfig,
    #[serde(default)]
    pub engine: EngineConfig,
    /// Customer lifetime value models (`[clv]`).
    #[serde(default)]
    pub clv: crate::config::sections::clv::ClvConfig,
    /// Passed through to DataFusion's `ConfigOptions::set` (e.g.
    /// `"execution.target_partitions" = "2"`).
    #[serde(default)]
    pub datafusion: BTreeMap<String, toml::Value>,
    /// Extra named SQL parameters for the user's own queries (`$name`).
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    /// Micro-conversion lift settings.
    #[serde(default)]
    pub lift: crate::config::sections::lift::LiftConfig,
    /// A/B experiments found in the events (control, conversions, split).
    #[serde(default)]
    pub experiments: Vec<crate::config::sections::lift::ExperimentConfig>,
    /// Retargeting audiences.
    #[serde(default)]
    pub audiences: Vec<crate::config::sections::lift::AudienceConfig>,
}

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
    /// Unit of integer `event_time` values: s | ms | us | auto (by magnitude).
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsConfig {
    /// Inactivity timeout, e.g. "30m".
    pub timeout: Option<String>,
    /// Event names counted as page views.
    pub pageview_events: Option<Vec<String>>,
    /// A session is engaged when it lasts at least this long ("10s") ...
    pub engaged_duration: Option<String>,
    /// ... or has at least this many page views, or a macro conversion.
    pub engaged_pageviews: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConversionConfig {
    pub name: String,
    pub kind: String,
    pub stage: Option<String>,
    pub scope: Option<String>,
    pub when: String,
    pub value: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRuleConfig {
    pub name: String,
    pub when: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QueriesConfig {
    /// Folders of the user's own `.sql` files.
    #[serde(default)]
    pub dirs: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    pub dir: Option<String>,
    /// Parquet zstd level (1-22).
    pub zstd_level: Option<i32>,
    pub max_row_group_size: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// e.g. "4GiB"; DataFusion spills to disk beyond it.
    pub memory_limit: Option<String>,
    pub spill_dir: Option<String>,
}

impl Config {
    /// Parse a config from TOML text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        toml::from_str(text).map_err(|e| Error::ConfigParse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let err = Config::parse("[input]\nevents = []\nevnts = 1\n", Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("evnts"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn unknown_table_is_named() {
        let err = Config::parse("[sesions]\ntimeout='1m'\n", Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("sesions"), "{err}");
    }
}
