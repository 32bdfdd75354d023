//! Rust functions callable from SQL. [`register_all`] adds every one of them
//! to a `SessionContext`; it depends on no process-global state, so any
//! executor (local or distributed) can call it.

pub mod bucket;
pub mod clv;
pub mod first_by;
pub mod funnel;
pub mod ga4;
pub mod markov;
pub mod ordered_agg;
pub mod rowwise;
pub mod stats;
pub mod time;

use datafusion::prelude::SessionContext;

/// Register every microconv function into `ctx`.
pub fn register_all(ctx: &SessionContext) {
    ctx.register_udf(time::parse_event_time_udf());
    ctx.register_udf(time::seconds_between_udf());
    ctx.register_udf(bucket::hash_bucket_udf());
    ctx.register_udf(ga4::ga4_param_udf());
    ctx.register_udaf(funnel::window_funnel_udaf());
    ctx.register_udaf(funnel::window_funnel_times_udaf());
    ctx.register_udf(funnel::wilson::proportion_ci_low_udf());
    ctx.register_udf(funnel::wilson::proportion_ci_high_udf());
    ctx.register_udaf(markov::udaf::markov_attribution_udaf());
    ctx.register_udaf(ordered_agg::string_agg_by_udaf());
    ctx.register_udaf(ordered_agg::array_agg_by_udaf());
    ctx.register_udaf(first_by::first_by_udaf());
    clv::register(ctx);
    stats::register(ctx);
    stats::two_proportion::register(ctx);
}
