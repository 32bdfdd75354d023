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
    #[error("channel rule `{name}`: invalid `when` expression `{expr}`")]
    ChannelExpr {
        name: String,
        expr: String,
        #[source]
        source: Box<DataFusionError>,
    },
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
    #[error("output directory {path} is locked by another run (remove {path}/.lock if no run is active)")]
    Locked { path: PathBuf },
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

#[cfg(test)]
mod tests {
    use super::*;

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
