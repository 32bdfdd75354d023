//! The bad-input regression corpus (issue 17): every hostile input as a
//! small generated Parquet file run through the real binary. Each case is
//! one of three classes: a counted reject (exit 0, the row in
//! `rejected_events` with its reason and counted in the manifest), a clear
//! error (exit 1 or 2 naming what failed and where, published outputs
//! unchanged), or handled (the run reads what it should and goes on).

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, NullArray, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{Field, Schema};
use parquet::arrow::ArrowWriter;

use crate::support::{stderr, Project, DAY0};

const HOUR: i64 = 3_600_000_000;

/// Write `columns` (name, values) as one Parquet file.
fn write(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch =
        RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.1).collect()).unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn text(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

fn times(v: &[i64]) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(v.to_vec()).with_timezone("UTC"))
}

/// Three good events of user `g` on 2026-03-01 (as-of 2026-03-01), named
/// g1..g3, plus the `bad` columns appended by the caller.
fn good(n: usize) -> (Vec<String>, Vec<String>, Vec<i64>, Vec<String>) {
    let ids = (1..=n).map(|i| format!("g{i}")).collect();
    let users = vec!["g".to_string(); n];
    let t = (0..n as i64).map(|i| DAY0 + (10 + i) * HOUR).collect();
    let names = vec!["page_view".to_string(); n];
    (ids, users, t, names)
}

/// A project whose events file holds 3 good rows and `extra` rows of
/// (event_id, user_id, event_time µs, event_name).
fn project_with(extra: &[(&str, &str, i64, &str)]) -> Project {
    let p = Project::new();
    std::fs::remove_file(p.path("events/part-0.parquet")).unwrap();
    let (mut ids, mut users, mut t, mut names) = good(3);
    for (i, u, tm, n) in extra {
        ids.push(i.to_string());
        users.push(u.to_string());
        t.push(*tm);
        names.push(n.to_string());
    }
    let s = |v: &Vec<String>| -> ArrayRef {
        Arc::new(StringArray::from(
            v.iter().map(String::as_str).collect::<Vec<_>>(),
        ))
    };
    write(
        &p.path("events/part-0.parquet"),
        vec![
            ("event_id", s(&ids)),
            ("user_id", s(&users)),
            ("event_time", times(&t)),
            ("event_name", s(&names)),
        ],
    );
    p
}

fn manifest(p: &Project) -> serde_json::Value {
    let text = std::fs::read_to_string(p.path("out/_manifests/latest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Run; assert exit 0 and that the manifest counts `n` rows rejected for
/// `reason` (and nothing else), with as many rows in `rejected_events`.
fn assert_rejects(p: &Project, args: &[&str], reason: &str, n: u64) -> serde_json::Value {
    let o = p.run(args);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(p);
    let rejected = &m["input_rows"]["rejected"];
    assert_eq!(rejected[reason].as_u64(), Some(n), "{rejected}");
    assert_eq!(rejected.as_object().unwrap().len(), 1, "{rejected}");
    let table = m["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "rejected_events")
        .unwrap();
    assert_eq!(table["rows"].as_u64(), Some(n));
    let out = crate::support::stdout(&o);
    assert!(out.contains(&format!("{reason}: {n}")), "{out}");
    m
}

/// Run a good project first, then `args` after `spoil`; assert the exit
/// code, that stderr's first line contains every `needle`, and that the
/// published outputs did not change.
fn assert_fails(
    p: &Project,
    spoil: impl FnOnce(&Project),
    args: &[&str],
    code: i32,
    needles: &[&str],
) -> Output {
    let o = p.run(&["run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = p.snapshot();
    spoil(p);
    let o = p.run(args);
    assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
    let err = stderr(&o);
    let first = err.lines().find(|l| l.starts_with("error: ")).unwrap_or("");
    for n in needles {
        assert!(first.contains(n), "`{n}` not in the first line:\n{err}");
    }
    assert!(before == p.snapshot(), "published outputs changed");
    o
}

// ---- counted rejects ------------------------------------------------------

#[test]
fn a_time_in_year_1500_is_rejected_out_of_range() {
    let y1500 = -14_831_769_600_000_000; // 1500-01-01
    let p = project_with(&[("b1", "u", y1500, "page_view")]);
    let m = assert_rejects(&p, &["run"], "event_time out of range", 1);
    assert_eq!(m["as_of"], "2026-03-01");
}

#[test]
fn text_times_before_year_1_and_in_1500_are_rejected_out_of_range() {
    let p = Project::new();
    std::fs::remove_file(p.path("events/part-0.parquet")).unwrap();
    write(
        &p.path("events/part-0.parquet"),
        vec![
            ("event_id", text(&["g1", "b1", "b2"])),
            ("user_id", text(&["g", "u", "u"])),
            (
                "event_time",
                text(&["2026-03-01T10:00:00Z", "-0001-01-01", "1500-06-01 10:00:00"]),
            ),
            ("event_name", text(&["page_view", "page_view", "page_view"])),
        ],
    );
    let o = p.run(&["run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(&p);
    let r = &m["input_rows"]["rejected"];
    // chrono reads `-0001-01-01` as year -1; either way it is not an event
    let out_of_range = r["event_time out of range"].as_u64().unwrap_or(0);
    let unparseable = r["unparseable event_time"].as_u64().unwrap_or(0);
    assert_eq!(out_of_range + unparseable, 2, "{r}");
    assert!(out_of_range >= 1, "{r}");
}

#[test]
fn epoch_milliseconds_read_as_seconds_are_rejected_out_of_range() {
    let p = Project::new();
    std::fs::remove_file(p.path("events/part-0.parquet")).unwrap();
    let ms = DAY0 / 1000;
    write(
        &p.path("events/part-0.parquet"),
        vec![
            ("event_id", text(&["g1", "b1"])),
            ("user_id", text(&["g", "u"])),
            // g1 in seconds; b1 in milliseconds (year 58053 when read as s)
            (
                "event_time",
                Arc::new(Int64Array::from(vec![DAY0 / 1_000_000, ms])) as ArrayRef,
            ),
            ("event_name", text(&["page_view", "page_view"])),
        ],
    );
    let cfg = std::fs::read_to_string(p.path("microconv.toml")).unwrap();
    std::fs::write(
        p.path("microconv.toml"),
        cfg.replace("[input]\n", "[input]\ntime = { unit = \"s\" }\n"),
    )
    .unwrap();
    let m = assert_rejects(&p, &["run"], "event_time out of range", 1);
    assert_eq!(m["as_of"], "2026-03-01");
}

#[test]
fn an_event_in_2199_is_in_the_future_and_does_not_move_the_as_of_date() {
    let y2199 = 7_226_582_400_000_000; // 2199-01-01
    let p = project_with(&[("b1", "u", y2199, "page_view")]);
    let m = assert_rejects(&p, &["run"], "event_time in the future", 1);
    assert_eq!(m["as_of"], "2026-03-01");
}

/// One good purchase (g1) and three (b1..b3) whose `revenue` is the caller's.
fn purchases_with_revenue(revenue: ArrayRef) -> Project {
    let p = Project::new();
    std::fs::remove_file(p.path("events/part-0.parquet")).unwrap();
    write(
        &p.path("events/part-0.parquet"),
        vec![
            ("event_id", text(&["g1", "b1", "b2", "b3"])),
            ("user_id", text(&["g", "u", "u", "u"])),
            (
                "event_time",
                times(&[
                    DAY0 + HOUR,
                    DAY0 + 2 * HOUR,
                    DAY0 + 3 * HOUR,
                    DAY0 + 4 * HOUR,
                ]),
            ),
            ("event_name", text(&["purchase"; 4])),
            ("revenue", revenue),
        ],
    );
    p
}

#[test]
fn nan_and_infinite_revenue_are_rejected() {
    let p = purchases_with_revenue(Arc::new(Float64Array::from(vec![
        10.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ])));
    assert_rejects(&p, &["run"], "non-finite revenue", 3);
}

#[test]
fn revenue_texts_nan_1e400_and_minus_inf_are_rejected() {
    let p = purchases_with_revenue(text(&["10.5", "NaN", "1e400", "-inf"]));
    assert_rejects(&p, &["run"], "non-finite revenue", 3);
}

#[test]
fn a_conversion_value_that_is_not_finite_is_rejected_naming_the_conversion() {
    let p = Project::new();
    let cfg = std::fs::read_to_string(p.path("microconv.toml")).unwrap();
    // e4's revenue is 50: 50 / 0 is infinite; e7's (20) is finite
    std::fs::write(
        p.path("microconv.toml"),
        cfg.replace(
            "value = \"revenue\"",
            "value = \"revenue / (revenue - 50.0)\"",
        ),
    )
    .unwrap();
    let o = p.run(&["run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = &manifest(&p)["input_rows"]["rejected"];
    assert_eq!(
        r["non-finite value of conversion purchase"].as_u64(),
        Some(1),
        "{r}"
    );
    assert_eq!(r["missing user_id"].as_u64(), Some(1), "{r}");
}

#[test]
fn nan_in_a_float_epoch_column_is_an_unparseable_time() {
    let p = Project::new();
    std::fs::remove_file(p.path("events/part-0.parquet")).unwrap();
    write(
        &p.path("events/part-0.parquet"),
        vec![
            ("event_id", text(&["g1", "b1", "b2"])),
            ("user_id", text(&["g", "u", "u"])),
            (
                "event_time",
                Arc::new(Float64Array::from(vec![
                    (DAY0 / 1_000_000) as f64,
                    f64::NAN,
                    f64::INFINITY,
                ])) as ArrayRef,
            ),
            ("event_name", text(&["page_view"; 3])),
        ],
    );
    let o = p.run(&["run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = &manifest(&p)["input_rows"]["rejected"];
    assert_eq!(r["unparseable event_time"].as_u64(), Some(1), "{r}");
    assert_eq!(r["event_time out of range"].as_u64(), Some(1), "{r}");
}

#[test]
fn whitespace_only_user_ids_are_missing() {
    let t = DAY0 + 20 * HOUR;
    let p = project_with(&[
        ("b1", "\t", t, "page_view"),
        ("b2", " \t\n", t, "page_view"),
        ("b3", "", t, "page_view"),
        ("b4", " ", t, "page_view"),
        ("b5", "\u{a0}", t, "page_view"),
    ]);
    assert_rejects(&p, &["run"], "missing user_id", 5);
}

// ---- handled ----------------------------------------------------------------

#[test]
fn an_all_null_column_of_arrow_type_null_reads_as_nulls() {
    let p = Project::new();
    std::fs::remove_file(p.path("events/part-0.parquet")).unwrap();
    write(
        &p.path("events/part-0.parquet"),
        vec![
            ("event_id", text(&["g1", "g2"])),
            ("user_id", text(&["g", "g"])),
            ("event_time", times(&[DAY0 + HOUR, DAY0 + 2 * HOUR])),
            ("event_name", text(&["page_view"; 2])),
            ("campaign", Arc::new(NullArray::new(2)) as ArrayRef),
            ("revenue", Arc::new(NullArray::new(2)) as ArrayRef),
        ],
    );
    let o = p.run(&["run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(&p);
    assert_eq!(m["input_rows"]["valid"].as_u64(), Some(2));
    let s = p.run(&[
        "sql",
        "SELECT COUNT(*) AS n FROM events WHERE campaign IS NULL AND revenue = 0",
        "--format",
        "csv",
    ]);
    assert_eq!(crate::support::stdout(&s), "n\n2\n", "{}", stderr(&s));
}

/// Rows without an event_id: (order_id, line, user, µs, name, revenue).
fn orders(p: &Project, rows: &[(&str, i64, &str, i64, &str, f64)]) {
    std::fs::remove_file(p.path("events/part-0.parquet")).ok();
    write(
        &p.path("events/part-0.parquet"),
        vec![
            (
                "order_id",
                text(&rows.iter().map(|r| r.0).collect::<Vec<_>>()),
            ),
            (
                "line",
                Arc::new(Int64Array::from(
                    rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                )) as ArrayRef,
            ),
            (
                "user_id",
                text(&rows.iter().map(|r| r.2).collect::<Vec<_>>()),
            ),
            (
                "event_time",
                times(&rows.iter().map(|r| r.3).collect::<Vec<_>>()),
            ),
            (
                "event_name",
                text(&rows.iter().map(|r| r.4).collect::<Vec<_>>()),
            ),
            (
                "revenue",
                Arc::new(Float64Array::from(
                    rows.iter().map(|r| r.5).collect::<Vec<_>>(),
                )) as ArrayRef,
            ),
        ],
    );
}

const T: i64 = DAY0 + 12 * HOUR;

#[test]
fn rows_differing_only_in_an_unmapped_column_are_not_duplicates() {
    let p = Project::new();
    // two real order lines alike in every mapped column; one exact copy
    orders(
        &p,
        &[
            ("o1", 1, "u", T, "purchase", 5.0),
            ("o1", 2, "u", T, "purchase", 5.0),
            ("o1", 2, "u", T, "purchase", 5.0),
        ],
    );
    let m = assert_rejects(&p, &["run"], "duplicate event_id", 1);
    assert_eq!(m["input_rows"]["valid"].as_u64(), Some(2));
}

#[test]
fn a_configured_dedupe_key_decides_what_a_duplicate_is() {
    let p = Project::new();
    // same order line sent twice with a different revenue rounding
    orders(
        &p,
        &[
            ("o1", 1, "u", T, "purchase", 5.0),
            ("o1", 1, "u", T, "purchase", 5.001),
            ("o1", 2, "u", T, "purchase", 5.0),
        ],
    );
    let cfg = std::fs::read_to_string(p.path("microconv.toml")).unwrap();
    std::fs::write(
        p.path("microconv.toml"),
        cfg.replace(
            "[input]\n",
            "[input]\ndedupe_key = [\"order_id\", \"line\"]\n",
        ),
    )
    .unwrap();
    let m = assert_rejects(&p, &["run"], "duplicate event_id", 1);
    assert_eq!(m["input_rows"]["valid"].as_u64(), Some(2));
}

#[test]
fn dedupe_false_keeps_identical_rows_with_distinct_ids() {
    let p = Project::new();
    orders(
        &p,
        &[
            ("o1", 1, "u", T, "purchase", 5.0),
            ("o1", 1, "u", T, "purchase", 5.0),
        ],
    );
    let cfg = std::fs::read_to_string(p.path("microconv.toml")).unwrap();
    std::fs::write(
        p.path("microconv.toml"),
        cfg.replace("[input]\n", "[input]\ndedupe = false\n"),
    )
    .unwrap();
    let o = p.run(&["run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(&p);
    assert_eq!(m["input_rows"]["valid"].as_u64(), Some(2));
    assert_eq!(m["input_rows"]["rejected"].as_object().unwrap().len(), 0);
    let s = p.run(&[
        "sql",
        "SELECT COUNT(DISTINCT event_id) AS n FROM events",
        "--format",
        "csv",
    ]);
    assert_eq!(crate::support::stdout(&s), "n\n2\n", "{}", stderr(&s));
}

#[test]
fn a_fifo_in_the_input_folder_is_skipped_with_a_warning() {
    let p = Project::new();
    let fifo = p.path("events/stuck.parquet");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let o = p.run(&["run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("stuck.parquet"), "{}", stderr(&o));
    assert_eq!(manifest(&p)["input_rows"]["rows"].as_u64(), Some(9));
}

#[test]
fn a_symlink_loop_is_followed_once() {
    let p = Project::new();
    std::os::unix::fs::symlink(p.path("events"), p.path("events/loop")).unwrap();
    let o = p.run(&["run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(&p);
    assert_eq!(m["input_rows"]["rows"].as_u64(), Some(9));
    assert!(m["input_rows"]["rejected"]
        .get("duplicate event_id")
        .is_none());
}

#[test]
fn an_output_folder_inside_the_input_folder_is_not_read_back() {
    let p = Project::new();
    for _ in 0..2 {
        let o = p.run(&["run", "--out", "events/out"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let text = std::fs::read_to_string(p.path("events/out/_manifests/latest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(m["input_rows"]["rows"].as_u64(), Some(9));
    assert_eq!(m["inputs"].as_array().unwrap().len(), 1);
}

#[test]
fn query_discovery_skips_editor_locks_subfolders_and_upper_case_with_a_warning() {
    let p = Project::new();
    let q = p.path("my_queries");
    std::fs::write(
        q.join("mine.sql"),
        "-- grain: one row\nSELECT COUNT(*) AS n FROM events",
    )
    .unwrap();
    std::os::unix::fs::symlink("user@host.4242:1700000000", q.join(".#mine.sql")).unwrap();
    std::fs::write(q.join("other.SQL"), "SELECT 1 AS x").unwrap();
    std::fs::create_dir(q.join("sub")).unwrap();
    std::fs::write(q.join("sub/deep.sql"), "SELECT 1 AS x").unwrap();
    let o = p.run(&["run", "--queries", "my_queries"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    for skipped in [".#mine.sql", "other.SQL", "sub"] {
        assert!(err.contains(skipped), "no warning for {skipped}:\n{err}");
    }
    let m = manifest(&p);
    let names: Vec<&str> = m["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"mine"));
    assert!(!names.contains(&"other") && !names.contains(&"deep"));
}

// ---- clear errors -----------------------------------------------------------

fn set_config(p: &Project, from: &str, to: &str) {
    let cfg = std::fs::read_to_string(p.path("microconv.toml")).unwrap();
    assert!(cfg.contains(from));
    std::fs::write(p.path("microconv.toml"), cfg.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_zero_or_negative_session_timeout_is_refused() {
    for bad in ["0s", "-5m"] {
        let p = Project::new();
        let line = format!("[sessions]\ntimeout = \"{bad}\"\n[output]\n");
        assert_fails(
            &p,
            |p| set_config(p, "[output]\n", &line),
            &["run"],
            2,
            &["sessions.timeout"],
        );
    }
}

#[test]
fn conversion_conditions_are_type_checked_before_anything_runs() {
    for (when, needle) in [
        ("event_name", "boolean"),
        ("COUNT(*) > 1", "aggregate"),
        ("ROW_NUMBER() OVER () = 1", "window"),
        ("no_such_column = 1", "no_such_column"),
    ] {
        let p = Project::new();
        let to = format!("when = \"{when}\"");
        assert_fails(
            &p,
            |p| set_config(p, "when = \"event_name = 'add_to_cart'\"", &to),
            &["run"],
            2,
            &["conversion `add_to_cart`", needle],
        );
    }
    let p = Project::new();
    assert_fails(
        &p,
        |p| set_config(p, "value = \"revenue\"", "value = \"event_name\""),
        &["run"],
        2,
        &["conversion `purchase`", "value", "number"],
    );
}

#[test]
fn a_runtime_error_in_a_condition_names_the_conversion() {
    let p = Project::new();
    assert_fails(
        &p,
        |p| {
            set_config(
                p,
                "when = \"event_name = 'add_to_cart'\"",
                "when = \"arrow_cast(page, 'Int64') > 0\"",
            )
        },
        &["run"],
        1,
        &["conversion `add_to_cart`", "session_events"],
    );
}

#[test]
fn two_case_insensitive_matches_are_a_config_error_naming_both() {
    let p = Project::new();
    assert_fails(
        &p,
        |p| {
            std::fs::remove_file(p.path("events/part-0.parquet")).unwrap();
            write(
                &p.path("events/part-0.parquet"),
                vec![
                    ("User_Id", text(&["a"])),
                    ("USER_ID", text(&["b"])),
                    ("event_time", times(&[DAY0])),
                    ("event_name", text(&["page_view"])),
                ],
            );
        },
        &["run"],
        2,
        &["User_Id", "USER_ID", "part-0.parquet"],
    );
}

#[test]
fn a_corrupt_parquet_page_names_the_file() {
    let p = Project::new();
    assert_fails(
        &p,
        |p| {
            let path = p.path("events/part-0.parquet");
            let mut bytes = std::fs::read(&path).unwrap();
            // overwrite the data pages (after the 4-byte magic), keep the footer
            for b in bytes.iter_mut().skip(8).take(300) {
                *b = 0xA5;
            }
            std::fs::write(&path, bytes).unwrap();
        },
        &["run"],
        1,
        &["part-0.parquet"],
    );
}

#[test]
fn as_of_before_all_data_is_the_empty_input_error() {
    let p = Project::new();
    let o = assert_fails(
        &p,
        |_| {},
        &["run", "--as-of", "2020-01-01"],
        1,
        &["no valid events"],
    );
    // the same words as an input whose every row is rejected
    let q = Project::new();
    q.run(&["run"]);
    let before = q.snapshot();
    crate::support::write_events(
        &q.path("events/part-0.parquet"),
        &crate::support::fixture_rows()[8..],
    );
    let e = q.run(&["run"]);
    assert_eq!(e.status.code(), o.status.code());
    assert_eq!(stderr(&e).lines().last(), stderr(&o).lines().last());
    assert!(before == q.snapshot());
}

#[test]
fn a_runtime_sql_error_leads_with_the_query_and_its_cause() {
    let p = Project::new();
    let o = assert_fails(
        &p,
        |p| {
            std::fs::write(
                p.path("my_queries/bad_cast.sql"),
                "-- grain: one row\nSELECT CAST('x' AS INT) AS n FROM events",
            )
            .unwrap()
        },
        &["run", "--queries", "my_queries"],
        1,
        &["bad_cast", "Cannot cast string 'x'"],
    );
    let err = stderr(&o);
    let first = err.lines().find(|l| l.starts_with("error: ")).unwrap();
    assert!(!first.contains("Optimizer rule"), "{err}");
}

// ---- the injected clock -------------------------------------------------------

#[tokio::test]
async fn the_clock_and_future_margin_decide_what_is_in_the_future() {
    use microconv::config::Settings;
    use microconv::job::Job;
    use microconv::sink::MemoryStore;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.parquet");
    crate::support::write_events(&path, &crate::support::fixture_rows());
    // the clock reads 2026-03-01T12:00Z: with a 1h margin the events after
    // 13:00 are in the future (e5 at 15:00, e6 at 11:40 is not; e7, e8 and
    // e9 are on the next day, e9 has no user and is rejected for that first)
    let now = chrono::DateTime::from_timestamp_micros(DAY0 + 12 * HOUR).unwrap();
    let text = format!(
        "[input]\nevents = [{:?}]\nfuture_margin = \"1h\"\n",
        path.display().to_string()
    );
    let job = Job::new(Settings::from_toml(&text).unwrap(), &[])
        .unwrap()
        .with_now(now);
    let files = microconv::input::discover(&job.settings().events, None).unwrap();
    let prepared = job.prepare_files(&files.files, &MemoryStore).await.unwrap();
    let r = &prepared.counts.rejected;
    assert_eq!(r.get("event_time in the future"), Some(&3), "{r:?}");
    assert_eq!(r.get("missing user_id"), Some(&1), "{r:?}");
    // the default as-of ignores the rejected rows: the latest good event
    // is e6 at 11:40 on 2026-03-01
    assert_eq!(prepared.as_of.to_string(), "2026-03-01");
}
