//! The integration test binary: one module per topic (see STYLE.md).
mod generate;
