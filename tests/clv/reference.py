"""Independent reference values for the CLV functions.

Run once, by hand, to (re)make the numbers pasted into the tests:

    python -m venv /tmp/ltenv
    /tmp/ltenv/bin/pip install "numpy<2" "pandas<2" "scipy<1.12" autograd lifetimes==0.11.3 mpmath
    /tmp/ltenv/bin/python tests/clv/reference.py > tests/clv/reference.txt

Two independent sources:

* mpmath at 40 significant digits, from the published formulas of
  Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way"
  (BG/NBD: eq. 6 log-likelihood, eq. 9 E[X(t)], eq. 10 E[Y(t)|x,tx,T],
  eq. 11 P(alive)) and Fader & Hardie, "The Gamma-Gamma Model of Monetary
  Value" (2013) (likelihood and conditional expectation);
* the `lifetimes` package 0.11.3 (BetaGeoFitter, GammaGammaFitter,
  customer_lifetime_value), which implements the same formulas with scipy.

`cdnow_summary.csv` is the CDNOW sample summary (2357 customers, weeks)
that lifetimes ships (`cdnow_customers_summary_with_transactions.csv`),
the data set of the papers' worked examples.
"""

import os

import mpmath as mp
import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

mp.mp.dps = 40
HERE = os.path.dirname(os.path.abspath(__file__))


def bg_ll(r, al, a, b, x, tx, T):
    r, al, a, b, x, tx, T = map(mp.mpf, (r, al, a, b, x, tx, T))
    A1 = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(al)
    A2 = mp.loggamma(a + b) + mp.loggamma(b + x) - mp.loggamma(b) - mp.loggamma(a + b + x)
    A3 = (al + T) ** (-(r + x))
    A4 = a / (b + x - 1) * (al + tx) ** (-(r + x)) if x > 0 else 0
    return A1 + A2 + mp.log(A3 + A4)


def bg_palive(r, al, a, b, x, tx, T):
    r, al, a, b, x, tx, T = map(mp.mpf, (r, al, a, b, x, tx, T))
    if x == 0:
        return mp.mpf(1)
    return 1 / (1 + a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x))


def bg_cond(r, al, a, b, x, tx, T, t):
    r, al, a, b, x, tx, T, t = map(mp.mpf, (r, al, a, b, x, tx, T, t))
    z = t / (al + T + t)
    head = (a + b + x - 1) / (a - 1)
    br = 1 - ((al + T) / (al + T + t)) ** (r + x) * mp.hyp2f1(r + x, b + x, a + b + x - 1, z)
    den = 1 + (a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x) if x > 0 else 0)
    return head * br / den


def bg_new(r, al, a, b, t):
    r, al, a, b, t = map(mp.mpf, (r, al, a, b, t))
    z = t / (al + t)
    return (a + b - 1) / (a - 1) * (1 - (al / (al + t)) ** r * mp.hyp2f1(r, b, a + b - 1, z))


def gg_ll(p, q, g, x, m):
    p, q, g, x, m = map(mp.mpf, (p, q, g, x, m))
    return (mp.loggamma(p * x + q) - mp.loggamma(p * x) - mp.loggamma(q) + q * mp.log(g)
            + (p * x - 1) * mp.log(m) + p * x * mp.log(x) - (p * x + q) * mp.log(x * m + g))


def gg_mean(p, q, g, x, m):
    p, q, g, x, m = map(mp.mpf, (p, q, g, x, m))
    return p * (g + x * m) / (p * x + q - 1)


def bgf_with(r, al, a, b):
    f = BetaGeoFitter()
    f.params_ = pd.Series(dict(r=r, alpha=al, a=a, b=b))
    f.predict = f.conditional_expected_number_of_purchases_up_to_time  # as fit() sets it
    return f


def s(v):
    return mp.nstr(v, 17)


# CDNOW parameters as published in FHL 2005 (weeks)
CD = (0.243, 4.414, 0.793, 2.426)
# the data generator's planted parameters (days)
GEN = (0.75, 30.0, 0.8, 2.5)
CUSTOMERS = [
    (CD, 0, 0, 38.86, 39),
    (CD, 2, 30.43, 38.86, 39),
    (CD, 1, 1.71, 38.86, 52),
    (CD, 7, 35.0, 38.86, 39),
    (CD, 50, 30.0, 38.86, 39),
    (CD, 300, 37.0, 39.0, 52),
    (GEN, 0, 0, 400, 365),
    (GEN, 3, 120, 500, 365),
    (GEN, 10, 300, 310, 365),
    (GEN, 1, 20, 25, 3650),
    ((0.75, 30.0, 1.0 + 1e-9, 2.5), 2, 40, 90, 365),
]

print("# BG/NBD: params | x tx T t | ll (mpmath) | p_alive (mpmath, lifetimes) | E[Y(t)] (mpmath, lifetimes)")
for (pr, x, tx, T, t) in CUSTOMERS:
    f = bgf_with(*pr)
    lt_pa = f.conditional_probability_alive(x, tx, T)
    lt_ey = f.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
    print(pr, x, tx, T, t, "|", s(bg_ll(*pr, x, tx, T)), "|", s(bg_palive(*pr, x, tx, T)),
          repr(float(lt_pa)), "|", s(bg_cond(*pr, x, tx, T, t)), repr(float(lt_ey)))

print("# BG/NBD E[X(t)] new customer: params t | mpmath | lifetimes")
for pr, t in [(CD, 39), (CD, 78), (GEN, 365)]:
    print(pr, t, "|", s(bg_new(*pr, t)), repr(float(bgf_with(*pr).expected_number_of_purchases_up_to_time(t))))

# a -> 1: the limit of E[Y(t)] (mpmath at a = 1 +- 1e-25 agree to ~25 digits)
mp.mp.dps = 60
lim = (bg_cond(0.75, 30.0, mp.mpf(1) + mp.mpf("1e-25"), 2.5, 2, 40, 90, 365)
       + bg_cond(0.75, 30.0, mp.mpf(1) - mp.mpf("1e-25"), 2.5, 2, 40, 90, 365)) / 2
print("# E[Y(365)] at a = 1 (limit), GEN r alpha b, x=2 tx=40 T=90:", s(lim))
mp.mp.dps = 40

print("# Gamma-Gamma: p q gamma | x m | ll (mpmath) | E[M] (mpmath, lifetimes)")
GGP = (6.25, 3.74, 15.44)
for x, m in [(1, 11.77), (2, 22.35), (10, 40.0), (0, 0.0)]:
    gf = GammaGammaFitter()
    gf.params_ = pd.Series(dict(p=GGP[0], q=GGP[1], v=GGP[2]))
    lt = gf.conditional_expected_average_profit(pd.Series([x]), pd.Series([m]))
    ll = s(gg_ll(*GGP, x, m)) if x > 0 else "-"
    print(GGP, x, m, "|", ll, "|", s(gg_mean(*GGP, x, m)), repr(float(lt.iloc[0])))

print("# discounted CLV, lifetimes customer_lifetime_value(time=12 months, freq='D', rate 0.01)")
gf = GammaGammaFitter()
gf.params_ = pd.Series(dict(p=GGP[0], q=GGP[1], v=GGP[2]))
fr, rc, TT, mv = pd.Series([0, 3, 10]), pd.Series([0, 120, 300]), pd.Series([400, 500, 310]), pd.Series([0.0, 30.0, 55.0])
clv = gf.customer_lifetime_value(bgf_with(*GEN), fr, rc, TT, mv, time=12, discount_rate=0.01, freq="D")
aov = gf.conditional_expected_average_profit(fr, mv)
for i in range(3):
    print(GEN, fr[i], rc[i], TT[i], "aov", repr(float(aov.iloc[i])), "| clv", repr(float(clv.iloc[i])))

print("# fits on CDNOW (lifetimes, default tol 1e-7)")
d = pd.read_csv(os.path.join(HERE, "cdnow_summary.csv"))
bgf = BetaGeoFitter()
bgf.fit(d["frequency"], d["recency"], d["t"])
ll = sum(float(bg_ll(*bgf.params_.values, x, tx, T)) for x, tx, T in zip(d["frequency"], d["recency"], d["t"]))
print("bgnbd params", [repr(float(v)) for v in bgf.params_.values], "ll", repr(ll))
print("bgnbd se", [repr(float(v)) for v in bgf.summary["se(coef)"].values])
rep = d[d["frequency"] > 0]
ggf = GammaGammaFitter()
ggf.fit(rep["frequency"], rep["monetary_value"])
ll = sum(float(gg_ll(*ggf.params_.values, x, m)) for x, m in zip(rep["frequency"], rep["monetary_value"]))
print("gg params", [repr(float(v)) for v in ggf.params_.values], "ll", repr(ll))
print("gg se", [repr(float(v)) for v in ggf.summary["se(coef)"].values])

print("# hyp2f1 (mpmath)")
for a, b, c, z in [(0.243, 2.426, 2.219, 0.8), (5.75, 3.5, 4.3, 0.95), (0.75, 2.5, 2.3, 0.3),
                   (50.243, 52.426, 52.219, 0.5), (1.5, 2.5, 3.5, -4.0)]:
    print(a, b, c, z, "|", s(mp.hyp2f1(a, b, c, z)))
