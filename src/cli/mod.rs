//! Command-line arguments as typed (the "low" args). They are turned into
//! validated [`crate::config::settings::Settings`] in one place and never re-checked.

pub mod commands;
pub mod progress;
pub mod summary;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "microconv",
    version,
    about = "Nightly micro-conversion analytics: journeys, funnels, CLV and lift on Apache DataFusion",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Logs on stderr: `text` (a progress bar on a terminal, a line per
    /// finished table otherwise) or `json` (one record per line, for log
    /// collectors)
    #[arg(long, global = true, value_enum, env = "MICROCONV_LOG_FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the job: map the events, run every query, publish Parquet outputs.
    Run(RunArgs),
    /// Read config and inputs, report row counts, rejected rows and the mapped schema; write nothing.
    Validate(CommonArgs),
    /// List the queries in run order with what each reads, its grain and description.
    Queries(CommonArgs),
    /// Run ad-hoc SQL over `events`, the reference tables and the latest outputs.
    Sql(SqlArgs),
    /// Write synthetic events with planted ground truth (Parquet + ground_truth.json).
    Generate(GenerateArgs),
    /// Write the HTML report of the published tables (by default of the latest run's as-of date).
    Report(CommonArgs),
    /// Run a Ballista scheduler that knows microconv's functions (for `run --engine df://host:port`).
    #[cfg(feature = "ballista")]
    Scheduler(SchedulerArgs),
    /// Run a Ballista executor that knows microconv's functions, for a scheduler.
    #[cfg(feature = "ballista")]
    Executor(ExecutorArgs),
}

impl Command {
    /// Whether the command is a long-running Ballista role.
    pub fn serves(&self) -> bool {
        #[cfg(feature = "ballista")]
        if matches!(self, Command::Scheduler(_) | Command::Executor(_)) {
            return true;
        }
        false
    }
}

#[cfg(feature = "ballista")]
#[derive(Debug, Clone, Args)]
pub struct SchedulerArgs {
    /// Address to listen on (clients and executors connect here)
    #[arg(long, value_name = "HOST:PORT", default_value = "0.0.0.0:50050")]
    pub bind: String,
    /// Host name others reach this scheduler by [default: the bind address, or localhost]
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,
}

#[cfg(feature = "ballista")]
#[derive(Debug, Clone, Args)]
pub struct ExecutorArgs {
    /// The scheduler to register with: host:port or df://host:port
    #[arg(long, value_name = "HOST:PORT")]
    pub scheduler: String,
    /// Tasks run at once [default: the number of cores]
    #[arg(long, value_name = "N")]
    pub concurrent_tasks: Option<usize>,
    /// Folder for shuffle files (needs room for the largest stage's output) [default: a temporary folder]
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Memory for the executor's tasks, e.g. 8GiB; beyond it they spill [default: a share of the machine's]
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
    /// Address the executor's services listen on
    #[arg(long, value_name = "HOST", default_value = "0.0.0.0")]
    pub bind: String,
    /// Host name the scheduler and other executors reach this one by [default: as the scheduler sees it]
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,
    /// Arrow Flight port (shuffle data between executors)
    #[arg(long, default_value_t = 50051)]
    pub port: u16,
    /// gRPC port (tasks from the scheduler)
    #[arg(long, default_value_t = 50052)]
    pub grpc_port: u16,
}

/// Options shared by the commands that read a config.
#[derive(Debug, Clone, Default, Args)]
pub struct CommonArgs {
    /// Config file [env: MICROCONV_CONFIG] [default: microconv.toml if present]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Input events (Parquet, CSV or NDJSON file, directory or glob); repeatable; replaces [input] events
    #[arg(long, value_name = "PATH")]
    pub events: Vec<String>,
    /// Output directory or object-store URL (s3://bucket/out) [env: MICROCONV_OUT]
    #[arg(long, value_name = "DIR|URL")]
    pub out: Option<PathBuf>,
    /// Published format, replaces [output] format: parquet or delta [env: MICROCONV_OUTPUT_FORMAT]
    #[arg(long = "output-format", value_name = "FORMAT")]
    pub output_format: Option<String>,
    /// Folder of your own .sql queries; repeatable; added to [queries] dirs
    #[arg(long = "queries", value_name = "DIR")]
    pub query_dirs: Vec<PathBuf>,
    /// Analysis date (UTC); events after the end of this day are excluded [default: date of the latest event]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// Memory limit of the run, e.g. 4GiB: 7/8 of it is DataFusion's pool, beyond which it spills [env: MICROCONV_MEMORY_LIMIT]
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,
    /// Where queries run, replaces [engine] mode: local, standalone (Ballista in this process) or df://host:port (a Ballista scheduler) [env: MICROCONV_ENGINE]
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Run only these tables and the tables they read; repeatable
    #[arg(long, value_name = "NAME")]
    pub select: Vec<String>,
    /// Print the plan (inputs, query order, dependencies, destinations); write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not write the HTML report (`<out>/report/as_of=<date>/index.html`) after publishing
    #[arg(long)]
    pub no_report: bool,
}

#[derive(Debug, Clone, Args)]
pub struct SqlArgs {
    /// The SELECT to run
    pub query: String,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Number of simulated users
    #[arg(long, default_value_t = 15_000)]
    pub users: u64,
    /// Number of simulated days
    #[arg(long, default_value_t = 60)]
    pub days: u32,
    /// Random seed; the same seed gives the same bytes
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output directory
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// First simulated day
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2026-01-01")]
    pub start: String,
    /// Number of Parquet files to spread the events over
    #[arg(long, default_value_t = 1)]
    pub files: usize,
    /// Write Hive-style date=YYYY-MM-DD/ directories
    #[arg(long)]
    pub partition_by_date: bool,
    /// Add realistic dirt: null user ids, duplicates, ms timestamps, unknown events
    #[arg(long)]
    pub dirty: bool,
    /// Write the events in a vendor's export schema (read them back with `[input] preset`)
    #[arg(long, value_enum, default_value_t = GenerateFormat::Canonical)]
    pub format: GenerateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormat {
    /// microconv's canonical events
    Canonical,
    /// GA4's BigQuery export (nested event_params, device, geo, ecommerce, items)
    Ga4,
    /// Segment's tracks and pages tables
    Segment,
    /// Snowplow's atomic.events
    Snowplow,
}
