//! Builtin tables: DAG nodes computed in Rust from the config rather than
//! from a query file.

pub mod clv_activity_after_as_of;
pub mod conversion_hits;
