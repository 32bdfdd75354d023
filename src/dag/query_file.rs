//! Query files as a project: the bundled `queries/*.sql` compiled into the
//! binary plus the user's own folders. One SELECT per file; the file name is
//! the output table; a leading comment header gives grain and description.

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
    /// Where it came from, for messages: `queries/x.sql (bundled)` or a path.
    pub path: String,
    pub sql: String,
    pub origin: Origin,
    /// What one row is.
    pub grain: Option<String>,
    pub description: String,
    /// Internal tables are registered for later queries but not published.
    pub internal: bool,
    pub sha256: String,
}

/// Load bundled queries, then each user folder in order; a user file with a
/// bundled (or earlier) name replaces it.
pub fn load(user_dirs: &[impl AsRef<Path>]) -> Result<Vec<QueryFile>> {
    let mut files: BTreeMap<String, QueryFile> = BTreeMap::new();
    for (file_name, sql) in bundled::BUNDLED {
        let q = parse(
            file_name,
            &format!("queries/{file_name} (bundled)"),
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
    check_read_only(sql).map_err(err)?;
    let (grain, description, internal) = header(sql);
    Ok(QueryFile {
        name,
        path: path.to_string(),
        sql: sql.to_string(),
        origin,
        grain,
        description,
        internal,
        sha256: hex::encode(Sha256::digest(sql.as_bytes())),
    })
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

/// Read the leading `--` comment block: `grain:` and `output: internal`
/// lines are recognised; the other lines form the description.
fn header(sql: &str) -> (Option<String>, String, bool) {
    let mut grain = None;
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
        } else if let Some(o) = comment.strip_prefix("output:") {
            internal = o.trim() == "internal";
        } else if let Some(d) = comment.strip_prefix("description:") {
            description.push(d.trim().to_string());
        } else if !comment.is_empty() {
            description.push(comment.to_string());
        }
    }
    (grain, description.join(" "), internal)
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
    }

    #[test]
    fn bundled_list_matches_the_queries_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        on_disk.sort();
        let listed: Vec<String> = bundled::BUNDLED
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        assert_eq!(
            listed, on_disk,
            "src/dag/bundled.rs must list every file in queries/"
        );
        for (name, sql) in bundled::BUNDLED {
            assert_eq!(*sql, std::fs::read_to_string(dir.join(name)).unwrap());
        }
    }

    #[test]
    fn bundled_queries_parse() {
        let files = load(&[] as &[&Path]).unwrap();
        assert!(files.iter().any(|q| q.name == "sessions"));
        for q in &files {
            assert!(q.grain.is_some(), "{} has no grain header", q.path);
        }
    }
}
