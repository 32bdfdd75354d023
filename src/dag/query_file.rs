//! Query files as a project: the bundled `queries/<topic>/*.sql` compiled
//! into the binary plus the user's own folders (only the `*.sql` directly in
//! each). One SELECT per file; the file name is the output table; a leading
//! comment header gives grain, key and description.

use std::collections::BTreeMap;
use std::path::Path;

use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::Statement;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

use super::bundled;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Bundled,
    User,
}

/// One query file, parsed and checked to be a single read-only SELECT.
#[derive(Debug, Clone)]
pub struct QueryFile {
    /// Output table name (the file name without `.sql`).
    pub name: String,
    /// Where it came from, for messages: `queries/<topic>/x.sql (bundled)`
    /// or a path.
    pub path: String,
    pub sql: String,
    pub origin: Origin,
    /// What one row is.
    pub grain: Option<String>,
    /// The columns that identify one row (the `-- key:` header; empty when
    /// absent): no two rows share their values.
    pub key: Vec<String>,
    /// The key columns marked `?` in the header, which may be NULL (a NULL
    /// then counts as one value, e.g. `event_id` of session-scope conversions).
    pub nullable_key: Vec<String>,
    pub description: String,
    /// Internal tables are registered for later queries but not published.
    pub internal: bool,
    pub sha256: String,
}

/// Load bundled queries, then each user folder in order; a user file with a
/// bundled (or earlier) name replaces it.
pub fn load(user_dirs: &[impl AsRef<Path>]) -> Result<Vec<QueryFile>> {
    let mut files: BTreeMap<String, QueryFile> = BTreeMap::new();
    for (rel_path, sql) in bundled::BUNDLED {
        let file_name = rel_path.rsplit('/').next().unwrap_or(rel_path);
        let q = parse(
            file_name,
            &format!("queries/{rel_path} (bundled)"),
            sql,
            Origin::Bundled,
        )?;
        files.insert(q.name.clone(), q);
    }
    for dir in user_dirs {
        let dir = dir.as_ref();
        for path in user_files(dir)? {
            let sql = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let file_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let q = parse(&file_name, &path.display().to_string(), &sql, Origin::User)?;
            files.insert(q.name.clone(), q);
        }
    }
    Ok(files.into_values().collect())
}

/// The query files of one user folder, sorted. The rule: regular files (or
/// symlinks to them) directly in the folder whose name ends in `.sql`,
/// lowercase, and does not start with `.`. Everything else is skipped with
/// a warning naming it: subfolders, `x.SQL`, dotfiles such as an editor's
/// lock symlink `.#x.sql`, broken symlinks, FIFOs.
pub fn user_files(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let why = if name.starts_with('.') {
            Some("a hidden file")
        } else if path.is_dir() {
            Some("a folder (query folders are not searched recursively)")
        } else if !name.ends_with(".sql") {
            Some(if name.to_ascii_lowercase().ends_with(".sql") {
                "the extension must be lowercase .sql"
            } else {
                "not a .sql file"
            })
        } else {
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => None,
                Ok(_) => Some("not a regular file"),
                Err(_) => Some("a broken symlink"),
            }
        };
        match why {
            None => paths.push(path),
            Some(why) => {
                tracing::warn!(path = %path.display(), "query folder entry skipped: {why}")
            }
        }
    }
    paths.sort();
    Ok(paths)
}

/// Parse one query file's header and check its SQL.
pub fn parse(file_name: &str, path: &str, sql: &str, origin: Origin) -> Result<QueryFile> {
    let err = |message: String| Error::QueryFile {
        path: path.to_string(),
        message,
    };
    let name = file_name
        .strip_suffix(".sql")
        .unwrap_or(file_name)
        .to_string();
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(err(format!(
            "`{name}` is not a valid table name: use lowercase letters, digits and _"
        )));
    }
    if name == crate::report::REPORT_DIR {
        return Err(err(format!(
            "`{name}` is reserved: <out>/{name}/ holds the HTML report; rename the file"
        )));
    }
    check_read_only(sql).map_err(err)?;
    let h = header(sql);
    let (key, nullable_key) = match &h.key {
        Some(text) => parse_key(text).map_err(err)?,
        None => (Vec::new(), Vec::new()),
    };
    Ok(QueryFile {
        name,
        path: path.to_string(),
        sql: sql.to_string(),
        origin,
        grain: h.grain,
        key,
        nullable_key,
        description: h.description,
        internal: h.internal,
        sha256: hex::encode(Sha256::digest(sql.as_bytes())),
    })
}

/// `a, b, c?`: the key columns, and those marked `?` (may be NULL).
fn parse_key(text: &str) -> std::result::Result<(Vec<String>, Vec<String>), String> {
    let mut key = Vec::new();
    let mut nullable = Vec::new();
    for item in text.split(',').map(str::trim) {
        let (column, may_be_null) = match item.strip_suffix('?') {
            Some(c) => (c.trim_end(), true),
            None => (item, false),
        };
        let valid = !column.is_empty()
            && column
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`-- key: {text}`: expected column names separated by commas (`?` after one that may be NULL), found `{item}`"
            ));
        }
        if key.iter().any(|k| k == column) {
            return Err(format!("`-- key: {text}`: `{column}` is listed twice"));
        }
        key.push(column.to_string());
        if may_be_null {
            nullable.push(column.to_string());
        }
    }
    Ok((key, nullable))
}

/// Exactly one statement, and it must be a query (SELECT / WITH / VALUES).
fn check_read_only(sql: &str) -> std::result::Result<(), String> {
    let mut statements = DFParser::parse_sql(sql).map_err(|e| format!("cannot parse SQL: {e}"))?;
    if statements.len() != 1 {
        return Err(format!(
            "expected exactly one SELECT statement, found {}",
            statements.len()
        ));
    }
    match statements.pop_front() {
        Some(DFStatement::Statement(s)) if matches!(*s, Statement::Query(_)) => Ok(()),
        Some(DFStatement::CopyTo(_)) => {
            Err("COPY is not allowed: query files are read-only SELECTs".into())
        }
        Some(other) => {
            let text = other.to_string();
            let verb: String = text
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            Err(format!("only a read-only SELECT is allowed, found `{verb} ...` (DDL, DML and COPY are refused)"))
        }
        None => Err("the file holds no SQL statement".into()),
    }
}

/// What the leading comment block says.
struct Header {
    grain: Option<String>,
    key: Option<String>,
    description: String,
    internal: bool,
}

/// Read the leading `--` comment block: `grain:`, `key:` and
/// `output: internal` lines are recognised; the other lines form the
/// description.
fn header(sql: &str) -> Header {
    let mut grain = None;
    let mut key = None;
    let mut internal = false;
    let mut description = Vec::new();
    for line in sql.lines().map(str::trim) {
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix("--") else {
            break;
        };
        let comment = comment.trim();
        if let Some(g) = comment.strip_prefix("grain:") {
            grain = Some(g.trim().to_string());
        } else if let Some(k) = comment.strip_prefix("key:") {
            key = Some(k.trim().to_string());
        } else if let Some(o) = comment.strip_prefix("output:") {
            internal = o.trim() == "internal";
        } else if let Some(d) = comment.strip_prefix("description:") {
            description.push(d.trim().to_string());
        } else if !comment.is_empty() {
            description.push(comment.to_string());
        }
    }
    Header {
        grain,
        key,
        description: description.join(" "),
        internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_read() {
        let q = parse(
            "t.sql",
            "t.sql",
            "-- grain: one row per user\n-- description: users\n-- and more\nSELECT 1",
            Origin::User,
        )
        .unwrap();
        assert_eq!(q.grain.as_deref(), Some("one row per user"));
        assert_eq!(q.description, "users and more");
        assert!(!q.internal);
        assert!(q.key.is_empty());
    }

    #[test]
    fn key_is_read_with_its_nullable_columns() {
        let q = parse(
            "t.sql",
            "t.sql",
            "-- grain: one row per conversion\n-- key: conversion, session_id, event_id?\nSELECT 1",
            Origin::User,
        )
        .unwrap();
        assert_eq!(q.key, ["conversion", "session_id", "event_id"]);
        assert_eq!(q.nullable_key, ["event_id"]);
        assert_eq!(q.description, "");
        for bad in ["-- key: a,, b", "-- key: a, a", "-- key: a b"] {
            let err = parse(
                "t.sql",
                "my/t.sql",
                &format!("{bad}\nSELECT 1"),
                Origin::User,
            )
            .unwrap_err()
            .to_string();
            assert!(err.contains("my/t.sql") && err.contains("key"), "{err}");
        }
    }

    #[test]
    fn writes_are_refused_naming_the_file() {
        for sql in [
            "CREATE TABLE x AS SELECT 1",
            "INSERT INTO x VALUES (1)",
            "DROP TABLE sessions",
            "COPY (SELECT 1) TO 'x.parquet'",
            "SELECT 1; SELECT 2",
        ] {
            let err = parse("bad.sql", "my/bad.sql", sql, Origin::User)
                .unwrap_err()
                .to_string();
            assert!(err.contains("my/bad.sql"), "{err}");
        }
    }

    #[test]
    fn only_lowercase_sql_files_at_the_top_are_queries() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.sql"), "SELECT 1 AS x").unwrap();
        std::fs::write(d.join("b.SQL"), "SELECT 1 AS x").unwrap();
        std::fs::write(d.join(".hidden.sql"), "SELECT 1 AS x").unwrap();
        std::fs::write(d.join("notes.md"), "x").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/c.sql"), "SELECT 1 AS x").unwrap();
        std::os::unix::fs::symlink("nobody@host.1234", d.join(".#a.sql")).unwrap();
        std::os::unix::fs::symlink("missing.sql", d.join("dangling.sql")).unwrap();
        let found = user_files(d).unwrap();
        assert_eq!(found, vec![d.join("a.sql")]);
    }

    #[test]
    fn bad_names_are_refused() {
        assert!(parse("My Table.sql", "x", "SELECT 1", Origin::User).is_err());
        let reserved = parse("report.sql", "my/report.sql", "SELECT 1", Origin::User)
            .unwrap_err()
            .to_string();
        assert!(reserved.contains("my/report.sql"), "{reserved}");
    }

    /// Every `.sql` file under `dir`, as paths relative to it with `/`.
    fn sql_files_under(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                sql_files_under(&path, &format!("{prefix}{name}/"), out);
            } else if name.ends_with(".sql") {
                out.push(format!("{prefix}{name}"));
            }
        }
    }

    #[test]
    fn bundled_list_matches_the_queries_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut on_disk = Vec::new();
        sql_files_under(&dir, "", &mut on_disk);
        on_disk.sort();
        let listed: Vec<String> = bundled::BUNDLED
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        assert_eq!(
            listed, on_disk,
            "src/dag/bundled.rs must list every file under queries/, sorted"
        );
        for (rel_path, sql) in bundled::BUNDLED {
            assert_eq!(*sql, std::fs::read_to_string(dir.join(rel_path)).unwrap());
        }
    }

    #[test]
    fn bundled_table_names_are_unique_across_folders() {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (rel_path, _) in bundled::BUNDLED {
            let name = rel_path.rsplit('/').next().unwrap();
            if let Some(other) = seen.insert(name, rel_path) {
                panic!("queries/{other} and queries/{rel_path} both make table `{name}`");
            }
        }
    }

    #[test]
    fn bundled_queries_parse_with_grain_and_key() {
        let files = load(&[] as &[&Path]).unwrap();
        assert_eq!(files.len(), bundled::BUNDLED.len());
        let sessions = files.iter().find(|q| q.name == "sessions").unwrap();
        assert_eq!(sessions.path, "queries/sessions/sessions.sql (bundled)");
        for q in &files {
            assert!(q.grain.is_some(), "{} has no grain header", q.path);
            assert!(!q.key.is_empty(), "{} has no key header", q.path);
            // intermediates live in internal/, published tables in a topic
            assert_eq!(
                q.internal,
                q.path.starts_with("queries/internal/"),
                "{}: `output: internal` and the internal/ folder disagree",
                q.path
            );
        }
    }
}
