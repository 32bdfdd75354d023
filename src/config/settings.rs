//! Validated settings, built once from CLI > environment > config file >
//! defaults. Nothing after this module re-validates user input.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::sections::attribution::{self, AttributionSettings};
use super::sections::channels::{self, ChannelRule};
use super::sections::clv::ClvSettings;
use super::sections::conversions::{self, Conversion};
use super::sections::engine::{datafusion_options, EngineMode};
use super::sections::funnels::{self, Funnel};
use super::sections::input::InputSettings;
use super::sections::lift::{self, LiftSettings};
use super::sections::output::{OutputFormat, OutputSettings};
use super::sections::params::{self, ParamValue};
use super::sections::sessions::SessionSettings;
use super::sections::storage::StorageConfig;
use super::units::parse_size;
use super::Config;
use crate::cli::CommonArgs;
use crate::error::{Error, Result};

pub const DEFAULT_CONFIG: &str = "microconv.toml";

/// Everything a command needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config_path: Option<PathBuf>,
    pub config_sha256: String,
    /// The file as written, recorded in the run manifest.
    pub config: Config,
    /// Event files, folders or globs (`--events` replaces `[input] events`).
    pub events: Vec<String>,
    pub input: InputSettings,
    pub sessions: SessionSettings,
    pub conversions: Vec<Conversion>,
    pub funnels: Vec<Funnel>,
    pub channel_rules: Vec<ChannelRule>,
    /// `[journeys]` and `[attribution]`.
    pub attribution: AttributionSettings,
    pub clv: ClvSettings,
    pub lift: LiftSettings,
    pub query_dirs: Vec<PathBuf>,
    /// The local folder a run writes, stages and publishes in: the output
    /// folder itself, or the work folder when there is a `destination`.
    pub out_dir: PathBuf,
    /// Where the published tables go when that is not `out_dir`: an
    /// object store, or Delta tables (local or not).
    pub destination: Option<Destination>,
    /// `[storage]` overrides for object-store URLs.
    pub storage: StorageConfig,
    pub as_of: Option<NaiveDate>,
    pub output: OutputSettings,
    /// Where the queries run: here, or on Ballista (`[engine] mode`).
    pub engine: EngineMode,
    pub memory_limit: Option<usize>,
    /// How many tables of the DAG may run at once (`[engine]
    /// parallel_tables`), at least 1.
    pub parallel_tables: usize,
    pub spill_dir: Option<PathBuf>,
    /// `[datafusion]` options as text, set on the context as they are.
    pub datafusion: Vec<(String, String)>,
    /// `[params]`, the user's own named SQL parameters.
    pub params: Vec<(String, ParamValue)>,
}

/// An output that is not a plain local folder of Parquet: the run is
/// built in the local work folder (`Settings::out_dir`), then published
/// here (see `sink::export`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// An object-store URL, or a local path for Delta output.
    pub url: String,
    pub format: OutputFormat,
}

/// `<temp>/microconv-work/<hash of the output>`: the same output gets the
/// same work folder, so its lock serialises runs on one machine.
fn default_work_dir(out: &str) -> PathBuf {
    let absolute = if crate::storage::is_remote(out) {
        out.trim_end_matches('/').to_string()
    } else {
        std::path::absolute(out)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| out.to_string())
    };
    let hash = hex::encode(Sha256::digest(absolute.as_bytes()));
    std::env::temp_dir()
        .join("microconv-work")
        .join(&hash[..16])
}

/// Environment lookup, injectable for tests.
pub trait Env {
    fn var(&self, key: &str) -> Option<String>;
}

/// The process environment; empty values count as unset.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

/// No environment at all (tests and tools).
pub struct NoEnv;

impl Env for NoEnv {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
}

impl Settings {
    /// Resolve settings: CLI flags win over `MICROCONV_*` variables, which
    /// win over the config file, which wins over built-in defaults.
    pub fn resolve(args: &CommonArgs, env: &dyn Env) -> Result<Settings> {
        let explicit = args
            .config
            .clone()
            .or_else(|| env.var("MICROCONV_CONFIG").map(PathBuf::from))
            .or_else(|| {
                let default = PathBuf::from(DEFAULT_CONFIG);
                default.exists().then_some(default)
            });
        let (config_path, text) = match explicit {
            Some(p) => {
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

    /// Settings from config text alone: no flags, no environment, paths
    /// relative to the current directory. For tests and tools.
    pub fn from_toml(text: &str) -> Result<Settings> {
        Self::from_toml_with(text, &CommonArgs::default())
    }

    /// [`Settings::from_toml`] with command-line arguments.
    pub fn from_toml_with(text: &str, args: &CommonArgs) -> Result<Settings> {
        let config = Config::parse(text, Path::new("<inline>"))?;
        Self::from_parts(args, &NoEnv, config, None, text, Path::new(""))
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
            // a file:// URL is its path; an object-store URL is left alone
            let p = &crate::storage::local_path(p);
            if Path::new(p).is_absolute()
                || base.as_os_str().is_empty()
                || crate::storage::is_remote(p)
            {
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
        let out_spec = args
            .out
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned())
            .or_else(|| env.var("MICROCONV_OUT"))
            .or_else(|| config.output.dir.as_deref().map(&rel))
            .unwrap_or_else(|| "out".to_string());
        let mut output_config = config.output.clone();
        if let Some(f) = args
            .output_format
            .clone()
            .or_else(|| env.var("MICROCONV_OUTPUT_FORMAT"))
        {
            output_config.format = Some(match f.as_str() {
                "parquet" => OutputFormat::Parquet,
                "delta" => OutputFormat::Delta,
                _ => {
                    return Err(Error::setting(
                        "--output-format",
                        format!("`{f}` is not parquet or delta"),
                    ))
                }
            });
        }
        let output = output_config.validate()?;
        let (out_dir, destination) =
            if crate::storage::is_remote(&out_spec) || output.format == OutputFormat::Delta {
                let url = crate::storage::local_path(&out_spec);
                let work = env
                    .var("MICROCONV_WORK_DIR")
                    .or_else(|| config.output.work_dir.as_deref().map(&rel))
                    .map(PathBuf::from)
                    .unwrap_or_else(|| default_work_dir(&url));
                let format = output.format;
                (work, Some(Destination { url, format }))
            } else {
                (PathBuf::from(crate::storage::local_path(&out_spec)), None)
            };
        let engine = match args.engine.clone().or_else(|| env.var("MICROCONV_ENGINE")) {
            Some(flag) => EngineMode::parse_flag("--engine", &flag)?,
            None => EngineMode::from_config(&config.engine)?,
        };
        if engine.is_distributed() && !cfg!(feature = "ballista") {
            return Err(Error::setting(
                "engine",
                format!(
                    "`{}` runs on Ballista, and this build of microconv has no \
                     `ballista` feature",
                    engine.describe()
                ),
            ));
        }
        let memory_limit = args
            .memory_limit
            .clone()
            .or_else(|| env.var("MICROCONV_MEMORY_LIMIT"))
            .or_else(|| config.engine.memory_limit.clone())
            .map(|s| match parse_size(&s) {
                Ok(0) => Err(Error::setting(
                    "memory_limit",
                    format!("`{s}` must be more than 0 bytes"),
                )),
                Ok(n) => Ok(n),
                Err(m) => Err(Error::setting("memory_limit", m)),
            })
            .transpose()?;
        let parallel_tables = parallel_tables(
            env.var("MICROCONV_PARALLEL_TABLES"),
            config.engine.parallel_tables,
            memory_limit.is_some() || engine.is_distributed(),
        )?;
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

        let conversions = conversions::validate(&config.conversions)?;
        Ok(Settings {
            config_sha256: hex::encode(Sha256::digest(config_text.as_bytes())),
            config_path,
            events,
            input: {
                let mut input = config.input.validate()?;
                input.identity = config.identity.validate(config.input.preset)?;
                input
            },
            sessions: config.sessions.validate()?,
            funnels: funnels::validate(&config.funnels, &conversions)?,
            channel_rules: channels::validate(&config.channels),
            attribution: attribution::validate(&config.journeys, &config.attribution, &rel)?,
            clv: config.clv.validate()?,
            lift: lift::validate(
                &config.lift,
                &config.experiments,
                &config.audiences,
                &conversions,
            )?,
            conversions,
            query_dirs,
            out_dir,
            destination,
            storage: config.storage.validate()?,
            as_of,
            output,
            engine,
            memory_limit,
            parallel_tables,
            spill_dir,
            datafusion: datafusion_options(&config.datafusion),
            params: params::validate(&config.params)?,
            config,
        })
    }
}

/// `MICROCONV_PARALLEL_TABLES` > `[engine] parallel_tables` > the default:
/// two tables at once fill the cores a single table leaves idle (planning,
/// single-stream steps, small files, model fits), except under a memory
/// limit, whose pool one table should have to itself, and on Ballista,
/// whose scheduler spreads one table's tasks already.
fn parallel_tables(env: Option<String>, config: Option<usize>, one: bool) -> Result<usize> {
    let key = "engine.parallel_tables";
    let n = match (env, config) {
        (Some(text), _) => text.trim().parse::<usize>().map_err(|_| {
            Error::setting(
                "MICROCONV_PARALLEL_TABLES",
                format!("`{text}` is not a whole number of tables"),
            )
        })?,
        (None, Some(n)) => n,
        (None, None) if one => 1,
        (None, None) => 2,
    };
    if n == 0 {
        return Err(Error::setting(key, "at least one table must run at a time"));
    }
    Ok(n)
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

    fn settings(args: &CommonArgs, env: &[(&'static str, &'static str)], text: &str) -> Settings {
        let env = FakeEnv(env.iter().cloned().collect());
        let config = Config::parse(text, Path::new("t.toml")).unwrap();
        Settings::from_parts(args, &env, config, None, text, Path::new("")).unwrap()
    }

    const CFG: &str = "[output]\ndir = \"cfg_out\"\n[engine]\nmemory_limit = \"1GiB\"\n";

    #[test]
    fn an_object_store_or_delta_output_is_built_in_a_work_folder() {
        let none = CommonArgs::default();
        assert_eq!(settings(&none, &[], CFG).destination, None);
        let remote = CommonArgs {
            out: Some("s3://lake/out".into()),
            ..Default::default()
        };
        let s = settings(&remote, &[], CFG);
        let dest = s.destination.clone().unwrap();
        assert_eq!(dest.url, "s3://lake/out");
        assert_eq!(dest.format, OutputFormat::Parquet);
        // the same output, the same work folder; another output, another
        assert_eq!(s.out_dir, settings(&remote, &[], "").out_dir);
        assert!(s
            .out_dir
            .starts_with(std::env::temp_dir().join("microconv-work")));
        let other = CommonArgs {
            out: Some("s3://lake/other".into()),
            ..Default::default()
        };
        assert_ne!(s.out_dir, settings(&other, &[], "").out_dir);
        // [output] work_dir and the environment choose it
        let text = "[output]\nwork_dir = \"/srv/mc-work\"\nformat = \"delta\"\n";
        let s = settings(&none, &[], text);
        assert_eq!(s.out_dir, PathBuf::from("/srv/mc-work"));
        assert_eq!(s.destination.unwrap().url, "out");
        let s = settings(&none, &[("MICROCONV_WORK_DIR", "/w")], text);
        assert_eq!(s.out_dir, PathBuf::from("/w"));
        // --output-format beats the file; a bad one names the flag
        let parquet = CommonArgs {
            output_format: Some("parquet".into()),
            ..Default::default()
        };
        assert_eq!(settings(&parquet, &[], text).destination, None);
        let bad = CommonArgs {
            output_format: Some("orc".into()),
            ..Default::default()
        };
        let config = Config::parse("", Path::new("t.toml")).unwrap();
        let err = Settings::from_parts(&bad, &NoEnv, config, None, "", Path::new("")).unwrap_err();
        assert!(
            err.to_string().contains("--output-format") && err.to_string().contains("orc"),
            "{err}"
        );
    }

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
    fn parallel_tables_env_over_config_over_the_default() {
        assert_eq!(parallel_tables(None, None, false).unwrap(), 2);
        assert_eq!(parallel_tables(None, None, true).unwrap(), 1);
        assert_eq!(parallel_tables(None, Some(3), true).unwrap(), 3);
        assert_eq!(
            parallel_tables(Some("5".into()), Some(3), false).unwrap(),
            5
        );
        let err = parallel_tables(Some("two".into()), None, false).unwrap_err();
        assert!(
            err.to_string().contains("MICROCONV_PARALLEL_TABLES"),
            "{err}"
        );
        let err = parallel_tables(None, Some(0), false).unwrap_err();
        assert!(err.to_string().contains("engine.parallel_tables"), "{err}");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn cli_events_replace_config_events_and_config_paths_are_relative_to_it() {
        let text = "[input]\nevents = [\"data/x\"]\n";
        let config = || Config::parse(text, Path::new("t.toml")).unwrap();
        let base = Path::new("/etc/mc");
        let s = Settings::from_parts(&CommonArgs::default(), &NoEnv, config(), None, text, base)
            .unwrap();
        assert_eq!(s.events, vec!["/etc/mc/data/x".to_string()]);
        let urls = "[input]\nevents = [\"s3://b/events\", \"file:///srv/e\", \"file://rel/e\"]\n";
        let config_of = Config::parse(urls, Path::new("t.toml")).unwrap();
        let s = Settings::from_parts(&CommonArgs::default(), &NoEnv, config_of, None, urls, base)
            .unwrap();
        assert_eq!(s.events, ["s3://b/events", "/srv/e", "/etc/mc/rel/e"]);
        let cli = CommonArgs {
            events: vec!["a.parquet".into()],
            ..Default::default()
        };
        let s = Settings::from_parts(&cli, &NoEnv, config(), None, text, base).unwrap();
        assert_eq!(s.events, vec!["a.parquet".to_string()]);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("[sessions]\ntimeout = \"soon\"\n", "sessions.timeout"),
            ("[input.columns]\nuserid = \"x\"\n", "input.columns.userid"),
            (
                "[[conversions]]\nname = \"A\"\nkind = \"micro\"\nwhen = \"true\"\n",
                "conversions[0].name",
            ),
            (
                "[output]\nmax_row_group_size = 0\n",
                "output.max_row_group_size",
            ),
            ("[output]\nzstd_level = 30\n", "output.zstd_level"),
            ("[sessions]\ntimeout = \"0s\"\n", "sessions.timeout"),
            ("[sessions]\ntimeout = \"-5m\"\n", "sessions.timeout"),
            ("[lift]\nlookback = \"0d\"\n", "lift.lookback"),
            ("[engine]\nmemory_limit = \"0\"\n", "memory_limit"),
            ("[input]\nfuture_margin = \"soon\"\n", "input.future_margin"),
            ("[input]\ndedupe_key = []\n", "input.dedupe_key"),
            (
                "[input]\ndedupe = false\ndedupe_key = [\"a\"]\n",
                "input.dedupe_key",
            ),
        ] {
            let err = Settings::from_toml(text).unwrap_err();
            assert!(err.to_string().contains(key), "{err}");
            assert_eq!(err.exit_code(), 2);
        }
    }
}
