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
    python_out(server, script, args);
}

/// [`python`], returning what it printed.
fn python_out(server: &S3Server, script: &str, args: &[&str]) -> String {
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
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The keys in `bucket` under `prefix`, as boto3 lists them.
fn keys(server: &S3Server, bucket: &str, prefix: &str) -> Vec<String> {
    let script = r#"
import sys, boto3
pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=sys.argv[1], Prefix=sys.argv[2])
for page in pages:
    for o in page.get("Contents", []):
        print(o["Key"])
"#;
    python_out(server, script, &[bucket, prefix])
        .lines()
        .map(str::to_string)
        .collect()
}

/// Read the published output at `prefix` (`bucket/key`) with readers that
/// are not microconv's (pyarrow's S3 filesystem for Parquet, the
/// `deltalake` package for Delta), following its `latest.json`, and write
/// each table's rows as one local file in the same layout under `dest`,
/// with that `latest.json`: the tests compare it like a local output. The
/// row count of every table is checked against the manifest on the way.
fn mirror(server: &S3Server, prefix: &str, dest: &Path, format: &str) {
    python(
        server,
        MIRROR,
        &[&server.endpoint, prefix, dest.to_str().unwrap(), format],
    );
}

const MIRROR: &str = r#"
import sys, os, json
import pyarrow.parquet as pq, pyarrow.fs as pafs, pyarrow.dataset as ds
endpoint, prefix, dest, fmt = sys.argv[1:5]
import boto3
bucket, key = prefix.split("/", 1)
latest = boto3.client("s3").get_object(Bucket=bucket, Key=key + "/_manifests/latest.json")["Body"].read()
if fmt == "parquet":
    # (not created for Delta: two S3 clients in one process abort at exit)
    fs = pafs.S3FileSystem(endpoint_override=endpoint.split("://")[1], scheme="http",
                           access_key="testing", secret_key="testing", region="us-east-1")
m = json.loads(latest)
os.makedirs(dest + "/_manifests", exist_ok=True)
open(dest + "/_manifests/latest.json", "wb").write(latest)
for t in m["tables"]:
    if fmt == "parquet":
        table = pq.read_table(prefix + "/" + t["path"], filesystem=fs)
    else:
        from deltalake import DeltaTable
        opts = {"AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        dt = DeltaTable("s3://" + prefix + "/" + t["name"], storage_options=opts)
        assert dt.metadata().partition_columns == ["as_of"], t["name"]
        day = ds.field("as_of") == ds.scalar(m["as_of"]).cast("date32")
        table = dt.to_pyarrow_dataset().to_table(filter=day).drop_columns(["as_of"])
    assert table.num_rows == t["rows"], (t["name"], table.num_rows, t["rows"])
    os.makedirs(dest + "/" + t["path"], exist_ok=True)
    pq.write_table(table, dest + "/" + t["path"] + "/part-0.parquet")
# skip the interpreter's teardown: the S3 clients' native threads can abort
# it ("terminate called without an active exception") after all is done
sys.stdout.flush()
os._exit(0)
"#;

fn microconv_s3(server: &S3Server, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    // one work folder per output, inside the test's folder
    let out = args
        .iter()
        .position(|a| *a == "--out")
        .map(|i| args[i + 1])
        .unwrap_or("out");
    let work: String = out
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    Command::new(env!("CARGO_BIN_EXE_microconv"))
        .args(args)
        .current_dir(dir)
        .env_remove("MICROCONV_OUT")
        .env_remove("MICROCONV_EVENTS")
        .env_remove("MICROCONV_OUTPUT_FORMAT")
        .env("MICROCONV_WORK_DIR", dir.join("work").join(work))
        .envs(s3_env(server))
        .envs(env.iter().copied())
        .output()
        .expect("run the microconv binary")
}

/// `microconv run` with the bundled config on `events`, into `out`.
fn run_s3(server: &S3Server, dir: &Path, events: &str, out: &str, extra: &[&str]) -> Output {
    run_s3_env(server, dir, events, out, extra, &[])
}

fn run_s3_env(
    server: &S3Server,
    dir: &Path,
    events: &str,
    out: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("microconv.toml");
    let mut args = vec![
        "run",
        "--config",
        config.to_str().unwrap(),
        "--events",
        events,
    ];
    args.extend(["--out", out]);
    args.extend(extra);
    microconv_s3(server, dir, &args, env)
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

/// Every table of the local output `reference` has the same rows in
/// `other` (sorted; floats as the partition test compares them).
fn assert_same_tables(reference: &Path, other: &Path, what: &str) {
    // the whole sample leaves only the known tables empty (half of it, more)
    let m = manifest(reference);
    let first_input = m["inputs"][0]["path"].as_str().unwrap();
    let sample = first_input.ends_with("data/sample/part-00000.parquet");
    let mut names = table_names(&manifest(reference));
    assert!(names.len() > 20, "{names:?}");
    let mut others = table_names(&manifest(other));
    names.sort();
    others.sort();
    assert_eq!(names, others, "{what}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    for name in &names {
        let base = rt.block_on(rows_without(reference, name, &[]));
        assert!(
            !sample || !base.is_empty() || EMPTY_ON_THE_SAMPLE.contains(&name.as_str()),
            "{name} has rows"
        );
        let rows = rt.block_on(rows_without(other, name, &[]));
        assert_same_as(name, &base, &rows, what);
    }
}

/// One of the two uploaded halves of the sample: a different input.
const HALF: &str = "s3://lake/events/date=2000-01-01/part-0.parquet";

/// Run the bundled job on `events` into the local folder `dir/<name>`.
fn local_run(
    server: &S3Server,
    dir: &Path,
    events: &str,
    name: &str,
    extra: &[&str],
) -> std::path::PathBuf {
    let out = dir.join(name);
    let mut args = vec!["--no-report"];
    args.extend(extra);
    assert_ok(&run_s3(server, dir, events, out.to_str().unwrap(), &args));
    out
}

/// A moto server holding the uploaded sample ([`UPLOAD`]), and the local
/// runs of the whole sample and of [`HALF`] at the sample's as-of date.
struct Lake {
    server: S3Server,
    dir: tempfile::TempDir,
    full: std::path::PathBuf,
    half: std::path::PathBuf,
    as_of: String,
}

fn lake() -> Option<Lake> {
    let server = start_s3()?;
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    python(&server, UPLOAD, &[sample.to_str().unwrap()]);
    let dir = tempfile::tempdir().unwrap();
    let full = local_run(&server, dir.path(), sample.to_str().unwrap(), "full", &[]);
    let as_of = manifest(&full)["as_of"].as_str().unwrap().to_string();
    let half = local_run(&server, dir.path(), HALF, "half", &["--as-of", &as_of]);
    Some(Lake {
        server,
        dir,
        full,
        half,
        as_of,
    })
}

fn run_id(out: &Path) -> String {
    manifest(out)["run_id"].as_str().unwrap().to_string()
}

#[test]
#[ignore = "slow: a moto S3 server and five runs of the whole job on the sample"]
fn delta_output_is_read_back_by_the_deltalake_package_and_a_rerun_replaces_its_day() {
    let Some(Lake {
        server,
        dir,
        full,
        half,
        as_of,
    }) = lake()
    else {
        return;
    };
    assert_ne!(
        manifest(&full)["input_rows"],
        manifest(&half)["input_rows"],
        "the two inputs differ"
    );

    let delta = ["--output-format", "delta", "--as-of", &as_of, "--no-report"];
    assert_ok(&run_s3(
        &server,
        dir.path(),
        "s3://lake/events",
        "s3://lake/delta",
        &delta,
    ));
    let first = dir.path().join("first");
    mirror(&server, "lake/delta", &first, "delta");
    assert_same_tables(&full, &first, "Delta on S3");

    // the same day again from other input: that day is replaced
    assert_ok(&run_s3(
        &server,
        dir.path(),
        HALF,
        "s3://lake/delta",
        &delta,
    ));
    let second = dir.path().join("second");
    mirror(&server, "lake/delta", &second, "delta");
    assert_same_tables(&half, &second, "Delta on S3, the day re-run");
    // one commit per table and run: versions 0 and 1
    let versions = python_out(
        &server,
        r#"
import sys
from deltalake import DeltaTable
opts = {"AWS_ENDPOINT_URL": sys.argv[1], "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
print(DeltaTable("s3://lake/delta/sessions", storage_options=opts).version(), flush=True)
import os; os._exit(0)
"#,
        &[&server.endpoint],
    );
    assert_eq!(versions.trim(), "1");
    assert_eq!(
        keys(&server, "lake", "delta/_microconv/"),
        Vec::<String>::new()
    );

    // another day: added beside it, the first day untouched
    let earlier = chrono_date(chrono_day(&as_of) - 1);
    let other = [
        "--output-format",
        "delta",
        "--as-of",
        &earlier,
        "--no-report",
    ];
    assert_ok(&run_s3(
        &server,
        dir.path(),
        HALF,
        "s3://lake/delta",
        &other,
    ));
    let per_day = python_out(
        &server,
        r#"
import sys, os
from deltalake import DeltaTable
opts = {"AWS_ENDPOINT_URL": sys.argv[1], "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
t = DeltaTable("s3://lake/delta/sessions", storage_options=opts).to_pyarrow_table()
days = {}
for d in t.column("as_of").to_pylist():
    days[str(d)] = days.get(str(d), 0) + 1
print(" ".join(f"{k}={v}" for k, v in sorted(days.items())), flush=True)
os._exit(0)
"#,
        &[&server.endpoint],
    );
    let mut words = per_day.split_whitespace();
    let (first, second_day) = (words.next().unwrap(), words.next().unwrap());
    assert!(first.starts_with(&format!("{earlier}=")), "{per_day}");
    assert!(
        first
            .trim_start_matches(&format!("{earlier}="))
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert_eq!(
        second_day,
        format!("{as_of}={}", table_rows(&half, "sessions"))
    );

    // Delta on a local path, read by the same package
    let local_delta = dir.path().join("local-delta");
    assert_ok(&run_s3(
        &server,
        dir.path(),
        HALF,
        local_delta.to_str().unwrap(),
        &delta,
    ));
    let rows = python_out(
        &server,
        "import sys, os; from deltalake import DeltaTable; print(DeltaTable(sys.argv[1]).to_pyarrow_table().num_rows, flush=True); os._exit(0)",
        &[local_delta.join("sessions").to_str().unwrap()],
    );
    let expected = table_rows(&half, "sessions");
    assert_eq!(rows.trim(), expected.to_string());
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date, and back.
fn chrono_day(date: &str) -> i64 {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days()
}

fn chrono_date(days: i64) -> String {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    (epoch + chrono::Duration::days(days)).to_string()
}

/// A table's row count in a manifest.
fn table_rows(out: &Path, name: &str) -> u64 {
    let m = manifest(out);
    let tables = m["tables"].as_array().unwrap();
    let t = tables.iter().find(|t| t["name"] == name).unwrap();
    t["rows"].as_u64().unwrap()
}

/// The data files of every table a local output's manifest lists.
fn data_files(out: &Path) -> usize {
    let m = manifest(out);
    m["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            std::fs::read_dir(out.join(t["path"].as_str().unwrap()))
                .unwrap()
                .filter(|e| {
                    let name = e.as_ref().unwrap().file_name();
                    !name.to_string_lossy().starts_with(['.', '_'])
                })
                .count()
        })
        .sum()
}

const FAULT: &str = "MICROCONV_FAULT_AFTER_EXPORT_STEPS";

#[test]
#[ignore = "slow: a moto S3 server and seven runs of the whole job on the sample"]
fn a_run_killed_while_publishing_to_s3_leaves_the_previous_outputs_and_the_next_run_finishes_it() {
    let Some(Lake {
        server,
        dir,
        full,
        half,
        as_of,
    }) = lake()
    else {
        return;
    };
    let args = ["--as-of", as_of.as_str(), "--no-report"];
    let out = "s3://lake/k";

    // A: a complete run
    assert_ok(&run_s3(&server, dir.path(), "s3://lake/events", out, &args));
    let a = dir.path().join("a");
    mirror(&server, "lake/k", &a, "parquet");
    assert_same_tables(&full, &a, "run A");

    // B: killed after its third upload, before the journal: nothing a
    // reader sees has changed
    let o = run_s3_env(&server, dir.path(), HALF, out, &args, &[(FAULT, "3")]);
    assert_eq!(o.status.code(), None, "killed\n{}", stderr(&o));
    assert!(
        stderr(&o).contains("after export step 3 (upload"),
        "{}",
        stderr(&o)
    );
    let b = dir.path().join("b");
    mirror(&server, "lake/k", &b, "parquet");
    assert_eq!(run_id(&b), run_id(&a));
    assert_same_tables(&full, &b, "after B was killed uploading");

    // C: killed after the journal and two copies (its start first deletes
    // the three uploads B left): latest.json still names A
    let k = 3 + data_files(&half) + 1 + 2;
    let o = run_s3_env(
        &server,
        dir.path(),
        HALF,
        out,
        &args,
        &[(FAULT, &k.to_string())],
    );
    assert_eq!(o.status.code(), None, "killed\n{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("after export step {k} (copy")),
        "{}",
        stderr(&o)
    );
    let journal = "k/_microconv/publish-journal.json";
    assert_eq!(keys(&server, "lake", journal), [journal]);
    let c_run = python_out(
        &server,
        r#"
import sys, json, boto3
s3 = boto3.client("s3")
get = lambda k: json.loads(s3.get_object(Bucket="lake", Key=k)["Body"].read())
assert get("k/_manifests/latest.json")["run_id"] == sys.argv[1]
print(get("k/_microconv/publish-journal.json")["run_id"])
"#,
        &[&run_id(&a)],
    );
    let c_run = c_run.trim();

    // E: finishes C's publish (C's run manifest appears), then its own
    assert_ok(&run_s3(&server, dir.path(), HALF, out, &args));
    let c_manifest = format!("k/_manifests/run-{as_of}-{c_run}.json");
    assert_eq!(keys(&server, "lake", &c_manifest), [c_manifest]);
    let e = dir.path().join("e");
    mirror(&server, "lake/k", &e, "parquet");
    assert_ne!(run_id(&e), run_id(&a));
    assert_ne!(run_id(&e), c_run);
    assert_same_tables(&half, &e, "after the next run");
    assert_eq!(keys(&server, "lake", "k/_microconv/"), Vec::<String>::new());

    // a lock held by a run on another machine: an error naming it, and
    // the outputs untouched
    python(
        &server,
        r#"
import json, boto3
lock = {"run_id": "r1", "host": "elsewhere", "pid": 1, "since": "2026-01-01T00:00:00Z"}
boto3.client("s3").put_object(Bucket="lake", Key="k/_microconv/lock.json", Body=json.dumps(lock))
"#,
        &[],
    );
    let o = run_s3(&server, dir.path(), "s3://lake/events", out, &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("s3://lake/k/_microconv/lock.json") && stderr(&o).contains("elsewhere"),
        "{}",
        stderr(&o)
    );
    let after = dir.path().join("after");
    mirror(&server, "lake/k", &after, "parquet");
    assert_eq!(run_id(&after), run_id(&e));
}

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
        local.to_str().unwrap(),
        &["--no-report"],
    );
    assert_ok(&o);
    let as_of = manifest(&local)["as_of"].as_str().unwrap().to_string();

    let o = run_s3(
        &server,
        dir.path(),
        "s3://lake/events",
        "s3://lake/out",
        &["--as-of", &as_of],
    );
    assert_ok(&o);
    // read back by pyarrow's own S3 client, following latest.json
    let remote = dir.path().join("remote");
    mirror(&server, "lake/out", &remote, "parquet");
    let m = manifest(&remote);
    // the date after the as-of date, `_` entries and JSON are not read
    let two = [
        "s3://lake/events/date=2000-01-01/part-0.parquet",
        "s3://lake/events/date=2000-01-01/part-1.parquet",
    ];
    assert_eq!(input_paths(&m), two);
    assert_eq!(m["input_rows"], manifest(&local)["input_rows"]);
    // nothing left behind: no lock, journal or uploads; the report is there
    assert_eq!(
        keys(&server, "lake", "out/_microconv/"),
        Vec::<String>::new()
    );
    let report = format!("out/report/as_of={as_of}/index.html");
    assert_eq!(keys(&server, "lake", &report), [report]);

    assert_same_tables(&local, &remote, "published to S3");

    // a --select run from a fresh work folder: the manifest carries over
    // the destination's other tables (the work folder has none of them)
    let fresh = dir.path().join("fresh-work");
    let o = run_s3_env(
        &server,
        dir.path(),
        "s3://lake/events",
        "s3://lake/out",
        &["--as-of", &as_of, "--select", "sessions", "--no-report"],
        &[("MICROCONV_WORK_DIR", fresh.to_str().unwrap())],
    );
    assert_ok(&o);
    let selected = dir.path().join("selected");
    mirror(&server, "lake/out", &selected, "parquet");
    let sm = manifest(&selected);
    let entry = |name: &str| {
        let tables = sm["tables"].as_array().unwrap();
        tables.iter().find(|t| t["name"] == name).unwrap().clone()
    };
    assert!(entry("sessions").get("from_run").is_none());
    assert_eq!(entry("clv_rfm")["from_run"], m["run_id"]);
    assert_ne!(sm["run_id"], m["run_id"]);
    assert_same_tables(&local, &selected, "after a --select run");

    // a glob over keys reads the same two files
    let globbed = dir.path().join("globbed");
    let o = run_s3(
        &server,
        dir.path(),
        "s3://lake/events/date=2000-*/*.parquet",
        globbed.to_str().unwrap(),
        &["--select", "sessions", "--no-report"],
    );
    assert_ok(&o);
    assert_eq!(input_paths(&manifest(&globbed)), two);

    // the endpoint from [storage] instead of the environment, input and
    // output from the config file
    let config = dir.path().join("stored.toml");
    std::fs::write(
        &config,
        format!(
            "[input]\nevents = [\"s3://lake/events\"]\n[output]\ndir = \"s3://lake/configured\"\n\
             [storage]\nendpoint = \"{}\"\nallow_http = true\npath_style = true\nregion = \"us-east-1\"\n",
            server.endpoint
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_microconv"))
        .args([
            "run",
            "--config",
            config.to_str().unwrap(),
            "--as-of",
            &as_of,
        ])
        .args(["--select", "sessions", "--no-report"])
        .current_dir(dir.path())
        .env_remove("MICROCONV_OUT")
        .env_remove("MICROCONV_OUTPUT_FORMAT")
        .env("MICROCONV_WORK_DIR", dir.path().join("work/configured"))
        .envs(s3_env(&server).into_iter().filter(|(k, _)| {
            !k.starts_with("AWS_ENDPOINT") && *k != "AWS_ALLOW_HTTP" && *k != "AWS_REGION"
        }))
        .output()
        .unwrap();
    assert_ok(&o);
    let latest = "configured/_manifests/latest.json";
    assert_eq!(keys(&server, "lake", latest), [latest]);
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
        let o = run_s3(&server, dir.path(), url, out.to_str().unwrap(), &[]);
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
    // outputs: the bucket is checked before any work, nothing is written
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    let outs: [(&str, i32, &str); 2] = [
        ("s3://no-such-bucket/out", 1, "no such bucket"),
        ("ftp://host/out", 2, "unknown scheme"),
    ];
    for (url, code, says) in outs {
        let o = run_s3(&server, dir.path(), sample.to_str().unwrap(), url, &[]);
        assert_eq!(o.status.code(), Some(code), "{url}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(url) && stderr(&o).contains(says),
            "{url}: expected `{says}` in\n{}",
            stderr(&o)
        );
        assert!(!dir.path().join("work").exists(), "{url}: work was done");
    }
}
