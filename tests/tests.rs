//! The integration test binary: one module per topic (see STYLE.md).

mod attribution;
mod cli;
mod clv;
mod common;
mod docs;
mod generate;
mod lift;
mod slt;
