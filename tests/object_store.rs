//! Input read from a real S3-compatible server (moto's, started on a free
//! localhost port): the whole bundled job reading `s3://bucket/events`
//! publishes the same tables as the local run of the same events, and a
//! bad URL is an error naming it, with nothing written.
//!
//! Skipped (with a line on stderr) when `moto_server` is not installed,
//! unless `MICROCONV_REQUIRE_S3` is set: `.ci/run` installs it and sets it.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::parallelism::{assert_same_as, rows_without, EMPTY_ON_THE_SAMPLE};
use crate::support::{assert_ok, manifest, stderr, table_names};

/// A moto S3 server on localhost, killed when dropped.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_s3() -> Option<S3Server> {
    let installed = Command::new("moto_server")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            std::env::var_os("MICROCONV_REQUIRE_S3").is_none(),
            "MICROCONV_REQUIRE_S3 is set but moto_server is not installed (pip install 'moto[server]')"
        );
        eprintln!("skipped: moto_server is not installed");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let server = S3Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start in 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(server)
}

/// The environment a client of `server` needs (any keys: moto checks none).
fn s3_env(server: &S3Server) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", server.endpoint.clone()),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
    ]
}

/// Run a Python script with boto3 against `server`.
fn python(server: &S3Server, script: &str, args: &[&str]) {
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .envs(s3_env(server))
        .output()
        .expect("run python3");
    assert!(
        o.status.success(),
        "python failed\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn microconv_s3(server: &S3Server, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_microconv"))
        .args(args)
        .current_dir(dir)
        .env_remove("MICROCONV_OUT")
        .env_remove("MICROCONV_EVENTS")
        .envs(s3_env(server))
        .output()
        .expect("run the microconv binary")
}

/// `microconv run` with the bundled config on `events`, into `out`.
fn run_s3(server: &S3Server, dir: &Path, events: &str, out: &Path, extra: &[&str]) -> Output {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("microconv.toml");
    let mut args = vec![
        "run",
        "--config",
        config.to_str().unwrap(),
        "--events",
        events,
    ];
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend(extra);
    microconv_s3(server, dir, &args)
}

/// The input files a manifest lists.
fn input_paths(m: &serde_json::Value) -> Vec<String> {
    let inputs = m["inputs"].as_array().expect("a manifest lists its inputs");
    inputs
        .iter()
        .map(|f| f["path"].as_str().expect("an input has a path").to_string())
        .collect()
}

/// The sample split in two files under a Hive date folder, a copy of it in
/// a date after the as-of date, and files that are not input beside them.
const UPLOAD: &str = r#"
import sys, io, boto3, pyarrow.parquet as pq
sample = sys.argv[1]
s3 = boto3.client("s3")
s3.create_bucket(Bucket="lake")
t = pq.read_table(sample + "/part-00000.parquet")
half = t.num_rows // 2
for i, part in enumerate([t.slice(0, half), t.slice(half)]):
    buf = io.BytesIO()
    pq.write_table(part, buf)
    for date in ["2000-01-01", "2999-01-01"]:
        s3.put_object(Bucket="lake", Key=f"events/date={date}/part-{i}.parquet", Body=buf.getvalue())
s3.put_object(Bucket="lake", Key="events/_SUCCESS", Body=b"")
s3.put_object(Bucket="lake", Key="events/date=2000-01-01/_tmp/part-9.parquet", Body=b"not parquet")
s3.put_object(Bucket="lake", Key="events/ground_truth.json", Body=open(sample + "/ground_truth.json", "rb").read())
s3.create_bucket(Bucket="empty")
"#;

#[test]
#[ignore = "slow: a moto S3 server and two runs of the whole job on the sample"]
fn the_job_reads_its_events_from_s3_and_publishes_what_the_local_run_does() {
    let Some(server) = start_s3() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sample = root.join("data/sample");
    python(&server, UPLOAD, &[sample.to_str().unwrap()]);
    let dir = tempfile::tempdir().unwrap();

    let local = dir.path().join("local");
    let o = run_s3(
        &server,
        dir.path(),
        sample.to_str().unwrap(),
        &local,
        &["--no-report"],
    );
    assert_ok(&o);
    let as_of = manifest(&local)["as_of"].as_str().unwrap().to_string();

    let remote = dir.path().join("remote");
    let o = run_s3(
        &server,
        dir.path(),
        "s3://lake/events",
        &remote,
        &["--as-of", &as_of, "--no-report"],
    );
    assert_ok(&o);
    let m = manifest(&remote);
    // the date after the as-of date, `_` entries and JSON are not read
    let two = [
        "s3://lake/events/date=2000-01-01/part-0.parquet",
        "s3://lake/events/date=2000-01-01/part-1.parquet",
    ];
    assert_eq!(input_paths(&m), two);
    assert_eq!(m["input_rows"], manifest(&local)["input_rows"]);

    let names = table_names(&manifest(&local));
    assert!(names.len() > 20, "{names:?}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    for name in &names {
        let base = rt.block_on(rows_without(&local, name, &[]));
        assert!(
            !base.is_empty() || EMPTY_ON_THE_SAMPLE.contains(&name.as_str()),
            "{name} has rows"
        );
        let rows = rt.block_on(rows_without(&remote, name, &[]));
        assert_same_as(name, &base, &rows, "read from S3");
    }

    // a glob over keys reads the same two files
    let globbed = dir.path().join("globbed");
    let o = run_s3(
        &server,
        dir.path(),
        "s3://lake/events/date=2000-*/*.parquet",
        &globbed,
        &["--select", "sessions", "--no-report"],
    );
    assert_ok(&o);
    assert_eq!(input_paths(&manifest(&globbed)), two);
}

#[test]
#[ignore = "slow: starts a moto S3 server"]
fn a_bad_object_store_url_is_an_error_naming_it_and_nothing_is_written() {
    let Some(server) = start_s3() else { return };
    python(
        &server,
        "import boto3; boto3.client('s3').create_bucket(Bucket='empty')",
        &[],
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cases: [(&str, i32, &[&str]); 3] = [
        (
            "s3://no-such-bucket/events",
            1,
            &["s3://no-such-bucket/events", "no such bucket"],
        ),
        (
            "s3://empty/events",
            1,
            &["no input files match `s3://empty/events`"],
        ),
        (
            "ftp://host/events",
            2,
            &["ftp://host/events", "unknown scheme"],
        ),
    ];
    for (url, code, says) in cases {
        let o = run_s3(&server, dir.path(), url, &out, &[]);
        assert_eq!(o.status.code(), Some(code), "{url}: {}", stderr(&o));
        for s in says {
            assert!(
                stderr(&o).contains(s),
                "{url}: expected `{s}` in\n{}",
                stderr(&o)
            );
        }
        assert!(!out.exists(), "{url}: the output folder was created");
    }
}
