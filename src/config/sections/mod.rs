//! One module per config section: its raw TOML struct and its validation.

pub mod attribution;
pub mod clv;
pub mod funnels;
pub mod lift;
