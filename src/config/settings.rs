//! Validated settings, built once from CLI > environment > config file >
//! defaults. Nothing after this module re-validates user input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use datafusion::scalar::ScalarValue;
use sha2::{Digest, Sha256};

use crate::cli::CommonArgs;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::schema;

pub const DEFAULT_CONFIG: &str = "microconv.toml";

/// How integer `event_time` values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochUnit {
    Seconds,
    Millis,
    Micros,
    /// By magnitude: < 1e11 seconds, < 1e14 milliseconds, else microseconds.
    Auto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversionKind {
    Micro,
    Macro,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Event,
    Session,
}

/// One validated conversion definition.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub name: String,
    pub kind: ConversionKind,
    pub stage: Option<String>,
    pub scope: Scope,
    pub when: String,
    pub value: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ChannelRule {
    pub name: String,
    pub when: String,
}

/// Everything a command needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config_path: Option<PathBuf>,
    pub config_sha256: String,
    pub config: Config,
    pub events: Vec<String>,
    /// canonical name -> source column name, for every canonical column
    pub columns: BTreeMap<&'static str, String>,
    pub epoch_unit: EpochUnit,
    pub session_timeout_seconds: i64,
    pub pageview_events: Vec<String>,
    pub engaged_seconds: i64,
    pub engaged_pageviews: i64,
    pub conversions: Vec<Conversion>,
    pub funnels: Vec<crate::config::sections::funnels::Funnel>,
    pub channel_rules: Vec<ChannelRule>,
    /// `[journeys]` and `[attribution]`.
    pub attribution: crate::config::sections::attribution::AttributionSettings,
    pub query_dirs: Vec<PathBuf>,
    pub out_dir: PathBuf,
    pub as_of: Option<NaiveDate>,
    pub memory_limit: Option<usize>,
    pub spill_dir: Option<PathBuf>,
    pub zstd_level: i32,
    pub max_row_group_size: usize,
    pub datafusion: Vec<(String, String)>,
    pub params: Vec<(String, ScalarValue)>,
    pub clv: crate::config::sections::clv::ClvSettings,
    pub lift: crate::config::sections::lift::LiftSettings,
}

/// Environment lookup, injectable for tests.
pub trait Env {
    fn var(&self, key: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

impl Settings {
    /// Resolve settings: CLI flags win over `MICROCONV_*` variables, which
    /// win over the config file, which wins over built-in defaults.
    pub fn resolve(args: &CommonArgs, env: &dyn Env) -> Result<Settings> {
        let explicit = args
            .config
            .clone()
            .or_else(|| env.var("MICROCONV_CONFIG").map(PathBuf::from));
        let (config_path, text) = match explicit {
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|source| Error::ConfigRead {
                    path: p.clone(),
                    source,
                })?;
                (Some(p), text)
            }
            None if Path::new(DEFAULT_CONFIG).exists() => {
                let p = PathBuf::from(DEFAULT_CONFIG);
                let text = std::fs::read_to_string(&p).map_err(|source| Error::ConfigRead {
                    path: p.clone(),
                    source,
                })?;
                (Some(p), text)
            }
            None => (None, String::new()),
        };
        let config = Config::parse(&text, config_path.as_deref().unwrap_or(Path::new("<none>")))?;
        let base = config_path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Self::from_parts(args, env, config, config_path, &text, &base)
    }

    /// Build settings from already-parsed parts; `base` is the directory
    /// that relative paths in the config are resolved against.
    pub fn from_parts(
        args: &CommonArgs,
        env: &dyn Env,
        config: Config,
        config_path: Option<PathBuf>,
        config_text: &str,
        base: &Path,
    ) -> Result<Settings> {
        let rel = |p: &str| -> String {
            if Path::new(p).is_absolute() || base.as_os_str().is_empty() {
                p.to_string()
            } else {
                base.join(p).to_string_lossy().into_owned()
            }
        };
        let events = if !args.events.is_empty() {
            args.events.clone()
        } else {
            config.input.events.iter().map(|e| rel(e)).collect()
        };
        let out_dir = args
            .out
            .clone()
            .or_else(|| env.var("MICROCONV_OUT").map(PathBuf::from))
            .or_else(|| config.output.dir.as_deref().map(|d| PathBuf::from(rel(d))))
            .unwrap_or_else(|| PathBuf::from("out"));
        let memory_limit = match args
            .memory_limit
            .clone()
            .or_else(|| env.var("MICROCONV_MEMORY_LIMIT"))
            .or_else(|| config.engine.memory_limit.clone())
        {
            Some(s) => Some(parse_size(&s).map_err(|m| Error::setting("memory_limit", m))?),
            None => None,
        };
        let spill_dir = env
            .var("MICROCONV_SPILL_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                config
                    .engine
                    .spill_dir
                    .as_deref()
                    .map(|d| PathBuf::from(rel(d)))
            });
        let as_of = args
            .as_of
            .as_deref()
            .map(|s| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                    Error::setting("--as-of", format!("`{s}` is not a YYYY-MM-DD date"))
                })
            })
            .transpose()?;
        let mut query_dirs: Vec<PathBuf> = config
            .queries
            .dirs
            .iter()
            .map(|d| PathBuf::from(rel(d)))
            .collect();
        query_dirs.extend(args.query_dirs.iter().cloned());

        let columns = resolve_columns(&config)?;
        let epoch_unit = match config.input.time.unit.as_deref() {
            None | Some("auto") => EpochUnit::Auto,
            Some("s") => EpochUnit::Seconds,
            Some("ms") => EpochUnit::Millis,
            Some("us") => EpochUnit::Micros,
            Some(other) => {
                return Err(Error::setting(
                    "input.time.unit",
                    format!("`{other}` is not one of s, ms, us, auto"),
                ))
            }
        };
        let timeout = config.sessions.timeout.as_deref().unwrap_or("30m");
        let session_timeout_seconds =
            parse_duration(timeout).map_err(|m| Error::setting("sessions.timeout", m))?;
        let engaged = config.sessions.engaged_duration.as_deref().unwrap_or("10s");
        let engaged_seconds =
            parse_duration(engaged).map_err(|m| Error::setting("sessions.engaged_duration", m))?;
        let conversions = resolve_conversions(&config)?;
        let funnels = crate::config::sections::funnels::resolve(&config.funnels, &conversions)?;
        let channel_rules = if config.channels.is_empty() {
            default_channel_rules()
        } else {
            config
                .channels
                .iter()
                .map(|c| ChannelRule {
                    name: c.name.clone(),
                    when: c.when.clone(),
                })
                .collect()
        };
        let datafusion = config
            .datafusion
            .iter()
            .map(|(k, v)| (k.clone(), toml_to_string(v)))
            .collect();
        let params = resolve_params(&config)?;
        let attribution =
            crate::config::sections::attribution::resolve(&config.journeys, &config.attribution, &rel)?;
        let clv = crate::config::sections::clv::ClvSettings::from_config(&config.clv)?;
        let lift = crate::config::sections::lift::resolve(&config, &conversions)?;
        let zstd_level = config.output.zstd_level.unwrap_or(3);
        if !(1..=22).contains(&zstd_level) {
            return Err(Error::setting(
                "output.zstd_level",
                "must be between 1 and 22",
            ));
        }
        Ok(Settings {
            config_sha256: hex::encode(Sha256::digest(config_text.as_bytes())),
            config_path,
            events,
            columns,
            epoch_unit,
            session_timeout_seconds,
            pageview_events: config
                .sessions
                .pageview_events
                .clone()
                .unwrap_or_else(|| vec!["page_view".into(), "product_view".into()]),
            engaged_seconds,
            engaged_pageviews: i64::from(config.sessions.engaged_pageviews.unwrap_or(2)),
            conversions,
            funnels,
            channel_rules,
            attribution,
            query_dirs,
            out_dir,
            as_of,
            memory_limit,
            spill_dir,
            zstd_level,
            max_row_group_size: config.output.max_row_group_size.unwrap_or(1 << 20),
            datafusion,
            params,
            clv,
            lift,
            config,
        })
    }
}

fn resolve_columns(config: &Config) -> Result<BTreeMap<&'static str, String>> {
    for key in config.input.columns.keys() {
        if schema::column(key).is_none() {
            let names: Vec<_> = schema::COLUMNS.iter().map(|c| c.name).collect();
            return Err(Error::setting(
                format!("input.columns.{key}"),
                format!("`{key}` is not a canonical column ({})", names.join(", ")),
            ));
        }
    }
    Ok(schema::COLUMNS
        .iter()
        .map(|c| {
            let source = config
                .input
                .columns
                .get(c.name)
                .cloned()
                .unwrap_or_else(|| c.name.to_string());
            (c.name, source)
        })
        .collect())
}

fn resolve_conversions(config: &Config) -> Result<Vec<Conversion>> {
    let mut seen = std::collections::BTreeSet::new();
    config
        .conversions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let key = |k: &str| format!("conversions[{i}].{k} ({})", c.name);
            if !is_identifier(&c.name) {
                return Err(Error::setting(
                    key("name"),
                    "use lowercase letters, digits and _",
                ));
            }
            if !seen.insert(c.name.clone()) {
                return Err(Error::setting(key("name"), "defined twice"));
            }
            let kind = match c.kind.as_str() {
                "micro" => ConversionKind::Micro,
                "macro" => ConversionKind::Macro,
                other => {
                    return Err(Error::setting(
                        key("kind"),
                        format!("`{other}` is not micro or macro"),
                    ))
                }
            };
            let scope = match c.scope.as_deref().unwrap_or("event") {
                "event" => Scope::Event,
                "session" => Scope::Session,
                other => {
                    return Err(Error::setting(
                        key("scope"),
                        format!("`{other}` is not event or session"),
                    ))
                }
            };
            if let Some(stage) = &c.stage {
                if !["TOF", "MOF", "BOF"].contains(&stage.as_str()) {
                    return Err(Error::setting(
                        key("stage"),
                        format!("`{stage}` is not TOF, MOF or BOF"),
                    ));
                }
            }
            Ok(Conversion {
                name: c.name.clone(),
                kind,
                stage: c.stage.clone(),
                scope,
                when: c.when.clone(),
                value: c.value.clone(),
                description: c.description.clone(),
            })
        })
        .collect()
}

fn resolve_params(config: &Config) -> Result<Vec<(String, ScalarValue)>> {
    config
        .params
        .iter()
        .map(|(k, v)| {
            let key = format!("params.{k}");
            if !is_identifier(k) {
                return Err(Error::setting(key, "use lowercase letters, digits and _"));
            }
            let value = match v {
                toml::Value::String(s) => ScalarValue::Utf8(Some(s.clone())),
                toml::Value::Integer(i) => ScalarValue::Int64(Some(*i)),
                toml::Value::Float(f) => ScalarValue::Float64(Some(*f)),
                toml::Value::Boolean(b) => ScalarValue::Boolean(Some(*b)),
                _ => return Err(Error::setting(key, "must be a string, number or boolean")),
            };
            Ok((k.clone(), value))
        })
        .collect()
}

fn toml_to_string(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// The built-in channel rules (first match wins), used when the config
/// has no `[[channels]]`.
pub fn default_channel_rules() -> Vec<ChannelRule> {
    let rules: [(&str, &str); 7] = [
        ("paid_social", "lower(medium) IN ('paid_social', 'paidsocial', 'social_paid', 'cpc_social')"),
        ("paid_search", "lower(medium) IN ('cpc', 'ppc', 'paidsearch', 'paid_search')"),
        ("email", "lower(medium) IN ('email', 'e-mail', 'newsletter')"),
        ("organic", "lower(medium) IN ('organic', 'organic_search')"),
        ("organic_social", "lower(medium) IN ('social', 'organic_social')"),
        ("referral", "lower(medium) = 'referral'"),
        (
            "direct",
            "(source IS NULL OR source IN ('(direct)', 'direct')) AND (medium IS NULL OR medium IN ('(none)', '(not set)', 'none'))",
        ),
    ];
    rules
        .iter()
        .map(|(n, w)| ChannelRule {
            name: n.to_string(),
            when: w.to_string(),
        })
        .collect()
}

/// Parse durations such as `30m`, `7d`, `90s`, `2h`, `1w` into seconds.
pub fn parse_duration(s: &str) -> std::result::Result<i64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30m, 7d, 90s"))?;
    let mult = match unit.trim() {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "`{s}` is not a duration like 30m, 7d, 90s (units s, m, h, d, w)"
            ))
        }
    };
    Ok(n * mult)
}

/// Parse sizes such as `4GiB`, `512MB`, `1048576` into bytes.
pub fn parse_size(s: &str) -> std::result::Result<usize, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 4GiB or 512MB"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" => 1e12,
        "tib" => 1024f64.powi(4),
        _ => return Err(format!("`{s}` is not a size like 4GiB or 512MB")),
    };
    Ok((n * mult) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct FakeEnv(HashMap<&'static str, &'static str>);
    impl Env for FakeEnv {
        fn var(&self, key: &str) -> Option<String> {
            self.0.get(key).map(|v| v.to_string())
        }
    }

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("t.toml")).unwrap()
    }

    fn settings(args: &CommonArgs, env: &[(&'static str, &'static str)], text: &str) -> Settings {
        let env = FakeEnv(env.iter().cloned().collect());
        Settings::from_parts(args, &env, config(text), None, text, Path::new("")).unwrap()
    }

    const CFG: &str = "[output]\ndir = \"cfg_out\"\n[engine]\nmemory_limit = \"1GiB\"\n";

    #[test]
    fn precedence_cli_over_env_over_config_over_default() {
        let none = CommonArgs::default();
        // defaults
        let s = settings(&none, &[], "");
        assert_eq!(s.out_dir, PathBuf::from("out"));
        assert_eq!(s.memory_limit, None);
        // config beats default
        let s = settings(&none, &[], CFG);
        assert_eq!(s.out_dir, PathBuf::from("cfg_out"));
        assert_eq!(s.memory_limit, Some(1 << 30));
        // env beats config
        let env = [
            ("MICROCONV_OUT", "env_out"),
            ("MICROCONV_MEMORY_LIMIT", "2GiB"),
        ];
        let s = settings(&none, &env, CFG);
        assert_eq!(s.out_dir, PathBuf::from("env_out"));
        assert_eq!(s.memory_limit, Some(2 << 30));
        // CLI beats env
        let cli = CommonArgs {
            out: Some("cli_out".into()),
            memory_limit: Some("512MiB".into()),
            ..Default::default()
        };
        let s = settings(&cli, &env, CFG);
        assert_eq!(s.out_dir, PathBuf::from("cli_out"));
        assert_eq!(s.memory_limit, Some(512 << 20));
    }

    #[test]
    fn cli_events_replace_config_events_and_config_paths_are_relative_to_it() {
        let text = "[input]\nevents = [\"data/x\"]\n";
        let env = FakeEnv(HashMap::new());
        let s = Settings::from_parts(
            &CommonArgs::default(),
            &env,
            config(text),
            None,
            text,
            Path::new("/etc/mc"),
        )
        .unwrap();
        assert_eq!(s.events, vec!["/etc/mc/data/x".to_string()]);
        let cli = CommonArgs {
            events: vec!["a.parquet".into()],
            ..Default::default()
        };
        let s = Settings::from_parts(&cli, &env, config(text), None, text, Path::new("/etc/mc"))
            .unwrap();
        assert_eq!(s.events, vec!["a.parquet".to_string()]);
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("1w"), Ok(604_800));
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("m").is_err());
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn bad_values_name_their_key() {
        let env = FakeEnv(HashMap::new());
        for (text, key) in [
            ("[sessions]\ntimeout = \"soon\"\n", "sessions.timeout"),
            ("[input.columns]\nuserid = \"x\"\n", "input.columns.userid"),
            (
                "[[conversions]]\nname = \"a\"\nkind = \"mega\"\nwhen = \"true\"\n",
                "conversions[0].kind",
            ),
            ("[input.time]\nunit = \"ns\"\n", "input.time.unit"),
        ] {
            let err = Settings::from_parts(
                &CommonArgs::default(),
                &env,
                config(text),
                None,
                text,
                Path::new(""),
            )
            .unwrap_err();
            assert!(err.to_string().contains(key), "{err}");
            assert_eq!(err.exit_code(), 2);
        }
    }
}
