//! The integration test binary: one module per topic (see STYLE.md).

mod attribution;
mod bad_input;
#[cfg(feature = "ballista")]
mod ballista;
mod cli;
mod clv;
mod docs;
mod funnel_parity;
mod funnels;
mod generate;
mod grain;
mod input_formats;
mod lift;
mod object_store;
mod parallelism;
mod publish;
mod report;
mod slt;
mod support;
