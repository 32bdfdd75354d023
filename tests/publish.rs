//! Crash safety of publishing and the output lock, with the real binary.
//!
//! The binary's test-only fault hook (`MICROCONV_FAULT_AFTER_FS_STEPS=N`,
//! see `src/sink/steps.rs`) aborts it right after the Nth filesystem step
//! of its publish, the way a SIGKILL would. Each Parquet file names the run
//! that wrote it in its footer (`microconv.run_id`), so "every table is
//! from the run `latest.json` names" is checked file by file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use microconv::sink::{FAULT_ENV, JOURNAL, RUN_ID_KEY};
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::support::{stderr, Project};

const AS_OF: &str = "2026-03-02";

/// A `--select` run: `rejected_events` and `sessions` replace the full
/// run's copies, `sessions_per_user` is new, every other table is carried.
const PARTIAL: &[&str] = &[
    "run",
    "--queries",
    "my_queries",
    "--select",
    "sessions",
    "--select",
    "sessions_per_user",
];

/// Journal (temp file, rename), 2 + 2 + 1 table renames, run manifest and
/// `latest.json` (temp file, rename each), journal removal.
const PARTIAL_STEPS: u64 = 2 + 5 + 4 + 1;

fn run(p: &Project, args: &[&str], fault: Option<u64>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_microconv"));
    cmd.args(args)
        .current_dir(p.dir.path())
        .env_remove("MICROCONV_OUT")
        .env_remove("MICROCONV_CONFIG")
        .env_remove(FAULT_ENV);
    if let Some(n) = fault {
        cmd.env(FAULT_ENV, n.to_string());
    }
    cmd.output().unwrap()
}

fn project() -> Project {
    let p = Project::new();
    std::fs::write(
        p.path("my_queries/sessions_per_user.sql"),
        "-- grain: one row per user\nSELECT user_id, COUNT(*) AS sessions FROM sessions GROUP BY user_id\n",
    )
    .unwrap();
    p
}

fn latest(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("_manifests/latest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The run id in a Parquet file's footer, and its row count.
fn footer(file: &Path, context: &str) -> (Option<String>, u64) {
    let opened = std::fs::File::open(file);
    let opened = opened.unwrap_or_else(|e| panic!("{context}: {}: {e}", file.display()));
    let reader = SerializedFileReader::new(opened).unwrap();
    let meta = reader.metadata().file_metadata();
    let run_id = meta
        .key_value_metadata()
        .into_iter()
        .flatten()
        .find(|kv| kv.key == RUN_ID_KEY)
        .and_then(|kv| kv.value.clone());
    (run_id, meta.num_rows() as u64)
}

/// The published `as_of` folders of tables on disk, relative to `out`
/// (not the HTML reports, `report/as_of=...`, written after the publish
/// from what it published).
fn published(out: &Path) -> Vec<String> {
    let mut dirs = Vec::new();
    for table in std::fs::read_dir(out).unwrap().flatten() {
        let name = table.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            || name.starts_with('_')
            || name == "report"
            || !table.path().is_dir()
        {
            continue;
        }
        for day in std::fs::read_dir(table.path()).unwrap().flatten() {
            dirs.push(format!("{name}/{}", day.file_name().to_string_lossy()));
        }
    }
    dirs.sort();
    dirs
}

/// Every published folder is listed by `latest.json` and each file in it
/// comes from the run the manifest says, with the rows it says; the run
/// manifest is `latest.json`; no journal is left. Returns the run id.
fn assert_one_run(out: &Path, context: &str) -> String {
    assert!(!out.join(JOURNAL).exists(), "{context}: journal left");
    let m = latest(out);
    let run_id = m["run_id"].as_str().unwrap().to_owned();
    let run_manifest = out.join(format!("_manifests/run-{AS_OF}-{run_id}.json"));
    assert_eq!(
        std::fs::read(&run_manifest).ok(),
        std::fs::read(out.join("_manifests/latest.json")).ok(),
        "{context}: run manifest differs from latest.json"
    );
    let mut listed = Vec::new();
    for t in m["tables"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        let path = t["path"].as_str().unwrap();
        let from = t
            .get("from_run")
            .and_then(|r| r.as_str())
            .unwrap_or(&run_id);
        let (file_run, rows) = footer(&out.join(path).join("part-00000.parquet"), context);
        assert_eq!(file_run.as_deref(), Some(from), "{context}: {name}");
        assert_eq!(Some(rows), t["rows"].as_u64(), "{context}: {name} rows");
        listed.push(path.to_owned());
    }
    listed.sort();
    assert_eq!(published(out), listed, "{context}: unlisted folders");
    run_id
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Every file under the published table folders, with its bytes.
fn tables_snapshot(out: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for dir in published(out) {
        for f in std::fs::read_dir(out.join(&dir)).unwrap().flatten() {
            files.push((f.path(), std::fs::read(f.path()).unwrap()));
        }
    }
    files.sort();
    files
}

#[test]
fn killed_publish_is_recovered_to_one_run_at_every_step() {
    let p = project();
    let out = p.path("out");
    let o = run(&p, &["run"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let old_run = assert_one_run(&out, "full run");
    let old_tables = tables_snapshot(&out);
    copy_dir(&out, &p.path("out.full"));

    for n in 1..=PARTIAL_STEPS {
        let _ = std::fs::remove_dir_all(&out);
        copy_dir(&p.path("out.full"), &out);
        let context = format!("killed after step {n}");
        let o = run(&p, PARTIAL, Some(n));
        assert_eq!(o.status.code(), None, "{context}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!(
                "{FAULT_ENV}: aborting after filesystem step {n} ("
            )),
            "{context}: {}",
            stderr(&o)
        );

        // the next invocation recovers, then is itself killed just before
        // it would publish, so what it recovered is what is checked
        let o = run(&p, PARTIAL, Some(0));
        assert_eq!(o.status.code(), None, "{context}: {}", stderr(&o));
        assert!(stderr(&o).contains("publish starting"), "{}", stderr(&o));
        let run_id = assert_one_run(&out, &context);
        if n == 1 {
            // only the journal's temp file was written: nothing happened
            assert_eq!(run_id, old_run, "{context}");
            assert_eq!(tables_snapshot(&out), old_tables, "{context}");
        } else {
            // the journal was in place: the publish was finished
            assert_ne!(run_id, old_run, "{context}");
            // (after the last step, the journal's removal, there is none)
            let journal_left = n < PARTIAL_STEPS;
            assert_eq!(
                stderr(&o).contains("an interrupted publish was found"),
                journal_left,
                "{context}: {}",
                stderr(&o)
            );
            let m = latest(&out);
            let from_old = m["tables"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["from_run"] == old_run.as_str())
                .count();
            assert!(from_old > 20, "{context}: {from_old} tables carried over");
        }

        // it also swept what the killed run left: only its own staging
        // folder is there, and no temp file
        assert!(
            stderr(&o).contains("leftover(s) of interrupted runs") && stderr(&o).contains("bytes"),
            "{context}: {}",
            stderr(&o)
        );
        let staged = std::fs::read_dir(out.join(".staging")).unwrap().count();
        assert_eq!(staged, 1, "{context}");
        assert_no_temp_files(&out, &context);
    }

    // the publish has no step PARTIAL_STEPS + 1: that run is not killed,
    // and leaves nothing behind
    let _ = std::fs::remove_dir_all(&out);
    copy_dir(&p.path("out.full"), &out);
    let o = run(&p, PARTIAL, Some(PARTIAL_STEPS + 1));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(assert_one_run(&out, "last run"), old_run);
    assert!(!out.join(".staging").exists());
    assert!(!out.join(".lock").exists());
    assert_no_temp_files(&out, "last run");
}

fn assert_no_temp_files(out: &Path, context: &str) {
    for dir in [out.to_path_buf(), out.join("_manifests")] {
        for f in std::fs::read_dir(&dir).unwrap().flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            assert!(!name.ends_with(".tmp"), "{context}: {name} left");
        }
    }
}

#[test]
fn second_run_is_refused_while_the_lock_is_held() {
    let p = project();
    let lock = microconv::sink::OutputLock::lock(&p.path("out")).unwrap();
    let o = run(&p, &["run", "--select", "sessions"], None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is in use by another microconv run"),
        "{}",
        stderr(&o)
    );
    assert!(!p.path("out/_manifests").exists());
    drop(lock);
    let o = run(&p, &["run", "--select", "sessions"], None);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Older versions wrote their pid into `.lock` and refused to start while
/// it named a live process: pid 1 (a job that was PID 1 in a container)
/// blocked forever, and so did an empty file.
#[test]
fn lock_file_left_by_an_older_version_does_not_block() {
    for content in ["1", ""] {
        let p = project();
        std::fs::create_dir_all(p.path("out")).unwrap();
        std::fs::write(p.path("out/.lock"), content).unwrap();
        let o = run(&p, &["run", "--select", "sessions"], None);
        assert!(o.status.success(), "{content:?}: {}", stderr(&o));
        assert!(!p.path("out/.lock").exists());
    }
}

/// SIGTERM, SIGINT and SIGHUP (a scheduler's timeout, Ctrl-C, a closed
/// terminal) stop a run on the bundled sample while it computes: the exit
/// code is the shell's for the signal, the outputs of the previous run are
/// untouched, no staging is left and the lock is free for the next run.
#[test]
#[ignore = "slow: runs the bundled sample four times"]
fn a_signal_stops_a_run_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let out = out.path().join("out");
    let run = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_microconv"));
        command
            .args(["run", "--out"])
            .arg(&out)
            .current_dir(root)
            .env_remove("MICROCONV_OUT")
            .env_remove("MICROCONV_CONFIG");
        command
    };
    let first = run().output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    let before = tables_snapshot(&out);
    let latest_before = std::fs::read(out.join("_manifests/latest.json")).unwrap();
    for (signal, code) in [("TERM", 143), ("INT", 130), ("HUP", 129)] {
        let child = run()
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // wait until the run is computing: its staging folder exists
        let started = std::time::Instant::now();
        while !out.join(".staging").exists() {
            assert!(started.elapsed().as_secs() < 60, "the run never staged");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        let kill = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(kill.success());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(code), "SIG{signal}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("SIG{signal}")),
            "{}",
            stderr(&o)
        );
        assert_eq!(
            tables_snapshot(&out),
            before,
            "SIG{signal} changed the outputs"
        );
        assert_eq!(
            std::fs::read(out.join("_manifests/latest.json")).unwrap(),
            latest_before
        );
        let staging_left = std::fs::read_dir(out.join(".staging"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(staging_left, 0, "SIG{signal} left staging behind");
    }
    // the lock went with the process: the next run takes it and publishes
    let last = run().output().unwrap();
    assert!(last.status.success(), "{}", stderr(&last));
}
