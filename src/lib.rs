//! microconv: a nightly batch job for marketing and product analytics.
//!
//! Event Parquet is mapped onto a canonical `events` table, a DAG of SQL
//! queries (bundled and the user's own) runs on Apache DataFusion, and every
//! result is published as Parquet with a run manifest. See `DESIGN.md`.

pub mod attribution_config;
pub mod bundled;
pub mod catalog;
pub mod cli;
pub mod clv_after;
pub mod clv_config;
pub mod commands;
pub mod config;
pub mod conversions;
pub mod dag;
pub mod engine;
pub mod error;
pub mod functions;
pub mod funnel_config;
pub mod generate;
pub mod input;
pub mod lift_config;
pub mod manifest;
pub mod mem;
pub mod pipeline;
pub mod project;
pub mod report;
pub mod run;
pub mod schema;
pub mod settings;
pub mod sink;

pub use error::{Error, Result};
