//! microconv: a nightly batch job for marketing and product analytics.
//!
//! Event Parquet is mapped onto a canonical `events` table, a DAG of SQL
//! queries (bundled and the user's own) runs on Apache DataFusion, and every
//! result is published as Parquet with a run manifest. See `DESIGN.md`.

pub(crate) mod builtin;
pub(crate) mod catalog;
pub mod cli;
pub mod config;
pub mod dag;
pub mod engine;
pub mod error;
pub mod functions;
pub mod generate;
pub mod input;
pub mod job;
pub mod peak_rss;
pub mod report;
pub mod schema;
pub mod shutdown;
pub mod sink;
pub mod storage;

pub use error::{Error, Result};
