//! Rust functions callable from SQL. [`register_all`] adds every one of them
//! to a `SessionContext`; it depends on no process-global state, so any
//! executor (local or distributed) can call it.

pub mod clv;
pub mod stats;
pub mod time;

use datafusion::prelude::SessionContext;

/// Register every microconv function into `ctx`.
pub fn register_all(ctx: &SessionContext) {
    ctx.register_udf(time::parse_event_time_udf());
    clv::register(ctx);
    stats::register(ctx);
}
