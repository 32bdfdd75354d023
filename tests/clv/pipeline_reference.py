"""A purchase list simulated from BG/NBD + Gamma-Gamma, and what lifetimes
makes of it, for tests/slt/clv_pipeline.slt.

Run once, by hand (same venv as reference.py):

    /tmp/ltenv/bin/python tests/clv/pipeline_reference.py

Writes, next to this file:

* transactions.csv: user_id, event_time (ISO UTC), revenue -- 400 customers
  whose first purchase falls in 2025-01-01 .. 2025-10-27, simulated with numpy
  (seed 7) from BG/NBD in days (r 0.6, alpha 25, a 0.9, b 3) and Gamma-Gamma
  (p 5, q 4, gamma 40); purchases up to 2025-12-31 (the as-of day);
* lifetimes_customers.csv: per customer, lifetimes'
  summary_data_from_transaction_data (freq "D", observation end 2025-12-31)
  and, from BetaGeoFitter / GammaGammaFitter fitted on it,
  conditional_probability_alive, conditional_expected_number_of_purchases_up_to_time(360),
  conditional_expected_average_profit and customer_lifetime_value(time=12,
  discount_rate=0.01, freq="D");
* lifetimes_models.csv: the fitted parameters and log-likelihoods (full history,
  and the calibration period of a 90-day holdout);
* lifetimes_validation.csv: calibration_and_holdout_data with a 90-day holdout,
  the calibration fit's predicted holdout purchases summed by calibration
  frequency bucket (0..6, 7+) and overall.
"""

import os

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from scipy.special import gammaln
from lifetimes.utils import calibration_and_holdout_data, summary_data_from_transaction_data

HERE = os.path.dirname(os.path.abspath(__file__))
START = pd.Timestamp("2025-01-01")
AS_OF = pd.Timestamp("2025-12-31")
END = AS_OF + pd.Timedelta(days=1)  # exclusive end of the as-of day
CAL_END = AS_OF - pd.Timedelta(days=90)

rng = np.random.default_rng(7)
rows = []
for i in range(400):
    lam = rng.gamma(0.6, 1 / 25.0)
    p = rng.beta(0.9, 3.0)
    nu = rng.gamma(4.0, 1 / 40.0)
    t = START + pd.Timedelta(seconds=int(rng.uniform(0, 300 * 86400)))
    while t < END:
        rows.append((f"c{i:03d}", t, round(float(rng.gamma(5.0, 1 / nu)), 2)))
        if rng.uniform() < p:
            break
        gap_days = min(rng.exponential(1 / lam), 10_000.0)  # beyond the period anyway
        t = t + pd.Timedelta(seconds=int(gap_days * 86400) + 1)
tx = pd.DataFrame(rows, columns=["user_id", "event_time", "revenue"])
out = tx.copy()
out["event_time"] = out["event_time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
out.to_csv(os.path.join(HERE, "transactions.csv"), index=False)


def bg_ll(params, s):
    """Total BG/NBD log-likelihood (FHL 2005 eq. 6) in days; lifetimes'
    own value is in its internally rescaled time unit."""
    r, al, a, b = params
    x, tx, T = s["frequency"].values, s["recency"].values, s["T"].values
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(al)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(al + T)
    a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(al + tx)
    return float(np.sum(a1 + a2 + np.logaddexp(a3, np.where(x > 0, a4, -np.inf))))


def gg_ll(params, s):
    p, q, g = params
    rep = s[s["frequency"] > 0]
    x, m = rep["frequency"].values, rep["monetary_value"].values
    return float(np.sum(gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(g)
                        + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(x * m + g)))


def fit_bg(s):
    bgf = BetaGeoFitter()
    bgf.fit(s["frequency"], s["recency"], s["T"], tol=1e-9)
    return bgf


def fit_gg(s):
    rep = s[s["frequency"] > 0]
    ggf = GammaGammaFitter()
    ggf.fit(rep["frequency"], rep["monetary_value"], tol=1e-9)
    return ggf, len(rep)


summary = summary_data_from_transaction_data(
    tx, "user_id", "event_time", monetary_value_col="revenue", observation_period_end=AS_OF, freq="D"
)
bgf = fit_bg(summary)
ggf, n_rep = fit_gg(summary)
aov = ggf.conditional_expected_average_profit(summary["frequency"], summary["monetary_value"])
clv = ggf.customer_lifetime_value(
    bgf, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"],
    time=12, discount_rate=0.01, freq="D",
)
res = summary.copy()
res["p_alive"] = bgf.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
res["expected_purchases"] = bgf.conditional_expected_number_of_purchases_up_to_time(
    360, summary["frequency"], summary["recency"], summary["T"])
res["expected_order_value"] = aov
res["predicted_clv"] = clv
res.index.name = "user_id"
res.rename(columns={"T": "t"}).to_csv(os.path.join(HERE, "lifetimes_customers.csv"), float_format="%.12g")

# lifetimes compares raw times with these ends, so pass the last instant of
# each day: calibration = purchase days up to CAL_END, holdout = the 90 days
# after it up to and including the as-of day (microconv's day semantics)
DAY_END = pd.Timedelta(days=1) - pd.Timedelta(nanoseconds=1)
cal = calibration_and_holdout_data(
    tx, "user_id", "event_time", calibration_period_end=CAL_END + DAY_END,
    observation_period_end=AS_OF + DAY_END,
    freq="D", monetary_value_col="revenue",
)
cal_s = cal.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T",
                            "monetary_value_cal": "monetary_value"})
bgc = fit_bg(cal_s)
ggc, n_rep_c = fit_gg(cal_s)

models = []
for sample, bg, gg, s, nrep in [("full", bgf, ggf, summary, n_rep), ("calibration", bgc, ggc, cal_s, n_rep_c)]:
    models.append(dict(model="bgnbd", sample=sample, customers=len(s),
                       log_likelihood=bg_ll(bg.params_.values, s), **bg.params_.to_dict()))
    models.append(dict(model="gamma_gamma", sample=sample, customers=nrep,
                       log_likelihood=gg_ll(gg.params_.values, s),
                       **gg.params_.rename({"v": "gamma"}).to_dict()))
pd.DataFrame(models).to_csv(os.path.join(HERE, "lifetimes_models.csv"), index=False, float_format="%.12g")

cal["predicted"] = bgc.conditional_expected_number_of_purchases_up_to_time(
    cal["duration_holdout"], cal["frequency_cal"], cal["recency_cal"], cal["T_cal"])
cal["bucket"] = np.where(cal["frequency_cal"] >= 7, "7+", cal["frequency_cal"].clip(upper=7).astype(int).astype(str))
cal["abs_err"] = (cal["predicted"] - cal["frequency_holdout"]).abs()
agg = dict(customers=("predicted", "size"), actual_purchases=("frequency_holdout", "sum"),
           predicted_purchases=("predicted", "sum"), mean_absolute_error=("abs_err", "mean"))
by = cal.groupby("bucket").agg(**agg).reset_index()
allrow = cal.assign(bucket="(all)").groupby("bucket").agg(**agg).reset_index()
val = pd.concat([by, allrow])
val["holdout_days"] = int(cal["duration_holdout"].iloc[0])
val.rename(columns={"bucket": "frequency_bucket"}).to_csv(
    os.path.join(HERE, "lifetimes_validation.csv"), index=False, float_format="%.12g")

print(len(tx), "transactions,", len(summary), "customers,", n_rep, "repeat customers")
print(pd.DataFrame(models).to_string())
print(val.to_string())
