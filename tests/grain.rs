//! The grain of every bundled query, checked by a machine (dbt's `unique`
//! and `not_null` tests): each query has a `-- key:` header, and on the
//! bundled sample no two rows of its table share a key and no key column is
//! NULL (except the columns the header marks `?`).
//!
//! The check reads the Parquet a real run published, so it runs inside the
//! one test that runs the bundled sample (`cli::repo_config_runs_on_the_bundled_sample`).
//! Internal tables are not published; that run also gets a folder of user
//! queries, one `internal_<name>` per internal table, that republishes them.

use std::path::{Path, PathBuf};

use datafusion::functions_aggregate::expr_fn::count;
use datafusion::prelude::{ident, lit, ParquetReadOptions, SessionContext};
use microconv::dag::query_file::{self, QueryFile};

fn bundled() -> Vec<QueryFile> {
    query_file::load(&[] as &[&Path]).unwrap()
}

/// Where a bundled query's table is published: its own name, or
/// `internal_<name>` (republished by [`republishing_queries`]).
fn published_name(q: &QueryFile) -> String {
    if q.internal {
        format!("internal_{}", q.name)
    } else {
        q.name.clone()
    }
}

/// Write into `dir` one user query per internal bundled table that copies
/// it, so that a run publishes it; returns `dir`.
pub fn republishing_queries(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for q in bundled().iter().filter(|q| q.internal) {
        let sql = format!(
            "-- grain: a copy of the internal table {0}\nSELECT * FROM {0}\n",
            q.name
        );
        std::fs::write(dir.join(format!("{}.sql", published_name(q))), sql).unwrap();
    }
    dir.to_path_buf()
}

/// What is wrong with one table's key on the run in `out` (nothing: empty).
async fn key_problems(ctx: &SessionContext, out: &Path, q: &QueryFile) -> Vec<String> {
    let table = published_name(q);
    let dir = out.join(&table);
    let df = ctx
        .read_parquet(dir.to_str().unwrap(), ParquetReadOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{}: cannot read {}: {e}", q.path, dir.display()));
    let columns: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let missing: Vec<&String> = q.key.iter().filter(|k| !columns.contains(k)).collect();
    if !missing.is_empty() {
        return vec![format!(
            "{}: key column(s) {missing:?} are not in the output {columns:?}",
            q.path
        )];
    }
    let mut problems = Vec::new();
    let key: Vec<_> = q.key.iter().map(ident).collect();
    let duplicated = df
        .clone()
        .aggregate(key, vec![count(lit(1)).alias("n")])
        .unwrap()
        .filter(ident("n").gt(lit(1)))
        .unwrap()
        .count()
        .await
        .unwrap();
    if duplicated > 0 {
        problems.push(format!(
            "{}: {duplicated} key value(s) of ({}) occur on more than one row of `{table}`",
            q.path,
            q.key.join(", ")
        ));
    }
    for column in q.key.iter().filter(|k| !q.nullable_key.contains(k)) {
        let nulls = df
            .clone()
            .filter(ident(column).is_null())
            .unwrap()
            .count()
            .await
            .unwrap();
        if nulls > 0 {
            problems.push(format!(
                "{}: key column `{column}` is NULL on {nulls} row(s) of `{table}` (mark it `{column}?` if that is its meaning)",
                q.path
            ));
        }
    }
    problems
}

/// Check the key of every bundled query on the tables published in `out` by
/// a run with the [`republishing_queries`] folder; panics listing every
/// problem found.
pub fn assert_keys_hold(out: &Path) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let problems: Vec<String> = runtime.block_on(async {
        let ctx = SessionContext::new();
        let mut problems = Vec::new();
        for q in bundled() {
            if q.key.is_empty() {
                problems.push(format!("{} has no `-- key:` header", q.path));
                continue;
            }
            problems.extend(key_problems(&ctx, out, &q).await);
        }
        problems
    });
    assert!(
        problems.is_empty(),
        "grain checks failed:\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_duplicate_key_a_null_key_and_a_missing_column_are_caught() {
    // a fake run's output: `t` published twice over for key (a), b NULL once
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("t/as_of=2026-03-01");
    std::fs::create_dir_all(&dir).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let problems = runtime.block_on(async {
        let ctx = SessionContext::new();
        ctx.sql("SELECT * FROM (VALUES (1, 'x'), (1, 'y'), (2, NULL)) v(a, b)")
            .await
            .unwrap()
            .write_parquet(dir.to_str().unwrap(), Default::default(), None)
            .await
            .unwrap();
        let with_key = |key: &str| {
            query_file::parse(
                "t.sql",
                "q/t.sql",
                &format!("-- key: {key}\nSELECT 1"),
                query_file::Origin::User,
            )
            .unwrap()
        };
        let mut found = Vec::new();
        for key in ["a", "a, b", "a, b?", "a, c"] {
            found.push(key_problems(&ctx, out.path(), &with_key(key)).await);
        }
        found
    });
    // (a): 1 twice; (a, b): unique but b NULL once; (a, b?) fine; c missing
    assert_eq!(problems[0].len(), 1, "{:?}", problems[0]);
    assert!(
        problems[0][0].contains("1 key value(s) of (a)"),
        "{:?}",
        problems[0]
    );
    assert_eq!(problems[1].len(), 1, "{:?}", problems[1]);
    assert!(
        problems[1][0].contains("`b` is NULL on 1 row"),
        "{:?}",
        problems[1]
    );
    assert!(problems[2].is_empty(), "{:?}", problems[2]);
    assert!(problems[3][0].contains("[\"c\"]"), "{:?}", problems[3]);
}
