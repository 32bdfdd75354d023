//! Publishing and recovery on hand-made folders: each test builds the state
//! a run (or a crash at a given step) leaves and checks the folder after.
//! Crashing the real binary at every step is `tests/publish.rs`.

use std::path::Path;

use super::journal::{self, Direction, Journal};
use super::manifest::{Manifest, TableEntry};
use super::publish::plan;
use super::*;
use crate::error::Error;

const DAY: &str = "2026-03-02";

fn manifest(run_id: &str, tables: &[&str]) -> Manifest {
    Manifest {
        microconv_version: "test",
        run_id: run_id.into(),
        as_of: DAY.into(),
        started_at: String::new(),
        finished_at: String::new(),
        seconds: 0.0,
        engine: "local".into(),
        config_path: None,
        config_sha256: String::new(),
        config: serde_json::Value::Null,
        inputs: vec![],
        input_rows: Default::default(),
        input_seconds: 0.0,
        input_peak_rss_bytes: None,
        peak_rss_bytes: None,
        tables: tables
            .iter()
            .map(|t| TableEntry {
                name: t.to_string(),
                path: format!("{t}/as_of={DAY}"),
                rows: 0,
                seconds: 0.0,
                peak_rss_bytes: None,
                origin: "bundled".into(),
                query_path: None,
                query_sha256: None,
                columns: vec![],
            })
            .collect(),
        internal_tables: vec![],
    }
}

/// Stage `tables` of run `run_id`, each holding a file with `<run_id>`.
fn stage<'a>(lock: &'a OutputLock, run_id: &str, tables: &[&str]) -> Staging<'a> {
    let staging = Staging::create(lock, run_id).unwrap();
    for t in tables {
        std::fs::create_dir_all(staging.path().join(t)).unwrap();
        std::fs::write(staging.path().join(t).join("f"), run_id).unwrap();
    }
    staging
}

/// Publish run `run_id` of `tables` completely.
fn run(lock: &OutputLock, run_id: &str, tables: &[&str]) {
    let staging = stage(lock, run_id, tables);
    publish(&staging, &manifest(run_id, tables), TablesNotRun::Drop).unwrap();
}

/// Which run wrote the published `table` (`-` when it is missing).
fn content(out: &Path, table: &str) -> String {
    std::fs::read_to_string(published_dir(out, table, DAY).join("f")).unwrap_or("-".into())
}

fn latest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("_manifests/latest.json")).unwrap())
        .unwrap()
}

fn listed(out: &Path) -> Vec<(String, Option<String>)> {
    latest(out)["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let from = t
                .get("from_run")
                .and_then(|r| r.as_str())
                .map(str::to_owned);
            (t["name"].as_str().unwrap().to_owned(), from)
        })
        .collect()
}

#[test]
fn publish_replaces_same_as_of_keeps_other_dates_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let lock = OutputLock::acquire(out).unwrap();
    run(&lock, "r1", &["a", "b"]);
    let other = published_dir(out, "a", "2026-03-01");
    std::fs::create_dir_all(&other).unwrap();
    run(&lock, "r2", &["a", "b"]);
    assert_eq!(
        (content(out, "a"), content(out, "b")),
        ("r2".into(), "r2".into())
    );
    assert!(other.exists());
    assert_eq!(latest(out)["run_id"], "r2");
    assert!(out.join(format!("_manifests/run-{DAY}-r1.json")).exists());
    assert!(out.join(format!("_manifests/run-{DAY}-r2.json")).exists());
    assert!(!Journal::path(out).exists());
    // the staging folders (with the previous copies) went with their guards
    assert!(!out.join(".staging").exists());
}

#[test]
fn unstaged_table_fails_before_anything_moves() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let lock = OutputLock::acquire(out).unwrap();
    run(&lock, "r1", &["a"]);
    let staging = stage(&lock, "r2", &["a"]);
    let err = publish(&staging, &manifest("r2", &["a", "b"]), TablesNotRun::Drop).unwrap_err();
    assert!(
        err.to_string().contains("table `b` was not staged"),
        "{err}"
    );
    assert_eq!(content(out, "a"), "r1");
    assert_eq!(latest(out)["run_id"], "r1");
    assert!(!Journal::path(out).exists());
}

#[test]
fn failed_move_rolls_back_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let lock = OutputLock::acquire(out).unwrap();
    run(&lock, "r1", &["a"]);
    // `b`'s folder cannot be created: a file is in the way
    std::fs::write(out.join("b"), "in the way").unwrap();
    let staging = stage(&lock, "r2", &["a", "b"]);
    let err = publish(&staging, &manifest("r2", &["a", "b"]), TablesNotRun::Drop).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert_eq!(content(out, "a"), "r1");
    assert_eq!(latest(out)["run_id"], "r1");
    assert!(!out.join(format!("_manifests/run-{DAY}-r2.json")).exists());
    assert!(!Journal::path(out).exists());
    drop(staging);
    assert!(!out.join(".staging").exists());
}

#[test]
fn partial_run_keeps_the_tables_it_did_not_run_whose_folders_exist() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let lock = OutputLock::acquire(out).unwrap();
    run(&lock, "r1", &["a", "b", "gone"]);
    std::fs::remove_dir_all(out.join("gone")).unwrap();
    let staging = stage(&lock, "r2", &["a"]);
    publish(&staging, &manifest("r2", &["a"]), TablesNotRun::Keep).unwrap();
    drop(staging);
    let expected = vec![("a".to_string(), None), ("b".into(), Some("r1".into()))];
    assert_eq!(listed(out), expected);
    // a carried entry keeps the run that wrote it
    let staging = stage(&lock, "r3", &["c"]);
    publish(&staging, &manifest("r3", &["c"]), TablesNotRun::Keep).unwrap();
    drop(staging);
    let expected = vec![
        ("c".to_string(), None),
        ("a".into(), Some("r2".into())),
        ("b".into(), Some("r1".into())),
    ];
    assert_eq!(listed(out), expected);
    assert_eq!(content(out, "b"), "r1");
    // a full run lists only its own tables
    run(&lock, "r4", &["a"]);
    assert_eq!(listed(out), vec![("a".to_string(), None)]);
}

/// Write run r2's journal over run r1's outputs, as the publish does, and
/// leave the rest to the test (which plays the crash).
fn journal_over_r1<'a>(lock: &'a OutputLock, tables: &[&str]) -> (Staging<'a>, Journal) {
    run(lock, "r1", tables);
    let staging = stage(lock, "r2", tables);
    let journal = plan(&staging, &manifest("r2", tables), TablesNotRun::Drop).unwrap();
    journal.write(lock.out()).unwrap();
    (staging, journal)
}

#[test]
fn recovery_rolls_forward_when_every_new_copy_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let lock = OutputLock::acquire(out).unwrap();
    let (staging, _journal) = journal_over_r1(&lock, &["a", "b"]);
    // crash after `a`'s previous copy was moved aside: `a` is missing
    std::fs::create_dir_all(staging.path().join(".replaced")).unwrap();
    std::fs::rename(
        published_dir(out, "a", DAY),
        staging.path().join(".replaced/a"),
    )
    .unwrap();
    std::mem::forget(staging); // a crash runs no destructor
    journal::recover(out).unwrap();
    assert_eq!(
        (content(out, "a"), content(out, "b")),
        ("r2".into(), "r2".into())
    );
    assert_eq!(latest(out)["run_id"], "r2");
    assert!(!Journal::path(out).exists());
    // the sweep then frees the staging folder with the previous copies
    assert_eq!(sweep::sweep(&lock).entries, 1);
    assert!(!out.join(".staging").exists());
}

#[test]
fn recovery_rolls_back_when_a_new_copy_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let lock = OutputLock::acquire(out).unwrap();
    let (staging, journal) = journal_over_r1(&lock, &["a", "b"]);
    journal.roll_forward(out).unwrap(); // everything moved and committed...
                                        // ...but pretend the commit did not happen and `b`'s new copy is gone
    std::fs::write(
        out.join("_manifests/latest.json"),
        serde_json::to_vec(&serde_json::json!({"run_id": "r1", "tables": []})).unwrap(),
    )
    .unwrap();
    std::fs::remove_dir_all(published_dir(out, "b", DAY)).unwrap();
    std::mem::forget(staging);
    journal::recover(out).unwrap();
    assert_eq!(content(out, "a"), "r1");
    assert_eq!(content(out, "b"), "r1");
    assert!(!out.join(format!("_manifests/run-{DAY}-r2.json")).exists());
    assert!(!Journal::path(out).exists());
}

#[test]
fn recovery_finishes_a_roll_back_that_was_under_way() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let lock = OutputLock::acquire(out).unwrap();
    let (staging, mut journal) = journal_over_r1(&lock, &["a", "b", "c"]);
    // `a` moved into place, then an error: the process recorded the way
    // back, undid nothing yet, and died
    std::fs::create_dir_all(staging.path().join(".replaced")).unwrap();
    let a = published_dir(out, "a", DAY);
    std::fs::rename(&a, staging.path().join(".replaced/a")).unwrap();
    std::fs::rename(staging.path().join("a"), &a).unwrap();
    journal.direction = Direction::Back;
    journal.write(out).unwrap();
    std::mem::forget(staging);
    journal::recover(out).unwrap();
    for t in ["a", "b", "c"] {
        assert_eq!(content(out, t), "r1", "{t}");
    }
    assert_eq!(latest(out)["run_id"], "r1");
    assert!(!Journal::path(out).exists());
}

#[test]
fn recovery_after_the_commit_only_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let lock = OutputLock::acquire(out).unwrap();
    let (staging, journal) = journal_over_r1(&lock, &["a"]);
    journal.roll_forward(out).unwrap();
    std::mem::forget(staging);
    // a second replay of a committed journal changes nothing
    journal::recover(out).unwrap();
    assert_eq!(content(out, "a"), "r2");
    assert_eq!(latest(out)["run_id"], "r2");
    assert!(!Journal::path(out).exists());
}

#[test]
fn staging_is_kept_while_a_journal_needs_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let lock = OutputLock::acquire(out).unwrap();
    let (staging, _journal) = journal_over_r1(&lock, &["a"]);
    let path = staging.path().to_path_buf();
    drop(staging);
    assert!(path.join("a/f").exists());
    drop(lock);
    // the next lock holder publishes it and sweeps the staging folder
    let _lock = OutputLock::acquire(out).unwrap();
    assert_eq!(content(out, "a"), "r2");
    assert!(!path.exists());
}

#[test]
fn journal_paths_outside_the_output_folder_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let lock = OutputLock::acquire(&out).unwrap();
    let (staging, mut journal) = journal_over_r1(&lock, &["a"]);
    journal.tables[0].target = "../elsewhere".into();
    journal.write(&out).unwrap();
    std::mem::forget(staging);
    let err = journal::recover(&out).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(".publish-journal.json") && text.contains("../elsewhere"),
        "{text}"
    );
    assert!(!dir.path().join("elsewhere").exists());
    assert_eq!(content(&out, "a"), "r1");
}

#[test]
fn unreadable_journal_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(JOURNAL), "{ not json").unwrap();
    let err = OutputLock::acquire(dir.path()).unwrap_err();
    assert!(err.to_string().contains(JOURNAL), "{err}");
}
