//! The crate's one error type. Each variant carries the context a user needs
//! to fix the problem (file, column, key, line); `exit_code` maps it to the
//! CLI contract: 2 for usage/config errors, 1 for a failed run.

use std::path::PathBuf;

use datafusion::error::DataFusionError;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read config file {path}")]
    ConfigRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config {path}: {message}")]
    ConfigParse { path: PathBuf, message: String },
    #[error("invalid setting `{key}`: {message}")]
    Setting { key: String, message: String },
    #[error("conversion `{name}`: invalid `{key}` expression `{expr}`")]
    ConversionExpr {
        name: String,
        key: &'static str,
        expr: String,
        #[source]
        source: Box<DataFusionError>,
    },
    #[error("conversion `{name}` failed on `{table}`")]
    ConversionFailed {
        name: String,
        table: String,
        #[source]
        source: Box<Error>,
    },
    #[error("channel rule `{name}`: invalid `when` expression `{expr}`")]
    ChannelExpr {
        name: String,
        expr: String,
        #[source]
        source: Box<DataFusionError>,
    },
    #[error("object store {url}: {message}")]
    Storage { url: String, message: String },
    #[error("Ballista {what}: {message}")]
    Engine { what: String, message: String },
    #[error("no input files match `{spec}`")]
    NoInputFiles { spec: String },
    #[error("cannot read input file {path}: {message}")]
    InputFile { path: PathBuf, message: String },
    #[error("input file {path} has no column `{column}` (needed for canonical `{canonical}`; map it under [input.columns])")]
    MissingColumn {
        path: PathBuf,
        column: String,
        canonical: &'static str,
    },
    #[error("input file {path}: column `{column}` has type {found}, which cannot become canonical `{canonical}` ({expected})")]
    ColumnType {
        path: PathBuf,
        column: String,
        canonical: &'static str,
        found: String,
        expected: &'static str,
    },
    #[error("input file {path}: `{column}` matches several columns when case is ignored ({}); map the one to use under [input.columns]", matches.join(", "))]
    AmbiguousColumn {
        path: PathBuf,
        column: String,
        matches: Vec<String>,
    },
    #[error("input file {path} has no column `{column}`, named in [input] dedupe_key")]
    MissingKeyColumn { path: PathBuf, column: String },
    #[error("no valid events in the input (after rejecting bad rows); nothing to analyse")]
    NoEvents,
    #[error("query file {path}: {message}")]
    QueryFile { path: String, message: String },
    #[error("query `{name}` ({path}) reads `{table}`, which is neither an input, a reference table nor another query")]
    UnknownTable {
        name: String,
        path: String,
        table: String,
    },
    #[error("query dependency cycle: {}", cycle.join(" -> "))]
    Cycle { cycle: Vec<String> },
    #[error("--select names `{name}`, which is not a query (see `microconv queries`)")]
    UnknownSelect { name: String },
    #[error("query `{name}` ({path}) failed")]
    QueryFailed {
        name: String,
        path: String,
        #[source]
        source: Box<DataFusionError>,
    },
    #[error("I/O error on {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("output directory {path} is in use by another microconv run (it holds the lock on {path}/.lock)")]
    Locked { path: PathBuf },
    #[error("output {url} is in use by another microconv run: {message}")]
    DestinationLocked { url: String, message: String },
    #[error("cannot move {from} to {to}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot publish {path}: {message}")]
    Publish { path: PathBuf, message: String },
    #[error("cannot write the report {path}: {message}")]
    Report { path: PathBuf, message: String },
    #[error("stopped by {signal}; the outputs are as they were before the run")]
    Stopped { signal: crate::shutdown::Signal },
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("event generator failed")]
    Generate(#[from] crate::generate::GenerateError),
}

impl Error {
    /// The process exit code for this error: 2 when the user must fix their
    /// invocation, config or query files (a cycle, an unknown table and a
    /// parse error included), 1 when the run itself failed.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::ConfigRead { .. }
            | Error::ConfigParse { .. }
            | Error::Setting { .. }
            | Error::ConversionExpr { .. }
            | Error::ChannelExpr { .. }
            | Error::QueryFile { .. }
            | Error::UnknownTable { .. }
            | Error::Cycle { .. }
            | Error::UnknownSelect { .. }
            | Error::AmbiguousColumn { .. }
            | Error::MissingKeyColumn { .. } => 2,
            Error::Generate(crate::generate::GenerateError::InvalidOptions(_)) => 2,
            Error::Stopped { signal } => signal.exit_code(),
            _ => 1,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn setting(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Setting {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// The error and its causes as one line, `a: b: c`, skipping a cause whose
/// text an earlier message already contains (DataFusion repeats itself).
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(text.trim()) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The error for a person: the first line says what failed and where
/// (the outermost message: query, file, column) and, after a colon, the
/// root cause; the messages in between follow, one `caused by:` line each.
/// DataFusion's wrappers (`Optimizer rule '...' failed`) repeat their cause
/// in their text: only their first line is kept.
pub fn report(err: &(dyn std::error::Error + 'static)) -> String {
    let mut messages: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        messages.push(e.to_string());
        next = e.source();
    }
    let first_line = |m: &str| m.lines().next().unwrap_or("").trim().to_string();
    let root = messages.last().cloned().unwrap_or_default();
    let top = first_line(&messages[0]);
    if messages.len() == 1 {
        return messages[0].trim().to_string();
    }
    let root_line = root.trim().to_string();
    let mut out = if top.contains(root_line.as_str()) {
        top.clone()
    } else {
        format!("{top}: {root_line}")
    };
    for m in &messages[1..messages.len() - 1] {
        let line = first_line(m);
        if !line.is_empty() && !out.contains(line.as_str()) {
            out.push_str("\n  caused by: ");
            out.push_str(&line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_leads_with_where_and_the_root_cause() {
        let inner = DataFusionError::Execution("Cannot cast string 'x' to Int32".into());
        let err = Error::QueryFailed {
            name: "q".into(),
            path: "q.sql".into(),
            source: Box::new(DataFusionError::Context(
                "Optimizer rule 'simplify_expressions' failed".into(),
                Box::new(inner),
            )),
        };
        let text = report(&err);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("query `q` (q.sql) failed: ")
                && lines[0].contains("Cannot cast string 'x' to Int32"),
            "{text}"
        );
        assert!(
            lines[1].contains("caused by: Optimizer rule 'simplify_expressions' failed"),
            "{text}"
        );
        assert_eq!(lines.len(), 2, "{text}");
    }

    #[test]
    fn chain_skips_repeated_causes() {
        let inner = DataFusionError::Plan("no field named x".into());
        let err = Error::QueryFailed {
            name: "q".into(),
            path: "q.sql".into(),
            source: Box::new(DataFusionError::Context("planning".into(), Box::new(inner))),
        };
        let text = chain(&err);
        assert_eq!(text.matches("no field named x").count(), 1, "{text}");
        assert!(text.starts_with("query `q` (q.sql) failed: "), "{text}");
    }
}
