//! `[engine]` and `[datafusion]`: where queries run (this process, an
//! in-process Ballista cluster, or a Ballista cluster), memory, spilling,
//! and DataFusion options passed through as they are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// `local` (default), `standalone` or `cluster`.
    pub mode: Option<String>,
    /// The scheduler of a `cluster`: `df://host:port`.
    pub url: Option<String>,
    /// e.g. "4GiB": the run's budget; DataFusion's pool gets 7/8 of it
    /// and spills to disk beyond that.
    pub memory_limit: Option<String>,
    pub spill_dir: Option<String>,
    /// Tables computed at the same time, when the DAG allows (default:
    /// 2 on the local engine without a memory limit, else 1).
    pub parallel_tables: Option<usize>,
}

/// The port a Ballista scheduler listens on unless told otherwise.
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;

/// Where a job's queries execute.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EngineMode {
    /// One DataFusion session in this process.
    #[default]
    Local,
    /// Ballista: a scheduler and an executor started inside this process.
    Standalone,
    /// Ballista: the scheduler at `host:port`, with its executors.
    Cluster { host: String, port: u16 },
}

impl EngineMode {
    /// `local`, `standalone`, or `df://host:port`, as `--engine` takes it.
    pub fn parse_flag(key: &str, text: &str) -> Result<EngineMode> {
        match text {
            "local" => Ok(EngineMode::Local),
            "standalone" => Ok(EngineMode::Standalone),
            url if url.contains("://") => Self::cluster(key, url),
            other => Err(Error::setting(
                key,
                format!("`{other}` is not local, standalone or a df://host:port scheduler"),
            )),
        }
    }

    /// `[engine] mode` and `url`.
    pub fn from_config(config: &EngineConfig) -> Result<EngineMode> {
        match (config.mode.as_deref(), config.url.as_deref()) {
            (None | Some("local"), None) => Ok(EngineMode::Local),
            (Some("standalone"), None) => Ok(EngineMode::Standalone),
            (Some("cluster"), Some(url)) => Self::cluster("engine.url", url),
            (Some("cluster"), None) => Err(Error::setting(
                "engine.url",
                "mode = \"cluster\" needs the scheduler's url = \"df://host:port\"",
            )),
            (None | Some("local" | "standalone"), Some(_)) => Err(Error::setting(
                "engine.url",
                "a scheduler url is only used with mode = \"cluster\"",
            )),
            (Some(other), _) => Err(Error::setting(
                "engine.mode",
                format!("`{other}` is not local, standalone or cluster"),
            )),
        }
    }

    fn cluster(key: &str, text: &str) -> Result<EngineMode> {
        let bad = |why: &str| Error::setting(key, format!("`{text}`: {why}"));
        let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "df" {
            return Err(bad("a Ballista scheduler is addressed as df://host:port"));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no scheduler host"))?;
        if !matches!(url.path(), "" | "/") {
            return Err(bad("a scheduler address has no path"));
        }
        Ok(EngineMode::Cluster {
            host: host.to_string(),
            port: url.port().unwrap_or(DEFAULT_SCHEDULER_PORT),
        })
    }

    /// Whether queries run on Ballista (in this process or not).
    pub fn is_distributed(&self) -> bool {
        !matches!(self, EngineMode::Local)
    }

    /// How the run summary and the manifest name it.
    pub fn describe(&self) -> String {
        match self {
            EngineMode::Local => "local".into(),
            EngineMode::Standalone => "standalone".into(),
            EngineMode::Cluster { host, port } => format!("df://{host}:{port}"),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(mode: Option<&str>, url: Option<&str>) -> EngineConfig {
        EngineConfig {
            mode: mode.map(String::from),
            url: url.map(String::from),
            ..Default::default()
        }
    }

    #[test]
    fn modes_from_the_config() {
        assert_eq!(
            EngineMode::from_config(&config(None, None)).unwrap(),
            EngineMode::Local
        );
        assert_eq!(
            EngineMode::from_config(&config(Some("standalone"), None)).unwrap(),
            EngineMode::Standalone
        );
        assert_eq!(
            EngineMode::from_config(&config(Some("cluster"), Some("df://sched.internal:6000")))
                .unwrap(),
            EngineMode::Cluster {
                host: "sched.internal".into(),
                port: 6000
            }
        );
        assert_eq!(
            EngineMode::from_config(&config(Some("cluster"), Some("df://10.0.0.5"))).unwrap(),
            EngineMode::Cluster {
                host: "10.0.0.5".into(),
                port: 50050
            }
        );
        for (mode, url, key) in [
            (Some("cluster"), None, "engine.url"),
            (Some("local"), Some("df://h:1"), "engine.url"),
            (Some("gpu"), None, "engine.mode"),
            (Some("cluster"), Some("http://h:1"), "engine.url"),
            (Some("cluster"), Some("df://h:1/x"), "engine.url"),
        ] {
            let err = EngineMode::from_config(&config(mode, url)).unwrap_err();
            assert!(err.to_string().contains(key), "{err}");
            assert_eq!(err.exit_code(), 2);
        }
    }

    #[test]
    fn modes_from_the_flag() {
        assert_eq!(
            EngineMode::parse_flag("--engine", "local").unwrap(),
            EngineMode::Local
        );
        assert_eq!(
            EngineMode::parse_flag("--engine", "df://localhost:50123").unwrap(),
            EngineMode::Cluster {
                host: "localhost".into(),
                port: 50123
            }
        );
        let err = EngineMode::parse_flag("--engine", "ballista").unwrap_err();
        assert!(err.to_string().contains("--engine") && err.to_string().contains("ballista"));
    }
}
