//! Ballista: the same plans, run as stages of partitions on a scheduler's
//! executors. Three roles, all in this binary so that every process knows
//! microconv's functions:
//!
//! - the client (`run --engine standalone|df://host:port`): plans each
//!   query in its session, ships the optimized logical plan to the
//!   scheduler, and streams the result back into the run's staging folder,
//!   from which it publishes as a local run does;
//! - `microconv scheduler`: Ballista's scheduler, whose sessions know every
//!   microconv UDF, UDAF and window function (it decodes the logical plans
//!   and splits them into stages);
//! - `microconv executor`: Ballista's executor with the same functions in
//!   its registry (it decodes and runs the stages' physical plans).
//!
//! Functions are found by name on each side, so the one registration
//! function the local engine uses ([`functions::register_all`]) is the
//! whole contract; a stock Ballista executor fails the task with an error
//! naming the function it does not know.
//!
//! `standalone` starts a scheduler and one executor inside this process, on
//! a runtime of their own (a thread that lives as long as the [`Engine`]),
//! so that it works from any caller, async or not.
//!
//! [`Engine`]: super::Engine

use std::any::Any;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use ballista::prelude::SessionContextExt;
use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::config::sections::engine::EngineMode;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::functions;

/// The client's session state: the local one, with Ballista's
/// configuration, the [`super::Distributed`] mark, Ballista's static planner
/// (its adaptive planner, on by default in 55.0, stalls on some of the
/// bundled plans: a stage it wants to cancel is left waiting for ever, "stages
/// to be cancelled but its not implemented"), then the `ballista.*` keys of
/// `[datafusion]`.
pub fn client_state(local: SessionState, settings: &Settings) -> Result<SessionState> {
    let mut config = local
        .config()
        .clone()
        .upgrade_for_ballista()
        .with_extension(Arc::new(super::Distributed));
    let options = config.options_mut();
    options.set("ballista.planner.adaptive.enabled", "false")?;
    for (key, value) in &settings.datafusion {
        if key.starts_with(super::BALLISTA_PREFIX) {
            options
                .set(key, value)
                .map_err(|e| Error::setting(format!("datafusion.\"{key}\""), e.to_string()))?;
        }
    }
    Ok(SessionStateBuilder::new_from_existing(local)
        .with_config(config)
        .build())
}

/// Keeps the in-process cluster of `standalone` running; dropping it stops
/// the scheduler and the executor.
struct InProcess {
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A session on the engine `mode` names (not `local`), from the local
/// session state `state`, and what keeps that engine alive.
pub fn connect(
    mode: &EngineMode,
    state: SessionState,
) -> Result<(SessionContext, Option<Box<dyn Any + Send + Sync>>)> {
    match mode {
        EngineMode::Local => Ok((SessionContext::new_with_state(state), None)),
        EngineMode::Standalone => {
            let (ctx, keep) = standalone(state)?;
            Ok((ctx, Some(Box::new(keep))))
        }
        EngineMode::Cluster { host, port } => {
            let what = format!("scheduler df://{host}:{port}");
            reachable(host, *port).map_err(|message| Error::Engine {
                what: what.clone(),
                message,
            })?;
            let state = state
                .upgrade_for_ballista(format!("http://{host}:{port}"))
                .map_err(|e| Error::Engine {
                    what,
                    message: e.to_string(),
                })?;
            Ok((SessionContext::new_with_state(state), None))
        }
    }
}

/// Whether something listens at `host:port`, so that a wrong address fails
/// before any input is read (Ballista would only fail the first query).
fn reachable(host: &str, port: u16) -> std::result::Result<(), String> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let mut last = format!("{host} has no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("cannot connect to {addr}: {e}"),
        }
    }
    Err(format!(
        "{last} (is the scheduler running? `microconv scheduler`)"
    ))
}

fn standalone(state: SessionState) -> Result<(SessionContext, InProcess)> {
    let engine_error = |message: String| Error::Engine {
        what: "standalone cluster".into(),
        message,
    };
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("ballista-standalone".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("ballista")
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                match SessionContext::standalone_with_state(state).await {
                    Ok(ctx) => {
                        let _ = ready_tx.send(Ok(ctx));
                        // until the engine is dropped (or the process ends)
                        let _ = stop_rx.await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                    }
                }
            });
            runtime.shutdown_timeout(Duration::from_secs(5));
        })
        .map_err(|e| engine_error(format!("cannot start its thread: {e}")))?;
    let ctx = ready_rx
        .recv()
        .map_err(|_| engine_error("its thread ended before it started".into()))?
        .map_err(engine_error)?;
    Ok((ctx, InProcess { _stop: stop_tx }))
}

/// A fresh session with every microconv function, whose registry the
/// scheduler and executors decode plans with.
fn with_functions(state: SessionState) -> SessionState {
    let ctx = SessionContext::new_with_state(state);
    functions::register_all(&ctx);
    ctx.state()
}

/// `microconv scheduler`'s options.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    pub bind: SocketAddr,
    /// The host name executors and clients reach the scheduler by.
    pub external_host: Option<String>,
}

/// Run a Ballista scheduler that knows microconv's functions, until the
/// process is stopped.
pub async fn run_scheduler(opts: SchedulerOptions) -> Result<()> {
    let what = format!("scheduler on {}", opts.bind);
    let fail = |e: ballista_core::error::BallistaError| Error::Engine {
        what: what.clone(),
        message: e.to_string(),
    };
    let config = SchedulerConfig {
        bind_host: opts.bind.ip().to_string(),
        bind_port: opts.bind.port(),
        external_host: opts
            .external_host
            .unwrap_or_else(|| opts.bind.ip().to_string()),
        override_session_builder: Some(Arc::new(|config: SessionConfig| {
            Ok(with_functions(
                ballista_core::utils::default_session_builder(config)?,
            ))
        })),
        ..Default::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(fail)?;
    start_server(cluster, opts.bind, Arc::new(config))
        .await
        .map_err(fail)
}

/// `microconv executor`'s options.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    pub scheduler_host: String,
    pub scheduler_port: u16,
    /// Address the executor's services listen on.
    pub bind_host: String,
    /// The host name the scheduler and other executors reach it by.
    pub external_host: Option<String>,
    /// Arrow Flight port (shuffle data) and gRPC port (tasks).
    pub port: u16,
    pub grpc_port: u16,
    /// Tasks run at once (Ballista's vcores).
    pub concurrent_tasks: usize,
    /// Where shuffle files go.
    pub work_dir: Option<String>,
    /// The executor's memory pool, shared by its concurrent tasks.
    pub memory_limit: Option<u64>,
}

/// Run a Ballista executor that knows microconv's functions, until the
/// process is stopped.
pub async fn run_executor(opts: ExecutorOptions) -> Result<()> {
    let what = format!(
        "executor of scheduler {}:{}",
        opts.scheduler_host, opts.scheduler_port
    );
    let registry = BallistaFunctionRegistry::from(&with_functions(SessionContext::new().state()));
    let config = ExecutorProcessConfig {
        scheduler_host: opts.scheduler_host,
        scheduler_port: opts.scheduler_port,
        // wait for a scheduler that is still starting
        scheduler_connect_timeout_seconds: 60,
        bind_host: opts.bind_host,
        external_host: opts.external_host,
        port: opts.port,
        grpc_port: opts.grpc_port,
        vcores: opts.concurrent_tasks.max(1),
        work_dir: opts.work_dir,
        memory_pool_size: opts.memory_limit,
        override_function_registry: Some(Arc::new(registry)),
        ..Default::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| Error::Engine {
            what,
            message: e.to_string(),
        })
}
