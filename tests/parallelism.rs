//! Answers do not depend on the parallelism: the bundled job on the sample,
//! run with `execution.target_partitions` 1, 3 and 8 (and 1, 2 and 4
//! tables computed at once), publishes the same tables (the internal ones
//! too), compared as sorted rows.
//!
//! Exact for integers, text, dates and timestamps. Floats within 1e-9
//! relative: a sum depends on the order its terms meet, and that order
//! changes with the partitions. The CLV fits (and the tables computed from
//! them) within 1e-5 relative: the optimiser sees those sums and can stop
//! in another place; their iteration count is not compared.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::support::{assert_ok, manifest, microconv, microconv_env, stderr, table_names, tables};

/// Tables with no rows on clean generated data: no rejected rows, and no
/// logins to stitch.
pub(crate) const EMPTY_ON_THE_SAMPLE: [&str; 2] = ["rejected_events", "identity_map"];

/// Tables whose floats come from an optimiser.
const TOLERANT: [&str; 3] = ["clv_model", "clv_predictions", "clv_validation"];
/// Columns not compared (table, column).
const IGNORED: [(&str, &str); 1] = [("clv_model", "iterations")];

#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub(crate) enum Cell {
    Null,
    Float(f64),
    Text(String),
}

#[test]
#[ignore = "slow: three runs of the whole job on the sample, about 2 min in a debug build"]
fn published_tables_are_the_same_at_1_3_and_8_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let republish = crate::grain::republishing_queries(&dir.path().join("queries"));
    // and with 1, 2 (the default) and 4 tables computed at once
    let outs: Vec<PathBuf> = [(1, "1"), (3, "2"), (8, "4")]
        .iter()
        .map(|&(partitions, tables)| {
            let queries = ["--queries", republish.to_str().unwrap()];
            let env = [("MICROCONV_PARALLEL_TABLES", tables)];
            let name = format!("p{partitions}");
            run_sample_env(dir.path(), &name, partitions, &queries, &env, "").0
        })
        .collect();
    for (out, partitions) in outs[1..].iter().zip([3, 8]) {
        assert_same_outputs(&outs[0], out, &format!("at {partitions} partitions"));
    }
}

/// Run the bundled job (microconv.toml) on the sample with
/// `execution.target_partitions = partitions` and `extra` arguments, into
/// `dir/<name>`; the published folder.
pub(crate) fn run_sample(dir: &Path, name: &str, partitions: usize, extra: &[&str]) -> PathBuf {
    run_sample_env(dir, name, partitions, extra, &[], "").0
}

/// [`run_sample`] with the variables `env` set and the lines `datafusion`
/// added to the config's `[datafusion]`; also returns its stderr.
pub(crate) fn run_sample_env(
    dir: &Path,
    name: &str,
    partitions: usize,
    extra: &[&str],
    env: &[(&str, &str)],
    datafusion: &str,
) -> (PathBuf, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = std::fs::read_to_string(root.join("microconv.toml")).unwrap();
    let sample = root.join("data/sample");
    let line = "\"execution.target_partitions\" = \"2\"";
    assert!(
        config.contains(line),
        "the sample config sets the partitions"
    );
    let cfg = config
        .replace(
            line,
            &format!("\"execution.target_partitions\" = \"{partitions}\"\n{datafusion}"),
        )
        .replace(
            "events = [\"data/sample\"]",
            &format!("events = [{:?}]", sample.to_str().unwrap()),
        );
    let cfg_path = dir.join(format!("{name}.toml"));
    std::fs::write(&cfg_path, cfg).unwrap();
    let out = dir.join(name);
    let mut args = vec![
        "run",
        "--config",
        cfg_path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = microconv_env(dir, &args, env);
    assert_ok(&o);
    (out, stderr(&o))
}

/// `other` publishes the tables `base` does (more than 20), each with the
/// same rows (see the module's tolerances); `what` names `other` in a
/// failure.
pub(crate) fn assert_same_outputs(base: &Path, other: &Path, what: &str) {
    let names = table_names(&manifest(base));
    assert!(names.len() > 20, "{names:?}");
    assert_eq!(names, table_names(&manifest(other)), "tables {what}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    for name in &names {
        let base_rows = rt.block_on(rows_of(base, name));
        assert!(
            !base_rows.is_empty() || EMPTY_ON_THE_SAMPLE.contains(&name.as_str()),
            "{name} has rows"
        );
        let rows = rt.block_on(rows_of(other, name));
        assert_same_as(name, &base_rows, &rows, what);
    }
}

/// Every row of the latest `as_of` of a published table, as cells, sorted.
async fn rows_of(out: &Path, table: &str) -> Vec<Vec<Cell>> {
    rows_without(out, table, &[]).await
}

/// [`rows_of`] without the columns named in `skip`.
pub(crate) async fn rows_without(out: &Path, table: &str, skip: &[&str]) -> Vec<Vec<Cell>> {
    let ctx = tables::published(out, &[table]).await;
    let batches = tables::collect(&ctx, &format!("SELECT * FROM \"{table}\"")).await;
    let mut rows = Vec::new();
    for batch in &batches {
        let keep: Vec<usize> = (0..batch.num_columns())
            .filter(|&i| !skip.contains(&batch.schema().field(i).name().as_str()))
            .collect();
        rows.extend(cells(table, &batch.project(&keep).unwrap()));
    }
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    rows
}

fn cells(table: &str, batch: &RecordBatch) -> Vec<Vec<Cell>> {
    let schema = batch.schema();
    let mut columns: Vec<Vec<Cell>> = Vec::new();
    for (field, array) in schema.fields().iter().zip(batch.columns()) {
        if IGNORED.contains(&(table, field.name().as_str())) {
            continue;
        }
        let column = match array.data_type() {
            DataType::Float16 | DataType::Float32 | DataType::Float64 => {
                let floats = cast(array, &DataType::Float64).unwrap();
                let floats = floats.as_primitive::<Float64Type>();
                (0..floats.len())
                    .map(|i| {
                        if floats.is_null(i) {
                            Cell::Null
                        } else {
                            Cell::Float(floats.value(i))
                        }
                    })
                    .collect()
            }
            _ => {
                let formatter = ArrayFormatter::try_new(array, &FormatOptions::default()).unwrap();
                (0..array.len())
                    .map(|i| {
                        if array.is_null(i) {
                            Cell::Null
                        } else {
                            Cell::Text(formatter.value(i).to_string())
                        }
                    })
                    .collect()
            }
        };
        columns.push(column);
    }
    // text before floats in each row, so rows sort by their exact parts
    // first and float noise cannot reorder them
    let mut rows = Vec::with_capacity(batch.num_rows());
    for r in 0..batch.num_rows() {
        let mut row: Vec<Cell> = columns
            .iter()
            .filter(|c| !matches!(c[r], Cell::Float(_)))
            .map(|c| c[r].clone())
            .collect();
        row.extend(
            columns
                .iter()
                .filter(|c| matches!(c[r], Cell::Float(_)))
                .map(|c| c[r].clone()),
        );
        rows.push(row);
    }
    rows
}

/// `rows` equal `base` (floats within 1e-9 relative, CLV fits 1e-5); `what`
/// says what `rows` come from in the failure message.
pub(crate) fn assert_same_as(table: &str, base: &[Vec<Cell>], rows: &[Vec<Cell>], what: &str) {
    assert_eq!(base.len(), rows.len(), "{table}: row count {what}");
    let rel = if TOLERANT.contains(&table) {
        1e-5
    } else {
        1e-9
    };
    for (a, b) in base.iter().zip(rows) {
        let same = a.len() == b.len()
            && a.iter().zip(b).all(|pair| match pair {
                (Cell::Float(x), Cell::Float(y)) => close(*x, *y, rel),
                (x, y) => x == y,
            });
        assert!(same, "{table} {what} differs:\n{a:?}\n{b:?}");
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    if a == b || (a.is_nan() && b.is_nan()) {
        return true;
    }
    let diff = (a - b).abs();
    // sums of terms that cancel can land on 0 in one order and on 1e-17 in
    // another: an absolute floor far below any printed figure
    diff <= rel * a.abs().max(b.abs()) || diff < 1e-12
}

/// DataFusion's sort-merge join (the setting microconv's out-of-memory
/// error suggests for a hash join that does not fit) gives every table,
/// internal ones too, the hash join's rows.
#[test]
#[ignore = "slow: two runs of the whole job on the sample"]
fn sort_merge_joins_publish_the_hash_join_tables() {
    let dir = tempfile::tempdir().unwrap();
    let republish = crate::grain::republishing_queries(&dir.path().join("queries"));
    let queries = ["--queries", republish.to_str().unwrap()];
    let hash = run_sample(dir.path(), "hash", 2, &queries);
    let (merge, _) = run_sample_env(
        dir.path(),
        "merge",
        2,
        &queries,
        &[],
        "\"optimizer.prefer_hash_join\" = \"false\"",
    );
    assert_same_outputs(&hash, &merge, "with sort-merge joins");
}

#[test]
fn a_table_written_as_several_files_reads_back_whole_in_pyarrow_and_duckdb() {
    // row groups of 5,000 rows: the sample's 44,923 sessions (planted by the
    // generator) are larger than one, so each of the 2 partitions writes a file
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(root.join("microconv.toml"))
        .unwrap()
        .replace(
            "zstd_level = 3\n",
            "zstd_level = 3\nmax_row_group_size = 5000\n",
        )
        .replace(
            "events = [\"data/sample\"]",
            &format!(
                "events = [{:?}]",
                root.join("data/sample").to_str().unwrap()
            ),
        );
    assert!(config.contains("max_row_group_size = 5000"));
    std::fs::write(dir.path().join("microconv.toml"), config).unwrap();
    let o = microconv(dir.path(), &["run", "--select", "sessions"]);
    assert_ok(&o);
    let out = dir.path().join("out");
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("data/sample/ground_truth.json")).unwrap(),
    )
    .unwrap();
    let sessions = truth["sessions"]["count"].as_u64().unwrap();
    let m = manifest(&out);
    let entry = m["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "sessions")
        .unwrap();
    assert_eq!(entry["rows"].as_u64(), Some(sessions));
    let folder = out.join(entry["path"].as_str().unwrap());
    let mut files: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["part-00000.parquet", "part-00001.parquet"]);
    // our own reader, then two independent ones (CI installs them)
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rows = rt.block_on(rows_of(&out, "sessions"));
    assert_eq!(rows.len() as u64, sessions);
    crate::support::python_check(
        &folder,
        &format!(
            "import pyarrow.dataset as ds, sys\n\
             t = ds.dataset(sys.argv[1], format='parquet').to_table()\n\
             assert t.num_rows == {sessions}, t.num_rows\n\
             assert len(set(t.column('session_id').to_pylist())) == {sessions}\n\
             try:\n    import duckdb\n\
             except ImportError:\n    sys.exit(0)\n\
             n, d = duckdb.connect().execute(f\"SELECT count(*), count(DISTINCT session_id) FROM read_parquet('{{sys.argv[1]}}/*.parquet')\").fetchone()\n\
             assert (n, d) == ({sessions}, {sessions}), (n, d)\n"
        ),
    );
}
