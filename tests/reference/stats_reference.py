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
