//! Rust functions callable from SQL. [`register_all`] adds every one of them
//! to a `SessionContext`; it depends on no process-global state, so any
//! executor (local or distributed) can call it.

pub mod clv;
pub mod markov;
pub mod markov_udaf;
pub mod stats;
pub mod time;

use datafusion::prelude::SessionContext;

/// Register every microconv function into `ctx`.
pub fn register_all(ctx: &SessionContext) {
    ctx.register_udf(time::parse_event_time_udf());
    ctx.register_udaf(markov_udaf::markov_attribution_udaf());
    clv::register(ctx);
    stats::register(ctx);
}
