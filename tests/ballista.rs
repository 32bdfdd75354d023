//! The same job on Apache DataFusion Ballista: the bundled job on the
//! sample publishes the local engine's tables (with the tolerances of
//! `parallelism`) when it runs on an in-process cluster (`standalone`) and
//! on a cluster of this binary's own processes on localhost: a scheduler
//! and two executors, which must both get work.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use microconv::engine::ballista::{run_scheduler, SchedulerOptions};

use crate::parallelism::{assert_same_outputs, run_sample, run_sample_env};
use crate::support::{manifest, microconv, stderr};

#[test]
#[ignore = "slow: two runs of the whole job on the sample, one on Ballista"]
fn standalone_publishes_the_local_tables() {
    let dir = tempfile::tempdir().unwrap();
    let local = run_sample(dir.path(), "local", 2, &[]);
    let (standalone, log) = run_sample_env(
        dir.path(),
        "standalone",
        2,
        &["--engine", "standalone"],
        &[("MICROCONV_LOG", "info")],
        "",
    );
    assert_eq!(manifest(&standalone)["engine"], "standalone");
    // the manifest's field comes from the settings: the executor's log
    // shows the plans did run on Ballista, not in the local session
    let finished = log
        .lines()
        .filter(|l| l.contains("ballista_executor") && l.contains("Finished task"))
        .count();
    assert!(
        finished > 20,
        "{finished} tasks finished on the executor:\n{log}"
    );
    assert_eq!(manifest(&local)["engine"], "local");
    assert_same_outputs(&local, &standalone, "on a standalone Ballista cluster");
}

#[test]
#[ignore = "slow: a scheduler, two executors and two runs of the whole job on the sample"]
fn a_localhost_cluster_of_two_executors_publishes_the_local_tables() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let cluster = Cluster::default();
    // whatever happens, the processes go within 20 minutes: a hung run
    // then fails instead of holding CI
    let watchdog = Arc::clone(&cluster.children);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(20 * 60));
        kill_all(&watchdog);
    });

    let port = free_port();
    cluster.spawn(
        &logs.join("scheduler.log"),
        &["scheduler", "--bind", &format!("127.0.0.1:{port}")],
    );
    wait_for_port(port);
    let mut work_dirs = Vec::new();
    for i in 0..2 {
        let work = dir.path().join(format!("executor{i}"));
        std::fs::create_dir_all(&work).unwrap();
        let (flight, grpc) = (free_port(), free_port());
        cluster.spawn(
            &logs.join(format!("executor{i}.log")),
            &[
                "executor",
                "--scheduler",
                &format!("127.0.0.1:{port}"),
                "--bind",
                "127.0.0.1",
                "--external-host",
                "127.0.0.1",
                "--port",
                &flight.to_string(),
                "--grpc-port",
                &grpc.to_string(),
                "--concurrent-tasks",
                "1",
                "--work-dir",
                work.to_str().unwrap(),
            ],
        );
        wait_for_port(flight);
        work_dirs.push(work);
    }

    let local = run_sample(dir.path(), "local", 2, &[]);
    let url = format!("df://127.0.0.1:{port}");
    let remote = run_sample(dir.path(), "cluster", 2, &["--engine", &url]);
    assert_eq!(manifest(&remote)["engine"], url);
    assert_same_outputs(&local, &remote, "on a localhost cluster");
    // the work was spread: each executor wrote shuffle files
    for work in &work_dirs {
        assert!(
            count_files(work) > 0,
            "{} has no shuffle files; logs in {}",
            work.display(),
            logs.display()
        );
    }
}

/// The bundled job sent to microconv's scheduler with a stock Ballista
/// executor (Ballista's own function registry): the run fails (exit 1, no
/// panic) with an error naming a microconv function the plan calls and
/// what to run instead, and publishes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: a scheduler and an executor in the test, the binary against them"]
async fn a_stock_executor_fails_the_run_naming_the_function_it_lacks() {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}").parse().unwrap();
    tokio::spawn(run_scheduler(SchedulerOptions {
        bind,
        external_host: Some("127.0.0.1".into()),
    }));
    let started = Instant::now();
    while tokio::net::TcpStream::connect(bind).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "no scheduler");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let stock = ExecutorProcessConfig {
        scheduler_host: "127.0.0.1".into(),
        scheduler_port: port,
        bind_host: "127.0.0.1".into(),
        external_host: Some("127.0.0.1".into()),
        port: free_port(),
        grpc_port: free_port(),
        vcores: 1,
        work_dir: Some(dir.path().to_string_lossy().into_owned()),
        scheduler_connect_timeout_seconds: 30,
        ..Default::default()
    };
    tokio::spawn(start_executor_process(Arc::new(stock)));

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = root.join("microconv.toml");
    let out = dir.path().join("out");
    let engine = format!("df://127.0.0.1:{port}");
    let run = {
        let (dir, config, out) = (dir.path().to_path_buf(), config.clone(), out.clone());
        tokio::task::spawn_blocking(move || {
            microconv(
                &dir,
                &[
                    "run",
                    "--config",
                    config.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                    "--engine",
                    &engine,
                ],
            )
        })
    };
    let o = tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .expect("the run ends within 10 minutes")
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("hash_bucket"), "{err}");
    assert!(err.contains("microconv executor"), "{err}");
    assert!(!out.join("_manifests").exists(), "nothing is published");
}

/// This binary's processes, killed when the test ends (passed or not).
#[derive(Default)]
struct Cluster {
    children: Arc<Mutex<Vec<Child>>>,
}

impl Cluster {
    fn spawn(&self, log: &Path, args: &[&str]) {
        let out = std::fs::File::create(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_microconv"))
            .args(args)
            .env("MICROCONV_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start the microconv binary");
        self.children.lock().unwrap().push(child);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        kill_all(&self.children);
    }
}

fn kill_all(children: &Mutex<Vec<Child>>) {
    for child in children.lock().unwrap().iter_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing listens on port {port} after 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                count_files(&e.path())
            } else {
                1
            }
        })
        .sum()
}
