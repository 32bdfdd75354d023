//! One module per config section: its raw TOML struct (typed enums for
//! closed sets of values, unknown keys refused) and a `validate` that turns
//! it into settings. Nothing here registers tables or reads data files.

pub mod attribution;
pub mod channels;
pub mod clv;
pub mod conversions;
pub mod engine;
pub mod funnels;
pub mod input;
pub mod lift;
pub mod output;
pub mod params;
pub mod presets;
pub mod sessions;
pub mod storage;
