//! Everything about configuration, in one place: the TOML file as written
//! ([`Config`], one module per section under `sections/`), text units, and
//! the validated [`Settings`] resolved once from flags, then environment,
//! then file, then defaults. Nothing outside this module re-validates user input, and
//! nothing in it touches a `SessionContext` or reads event data.

pub mod sections;
pub mod settings;
pub mod units;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use sections::attribution::{AttributionConfig, JourneysConfig};
use sections::channels::ChannelRuleConfig;
use sections::clv::ClvConfig;
use sections::conversions::ConversionConfig;
use sections::engine::EngineConfig;
use sections::funnels::FunnelConfig;
use sections::input::InputConfig;
use sections::lift::{AudienceConfig, ExperimentConfig, LiftConfig};
use sections::output::OutputConfig;
use sections::sessions::SessionsConfig;

pub use settings::{Env, ProcessEnv, Settings};

/// The config file as written. Every table rejects unknown keys (the error
/// names the key and its line).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub input: InputConfig,
    #[serde(default)]
    pub sessions: SessionsConfig,
    #[serde(default)]
    pub conversions: Vec<ConversionConfig>,
    #[serde(default)]
    pub funnels: Vec<FunnelConfig>,
    /// Channel rules, first match wins; empty means the built-in defaults.
    #[serde(default)]
    pub channels: Vec<ChannelRuleConfig>,
    #[serde(default)]
    pub journeys: JourneysConfig,
    #[serde(default)]
    pub attribution: AttributionConfig,
    #[serde(default)]
    pub queries: QueriesConfig,
    #[serde(default)]
    pub output: OutputConfig,
    #[serde(default)]
    pub engine: EngineConfig,
    #[serde(default)]
    pub clv: ClvConfig,
    /// Passed through to DataFusion's `ConfigOptions::set` (e.g.
    /// `"execution.target_partitions" = "2"`).
    #[serde(default)]
    pub datafusion: BTreeMap<String, toml::Value>,
    /// Extra named SQL parameters for the user's own queries (`$name`).
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub lift: LiftConfig,
    /// A/B experiments found in the events (control, conversions, split).
    #[serde(default)]
    pub experiments: Vec<ExperimentConfig>,
    /// Retargeting audiences.
    #[serde(default)]
    pub audiences: Vec<AudienceConfig>,
    /// Identity stitching: anonymous ids to the user id they logged in as.
    #[serde(default)]
    pub identity: sections::input::IdentityConfig,
    /// Object store overrides (endpoint, region, plain http, path style).
    #[serde(default)]
    pub storage: sections::storage::StorageConfig,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QueriesConfig {
    /// Folders of the user's own `.sql` files.
    #[serde(default)]
    pub dirs: Vec<String>,
}

impl Config {
    /// Parse a config from TOML text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        toml::from_str(text).map_err(|e| Error::ConfigParse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })
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

    #[test]
    fn a_value_outside_a_closed_set_is_named_with_its_line_and_the_choices() {
        let text = "[[conversions]]\nname = \"a\"\nkind = \"mega\"\nwhen = \"true\"\n";
        let err = Config::parse(text, Path::new("x.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 3") && text.contains("mega"), "{text}");
        assert!(text.contains("micro") && text.contains("macro"), "{text}");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn closed_sets_serialize_as_written() {
        // the manifest records the config as JSON: enums keep their spelling
        let text = "[input.time]\nunit = \"ms\"\n[[conversions]]\nname = \"a\"\nkind = \"micro\"\nstage = \"BOF\"\nwhen = \"true\"\n";
        let config = Config::parse(text, Path::new("x.toml")).unwrap();
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["input"]["time"]["unit"], "ms");
        assert_eq!(json["conversions"][0]["kind"], "micro");
        assert_eq!(json["conversions"][0]["stage"], "BOF");
    }
}
