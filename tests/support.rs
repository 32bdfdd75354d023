//! Shared test support: the fixtures (a hand-made events file, generated
//! data sets), the real binary run in a temp dir, the whole job run in
//! memory, and reading result tables.

pub mod binary;
pub mod fixtures;
pub mod in_memory;
pub mod tables;

pub use binary::{
    assert_ok, manifest, microconv, microconv_env, python_check, stderr, stdout, table_names,
    table_rows, Project,
};
pub use fixtures::{fixture_rows, generated, write_events, Generated, CONFIG, DAY0, PURCHASE};
pub use in_memory::run_in_memory;
pub use tables::{collect, f64_at, i64_at, published, text};
