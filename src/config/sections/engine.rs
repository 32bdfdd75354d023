//! `[engine]` and `[datafusion]`: memory, spilling, and DataFusion options
//! passed through as they are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// e.g. "4GiB"; DataFusion spills to disk beyond it.
    pub memory_limit: Option<String>,
    pub spill_dir: Option<String>,
}

/// `[datafusion]` as `(key, value)` text pairs for `ConfigOptions::set`;
/// unknown keys are reported by DataFusion when the context is built.
pub fn datafusion_options(table: &BTreeMap<String, toml::Value>) -> Vec<(String, String)> {
    table
        .iter()
        .map(|(k, v)| {
            let value = match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), value)
        })
        .collect()
}
