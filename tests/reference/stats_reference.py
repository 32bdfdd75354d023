"""Independent reference values for tests/slt/stats.slt and tests/slt/lift*.slt.

Run: pip install scipy statsmodels && python3 tests/reference/stats_reference.py
Every number the .slt files expect for a statistic is printed here by scipy or
statsmodels (or, for the Greenland-Robins interval, by the textbook formula
written out in numpy, since neither library reports it).
"""
import numpy as np
from scipy import stats
from statsmodels.stats.contingency_tables import StratifiedTable, Table2x2
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

Z = stats.norm.ppf(0.975)


def two_by_two(x1, n1, x0, n0):
    t = Table2x2(np.array([[x1, n1 - x1], [x0, n0 - x0]], dtype=float), shift_zeros=False)
    print(f"  table ({x1}/{n1} vs {x0}/{n0})")
    print(f"    risk ratio {t.riskratio:.6f} CI {t.riskratio_confint(0.05)}")
    print(f"    odds ratio {t.oddsratio:.6f} CI (Woolf) {t.oddsratio_confint(0.05)}")
    z, p = proportions_ztest([x1, x0], [n1, n0])
    print(f"    z test p {p:.10g} (z = {z:.6f})")
    print(f"    fisher p {stats.fisher_exact([[x1, n1 - x1], [x0, n0 - x0]])[1]:.10g}")


def gr_risk_ratio(strata, conf=0.95):
    """Greenland-Robins (1985) variance of log RR_MH, from the formula."""
    x1, n1, x0, n0 = (np.array(s, dtype=float) for s in zip(*strata))
    n = n1 + n0
    r = np.sum(x1 * n0 / n)
    s = np.sum(x0 * n1 / n)
    v = np.sum((n1 * n0 * (x1 + x0) - x1 * x0 * n) / n**2) / (r * s)
    z = stats.norm.ppf(1 - (1 - conf) / 2)
    rr = r / s
    return rr, rr * np.exp(-z * np.sqrt(v)), rr * np.exp(z * np.sqrt(v))


def stratified(strata):
    tables = [np.array([[x1, n1 - x1], [x0, n0 - x0]], dtype=float) for x1, n1, x0, n0 in strata]
    st = StratifiedTable(tables)
    print(f"    statsmodels riskratio_pooled {st.riskratio_pooled:.6f}")
    print(f"    numpy Greenland-Robins RR, lower, upper {gr_risk_ratio(strata)}")
    print(f"    statsmodels oddsratio_pooled {st.oddsratio_pooled:.6f} CI {st.oddsratio_pooled_confint()}")


print("2x2 tables (stats.slt)")
two_by_two(20, 100, 10, 100)
two_by_two(3, 4, 1, 4)
two_by_two(7, 12, 1, 15)
two_by_two(45, 60, 30, 140)

print("Rabbits (R mantelhaen.test example; R prints OR 7, CI 1.026713 47.725133)")
rabbits = [(0, 6, 0, 5), (3, 6, 0, 6), (6, 6, 2, 6), (5, 6, 6, 6), (2, 2, 5, 5)]
stratified(rabbits)

print("UGDP tolbutamide by age (Rothman: crude RR 1.44, RR_MH 1.33)")
ugdp = [(8, 106, 5, 120), (22, 98, 16, 85)]
stratified(ugdp)
print(f"    crude {(30/204)/(21/205):.6f}")

print("BH q-values")
p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.8]
print("   ", multipletests(p, method="fdr_bh")[1])

print("SRM 5200 vs 4800 (50/50): chi2 p", stats.chisquare([5200, 4800]).pvalue)
print("SRM 510/290/200 vs 50/30/20:", stats.chisquare([510, 290, 200], f_exp=[500, 300, 200]).pvalue)

print("Welch: 12.5 sd 4 n 50 vs 10 sd 3 n 40",
      stats.ttest_ind_from_stats(12.5, 4, 50, 10, 3, 40, equal_var=False).pvalue)
se = np.sqrt(4**2 / (50 * 12.5**2) + 3**2 / (40 * 10**2))
print("mean ratio 1.25 CI", 1.25 * np.exp(-Z * se), 1.25 * np.exp(Z * se))


def lift_row(name, x1, n1, x0, n0, users, points=10):
    t = Table2x2(np.array([[x1, n1 - x1], [x0, n0 - x0]], dtype=float), shift_zeros=False)
    rr_lo, rr_hi = t.riskratio_confint(0.05) if x1 and x0 else (float("nan"),) * 2
    fisher = stats.fisher_exact([[x1, n1 - x1], [x0, n0 - x0]])[1]
    p1, p0 = x1 / n1, x0 / n0
    prev = n1 / users
    opp = users * min(points / 100, 1 - prev) * (p1 - p0)
    print(f"  {name}: prevalence {prev:.6f} p1 {p1:.6f} p0 {p0:.6f} diff {p1 - p0:.6f}")
    print(f"    lift {t.riskratio - 1:.6f} ({rr_lo - 1:.6f}, {rr_hi - 1:.6f})"
          f" OR {t.oddsratio if n1 > x1 else float('nan'):.6f} fisher p {fisher:.10g} opportunity {opp:.6f}")
    return fisher


print("\nlift.slt: video (9/12 vs 3/16), cart (8/11 vs 4/17), signup (3/3 vs 9/25); 28 users")
ps = [lift_row("video", 9, 12, 3, 16, 28), lift_row("cart", 8, 11, 4, 17, 28), lift_row("signup", 3, 3, 9, 25, 28)]
print("  BH q (video, cart, signup):", multipletests(ps, method="fdr_bh")[1])
t = Table2x2(np.array([[3, 0], [9, 16]], dtype=float), shift_zeros=False)
print("  signup risk ratio", t.riskratio, "(odds ratio undefined: b = 0)")
print("  video strata paid_search (6/8 vs 1/6), email (3/4 vs 2/10)")
stratified([(6, 8, 1, 6), (3, 4, 2, 10)])
print("  cart strata paid_search (6/7 vs 1/7), email (2/4 vs 3/10)")
stratified([(6, 7, 1, 7), (2, 4, 3, 10)])
print("  signup strata paid_search (3/3 vs 4/11), email (0/0 vs 5/14)")
print("    statsmodels riskratio_pooled (the email stratum has no exposed users and adds nothing):",
      (3 * 11 / 14) / (4 * 3 / 14))
segs = [("video paid_search", 6, 8, 1, 6), ("video email", 3, 4, 2, 10),
        ("cart paid_search", 6, 7, 1, 7), ("cart email", 2, 4, 3, 10),
        ("signup paid_search", 3, 3, 4, 11)]
seg_p = []
for name, x1, n1, x0, n0 in segs:
    t = Table2x2(np.array([[x1, n1 - x1], [x0, n0 - x0]], dtype=float), shift_zeros=False)
    p = stats.fisher_exact([[x1, n1 - x1], [x0, n0 - x0]])[1]
    seg_p.append(p)
    print(f"  {name}: lift {t.riskratio - 1:.6f} CI-1 {[v - 1 for v in t.riskratio_confint(0.05)]} fisher p {p:.10g}")
# video's smallest expected cell is 12*12/28 = 5.14 >= 5, so lift uses the z test there
zp = proportions_ztest([9, 3], [12, 16])[1]
print("  video z test p", zp, "; BH q (video z, cart fisher, signup fisher):",
      multipletests([zp, ps[1], ps[2]], method="fdr_bh")[1])
# by segment: channel and device segments coincide (paid_search = desktop, email = mobile)
print("  segment BH q over", seg_p * 2, ":", multipletests(seg_p * 2, method="fdr_bh")[1])

print("\nexperiments.slt: checkout_button control 500 users, treatment 600")
print("  SRM chisquare([500, 600]) p", stats.chisquare([500, 600]).pvalue)
for name, x1, x0 in [("purchase", 90, 50), ("video", 180, 100)]:
    t = Table2x2(np.array([[x1, 600 - x1], [x0, 500 - x0]], dtype=float))
    lo, hi = t.riskratio_confint(0.05)
    print(f"  {name}: lift {t.riskratio - 1:.6f} ({lo - 1:.6f}, {hi - 1:.6f}) z p {proportions_ztest([x1, x0], [600, 500])[1]:.10g}")
zp = [proportions_ztest([90, 50], [600, 500])[1], proportions_ztest([180, 100], [600, 500])[1]]
print("  BH q (purchase, video)", multipletests(zp, method="fdr_bh")[1])
# revenue per user: 20 per buyer; per-user values are 0 or 20
ctrl = np.r_[np.full(50, 20.0), np.zeros(450)]
trt = np.r_[np.full(90, 20.0), np.zeros(510)]
print("  revenue per user", trt.mean(), ctrl.mean(), "sd", trt.std(ddof=1), ctrl.std(ddof=1))
print("  Welch p", stats.ttest_ind(trt, ctrl, equal_var=False).pvalue)
se = np.sqrt(trt.var(ddof=1) / (600 * trt.mean() ** 2) + ctrl.var(ddof=1) / (500 * ctrl.mean() ** 2))
print("  revenue lift 0.5 CI", 1.5 * np.exp(-Z * se) - 1, 1.5 * np.exp(Z * se) - 1)
print("  banner SRM 3 vs 9 against 1:3", stats.chisquare([3, 9], f_exp=[3, 9]).pvalue)
