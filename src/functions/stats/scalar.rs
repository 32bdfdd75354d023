//! Scalar statistics functions: row-wise tests and intervals on 2×2 tables
//! and group summaries. Each is a [`rowwise`] function: its argument checks
//! and the math from [`math`]; a `double` p-value or a
//! `struct<estimate, lower, upper>` interval. NULLs, non-finite arguments
//! and errors follow the [`rowwise`] policy.

use datafusion::logical_expr::ScalarUDF;

use super::math::{self, Interval};
use super::INTERVAL;
use crate::functions::rowwise::{self, arg, opt, Arg};

const X1: Arg = arg("x1");
const N1: Arg = arg("n1");
const X0: Arg = arg("x0");
const N0: Arg = arg("n0");
const MEAN1: Arg = arg("mean1");
const SD1: Arg = arg("sd1");
const MEAN0: Arg = arg("mean0");
const SD0: Arg = arg("sd0");
const CONFIDENCE: Arg = opt("confidence", 0.95);

type Out = [Option<f64>; 3];

fn interval(i: Interval) -> Out {
    [i.estimate, i.lower, i.upper]
}

/// `risk_ratio(x1, n1, x0, n0 [, confidence])`
pub fn risk_ratio_udf() -> ScalarUDF {
    rowwise::record(
        "risk_ratio",
        [X1, N1, X0, N0, CONFIDENCE],
        INTERVAL,
        |[x1, n1, x0, n0, confidence]| {
            math::check_two_by_two(x1, n1, x0, n0, false)?;
            math::check_confidence(confidence)?;
            Ok(interval(math::risk_ratio(x1, n1, x0, n0, confidence)))
        },
    )
}

/// `odds_ratio(x1, n1, x0, n0 [, confidence])`
pub fn odds_ratio_udf() -> ScalarUDF {
    rowwise::record(
        "odds_ratio",
        [X1, N1, X0, N0, CONFIDENCE],
        INTERVAL,
        |[x1, n1, x0, n0, confidence]| {
            math::check_two_by_two(x1, n1, x0, n0, false)?;
            math::check_confidence(confidence)?;
            Ok(interval(math::odds_ratio(x1, n1, x0, n0, confidence)))
        },
    )
}

/// `z_test_p_value(x1, n1, x0, n0)`
pub fn z_test_udf() -> ScalarUDF {
    rowwise::double("z_test_p_value", [X1, N1, X0, N0], |[x1, n1, x0, n0]| {
        math::check_two_by_two(x1, n1, x0, n0, false)?;
        Ok(math::z_test_p(x1, n1, x0, n0))
    })
}

/// `fisher_exact_p_value(x1, n1, x0, n0)`
pub fn fisher_udf() -> ScalarUDF {
    rowwise::double(
        "fisher_exact_p_value",
        [X1, N1, X0, N0],
        |[x1, n1, x0, n0]| {
            // whole counts, so the casts are exact
            math::check_two_by_two(x1, n1, x0, n0, true)?;
            let [x1, n1, x0, n0] = [x1, n1, x0, n0].map(|v| v as u64);
            Ok(math::fisher_exact_p(x1, n1, x0, n0))
        },
    )
}

/// `welch_t_test_p_value(mean1, sd1, n1, mean0, sd0, n0)`
pub fn welch_udf() -> ScalarUDF {
    rowwise::double(
        "welch_t_test_p_value",
        [MEAN1, SD1, N1, MEAN0, SD0, N0],
        |[mean1, sd1, n1, mean0, sd0, n0]| {
            math::check_summary("1", sd1, n1)?;
            math::check_summary("0", sd0, n0)?;
            Ok(math::welch_t_test_p(mean1, sd1, n1, mean0, sd0, n0))
        },
    )
}

/// `mean_ratio(mean1, sd1, n1, mean0, sd0, n0 [, confidence])`
pub fn mean_ratio_udf() -> ScalarUDF {
    rowwise::record(
        "mean_ratio",
        [MEAN1, SD1, N1, MEAN0, SD0, N0, CONFIDENCE],
        INTERVAL,
        |[mean1, sd1, n1, mean0, sd0, n0, confidence]| {
            math::check_summary("1", sd1, n1)?;
            math::check_summary("0", sd0, n0)?;
            math::check_confidence(confidence)?;
            Ok(interval(math::mean_ratio(
                mean1, sd1, n1, mean0, sd0, n0, confidence,
            )))
        },
    )
}
