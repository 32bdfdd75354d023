//! Statistics for honest lift reporting, callable from SQL: intervals and
//! tests on 2×2 tables, Benjamini–Hochberg q-values, Mantel–Haenszel pooled
//! ratios over strata, and a sample-ratio-mismatch test. Distributions come
//! from `statrs`.
//!
//! A 2×2 table is always passed as `(x1, n1, x0, n0)`: converters and users
//! of group 1 (exposed, treatment) then of group 0 (unexposed, control).
//! Functions that return an estimate with its interval return
//! `struct<estimate double, lower double, upper double>`; read a field with
//! `risk_ratio(x1, n1, x0, n0)['lower']`. An undefined result (empty group,
//! zero cell under a log) is NULL; an invalid argument (negative count,
//! converters above users, confidence outside (0, 1), p-value outside
//! [0, 1]) is an error naming the function and the argument. The scalar
//! functions are `rowwise` ones: a NULL argument gives NULL (a NULL struct
//! for an interval) and a NaN or infinite argument is an error.
//!
//! | SQL | kind | returns |
//! |---|---|---|
//! | `risk_ratio(x1, n1, x0, n0 [, confidence])` | scalar | struct: RR, log-RR (Katz) CI |
//! | `odds_ratio(x1, n1, x0, n0 [, confidence])` | scalar | struct: OR, Woolf CI |
//! | `z_test_p_value(x1, n1, x0, n0)` | scalar | pooled two-proportion z test, two-sided p |
//! | `fisher_exact_p_value(x1, n1, x0, n0)` | scalar | Fisher's exact test, two-sided p |
//! | `welch_t_test_p_value(mean1, sd1, n1, mean0, sd0, n0)` | scalar | Welch's t test, two-sided p |
//! | `mean_ratio(mean1, sd1, n1, mean0, sd0, n0 [, confidence])` | scalar | struct: mean1/mean0, delta-method log CI |
//! | `bh_q_value(p) OVER (...)` | window | Benjamini–Hochberg q-value within the window partition |
//! | `cmh_risk_ratio(x1, n1, x0, n0 [, confidence])` | aggregate over strata | struct: MH RR, Greenland–Robins CI |
//! | `cmh_odds_ratio(x1, n1, x0, n0 [, confidence])` | aggregate over strata | struct: MH OR, Robins–Breslow–Greenland CI |
//! | `srm_p_value(users [, expected_weight])` | aggregate over variants | chi-square goodness-of-fit p |

pub mod aggregate;
pub mod math;
pub mod scalar;
pub mod two_proportion;
pub mod window;

use datafusion::arrow::datatypes::Fields;
use datafusion::prelude::SessionContext;

// The argument coercion is the row-wise functions'; the aggregates and
// window functions here take the same kind of arguments.
pub use super::rowwise::coerce_numeric;

/// Register every statistics function into `ctx`.
pub fn register(ctx: &SessionContext) {
    for udf in [
        scalar::risk_ratio_udf(),
        scalar::odds_ratio_udf(),
        scalar::z_test_udf(),
        scalar::fisher_udf(),
        scalar::welch_udf(),
        scalar::mean_ratio_udf(),
    ] {
        ctx.register_udf(udf);
    }
    ctx.register_udaf(aggregate::cmh_risk_ratio_udaf());
    ctx.register_udaf(aggregate::cmh_odds_ratio_udaf());
    ctx.register_udaf(aggregate::srm_p_value_udaf());
    ctx.register_udwf(window::bh_q_value_udwf());
}

/// The field names of an interval result.
pub const INTERVAL: [&str; 3] = ["estimate", "lower", "upper"];

/// The fields of an interval result: estimate, lower, upper.
pub fn interval_fields() -> Fields {
    super::rowwise::double_fields(&INTERVAL)
}
