//! The CLI commands: each turns raw arguments into settings, does its work
//! and prints a human summary. `main.rs` only maps errors to exit codes.

use std::io::Write;

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};

use super::summary;
use super::{Cli, Command, CommonArgs, Format, GenerateArgs, SqlArgs};
use crate::config::{ProcessEnv, Settings};
use crate::error::{Error, Result};
use crate::input;
use crate::job::nightly::{self, Outcome, RunOptions};
use crate::job::Job;
use crate::sink::MemoryStore;

/// Run the parsed command line.
pub async fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => {
            let settings = Settings::resolve(&args.common, &ProcessEnv)?;
            let opts = RunOptions {
                select: args.select,
                dry_run: args.dry_run,
                report: !args.no_report,
                observer: super::progress::for_stderr(cli.log_format),
                ..Default::default()
            };
            // a signal drops the run: its staging, lock and session go with it
            let outcome = tokio::select! {
                result = nightly::run(settings, &opts) => result?,
                signal = crate::shutdown::signalled() => return Err(Error::Stopped { signal }),
            };
            match outcome {
                Outcome::Ran(summary) => print(&summary::run_summary(&summary)),
                Outcome::Planned(plan) => print(&summary::plan(&plan)),
            }
        }
        Command::Validate(args) => validate(&args).await,
        Command::Queries(args) => {
            let job = Job::new(in_process(Settings::resolve(&args, &ProcessEnv)?), &[])?;
            print(&summary::queries(job.nodes()))
        }
        Command::Sql(args) => sql(&args).await,
        Command::Generate(args) => generate(&args).await,
        Command::Report(args) => {
            let settings = Settings::resolve(&args, &ProcessEnv)?;
            let out = &settings.out_dir;
            let as_of = match settings.as_of {
                Some(d) => d.to_string(),
                None => crate::report::latest_as_of(out)?,
            };
            let path = crate::report::write(out, &as_of).await?;
            print(&format!("report: {}\n", path.display()))
        }
        #[cfg(feature = "ballista")]
        Command::Scheduler(args) => cluster::scheduler(args).await,
        #[cfg(feature = "ballista")]
        Command::Executor(args) => cluster::executor(args).await,
    }
}

/// The Ballista roles: each serves until a signal stops it (exit 0).
#[cfg(feature = "ballista")]
mod cluster {
    use super::super::{ExecutorArgs, SchedulerArgs};
    use crate::config::sections::engine::DEFAULT_SCHEDULER_PORT;
    use crate::config::units::parse_size;
    use crate::engine::ballista::{self, ExecutorOptions, SchedulerOptions};
    use crate::error::{Error, Result};

    async fn serve(role: impl std::future::Future<Output = Result<()>>) -> Result<()> {
        tokio::select! {
            result = role => result,
            signal = crate::shutdown::signalled() => {
                tracing::warn!("stopped by {signal}");
                Ok(())
            }
        }
    }

    pub async fn scheduler(args: SchedulerArgs) -> Result<()> {
        let bind = args
            .bind
            .parse::<std::net::SocketAddr>()
            .map_err(|e| Error::setting("--bind", format!("`{}`: {e}", args.bind)))?;
        let external_host = args
            .external_host
            .or_else(|| (!bind.ip().is_unspecified()).then(|| bind.ip().to_string()));
        eprintln!("microconv scheduler listening on {bind}");
        serve(ballista::run_scheduler(SchedulerOptions {
            bind,
            external_host: Some(external_host.unwrap_or_else(|| "localhost".into())),
        }))
        .await
    }

    pub async fn executor(args: ExecutorArgs) -> Result<()> {
        let spec = args.scheduler.trim_start_matches("df://");
        let bad = |why: &str| Error::setting("--scheduler", format!("`{}`: {why}", args.scheduler));
        let (host, port) = match spec.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| bad("the port is not a number"))?,
            ),
            None => (spec, DEFAULT_SCHEDULER_PORT),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let memory_limit = args
            .memory_limit
            .as_deref()
            .map(|s| parse_size(s).map_err(|m| Error::setting("--memory-limit", m)))
            .transpose()?;
        let concurrent_tasks = args
            .concurrent_tasks
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if concurrent_tasks == 0 {
            return Err(Error::setting("--concurrent-tasks", "must be at least 1"));
        }
        eprintln!(
            "microconv executor: {concurrent_tasks} task(s) at once, scheduler {host}:{port}"
        );
        serve(ballista::run_executor(ExecutorOptions {
            scheduler_host: host.to_string(),
            scheduler_port: port,
            bind_host: args.bind,
            external_host: args.external_host,
            port: args.port,
            grpc_port: args.grpc_port,
            concurrent_tasks,
            work_dir: args.work_dir.map(|d| d.to_string_lossy().into_owned()),
            memory_limit: memory_limit.map(|n| n as u64),
        }))
        .await
    }
}

/// `settings` on the local engine: the commands other than `run` keep
/// their tables in memory, in this process, where Ballista executors
/// cannot read them (and they are small, interactive work).
fn in_process(mut settings: Settings) -> Settings {
    settings.engine = crate::config::sections::engine::EngineMode::Local;
    settings
}

fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    // a closed pipe (`| head`) is not an error worth reporting
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

async fn validate(args: &CommonArgs) -> Result<()> {
    let job = Job::new(in_process(Settings::resolve(args, &ProcessEnv)?), &[])?;
    let settings = job.settings();
    let discovery = input::discover_any(
        job.context(),
        &settings.events,
        settings.as_of,
        &[&settings.out_dir],
        settings.input.format,
        &settings.storage,
    )
    .await?;
    let prepared = job.prepare_files(&discovery.files, &MemoryStore).await?;
    let events = job.context().table("events").await?;
    print(&summary::validation(
        &discovery,
        &prepared,
        events.schema().as_arrow(),
    ))
}

/// Register the latest published outputs, then `events` and the reference
/// tables (mapped lazily), and run the query.
async fn sql(args: &SqlArgs) -> Result<()> {
    let job = Job::new(
        in_process(Settings::resolve(&args.common, &ProcessEnv)?),
        &[],
    )?;
    let settings = job.settings();
    if !settings.events.is_empty() {
        let discovery = input::discover_any(
            job.context(),
            &settings.events,
            settings.as_of,
            &[&settings.out_dir],
            settings.input.format,
            &settings.storage,
        )
        .await?;
        let mapped = job.read(&discovery.files).await?;
        job.prepare(mapped, &ViewStore).await?;
    }
    // published outputs win over the lazily mapped input (rejected_events)
    register_latest_outputs(job.context(), settings).await?;
    let batches = job.query(&args.query).await?.collect().await?;
    print(&format_batches(&batches, args.format)?)
}

/// Registers results as views: nothing is computed until queried.
struct ViewStore;

#[async_trait::async_trait]
impl crate::sink::Store for ViewStore {
    async fn materialize(
        &self,
        ctx: &SessionContext,
        name: &str,
        df: DataFrame,
        _internal: bool,
    ) -> Result<u64> {
        ctx.deregister_table(name)?;
        ctx.register_table(name, df.into_view())?;
        Ok(0)
    }

    fn consumes(&self) -> bool {
        false
    }
}

async fn register_latest_outputs(ctx: &SessionContext, settings: &Settings) -> Result<()> {
    let latest = settings.out_dir.join("_manifests").join("latest.json");
    let Ok(text) = std::fs::read_to_string(&latest) else {
        return Ok(());
    };
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::setting("manifest", format!("{}: {e}", latest.display())))?;
    for table in manifest["tables"].as_array().into_iter().flatten() {
        let (Some(name), Some(path)) = (table["name"].as_str(), table["path"].as_str()) else {
            continue;
        };
        let dir = settings.out_dir.join(path);
        if dir.exists() {
            ctx.deregister_table(name)?;
            ctx.register_parquet(
                name,
                dir.to_string_lossy().as_ref(),
                ParquetReadOptions::default(),
            )
            .await?;
        }
    }
    Ok(())
}

fn format_batches(batches: &[RecordBatch], format: Format) -> Result<String> {
    use datafusion::arrow::{csv, json, util::pretty};
    let mut buf = Vec::new();
    match format {
        Format::Table => return Ok(format!("{}\n", pretty::pretty_format_batches(batches)?)),
        Format::Csv => {
            let mut w = csv::Writer::new(&mut buf);
            for b in batches {
                w.write(b)?;
            }
        }
        Format::Json => {
            let mut w = json::LineDelimitedWriter::new(&mut buf);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
        }
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

async fn generate(args: &GenerateArgs) -> Result<()> {
    let start = chrono::NaiveDate::parse_from_str(&args.start, "%Y-%m-%d").map_err(|_| {
        Error::setting(
            "--start",
            format!("`{}` is not a YYYY-MM-DD date", args.start),
        )
    })?;
    let opts = crate::generate::GenerateOptions {
        users: args.users,
        days: args.days,
        seed: args.seed,
        out: args.out.clone(),
        start,
        files: args.files,
        partition_by_date: args.partition_by_date,
        dirty: args.dirty,
    };
    use crate::generate::formats::ExportFormat;
    let format = match args.format {
        super::GenerateFormat::Canonical => ExportFormat::Canonical,
        super::GenerateFormat::Ga4 => ExportFormat::Ga4,
        super::GenerateFormat::Segment => ExportFormat::Segment,
        super::GenerateFormat::Snowplow => ExportFormat::Snowplow,
    };
    if format != ExportFormat::Canonical && (args.dirty || args.partition_by_date) {
        return Err(Error::setting(
            "--format",
            "a vendor format is written clean and unpartitioned: drop --dirty and --partition-by-date",
        ));
    }
    let mut report = crate::generate::generate(&opts)?;
    report.files = crate::generate::formats::convert(&args.out, &report.files, format).await?;
    let peak = crate::peak_rss::process_peak()
        .map(|b| format!(", peak RSS {:.0} MB", b as f64 / 1e6))
        .unwrap_or_default();
    print(&format!(
        "generated {} events ({} users, {} sessions, {} buyers) in {} file(s) under {} in {:.1} s ({:.0} events/s{peak})\nground truth: {}\n",
        summary::thousands(report.events),
        summary::thousands(report.users),
        summary::thousands(report.sessions),
        summary::thousands(report.buyers),
        report.files.len(),
        args.out.display(),
        report.seconds,
        report.events as f64 / report.seconds.max(1e-9),
        report.ground_truth.display()
    ))
}
