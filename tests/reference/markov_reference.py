"""Exact first-order Markov attribution with rational arithmetic.

Independent reference for src/functions/markov.rs: builds the transition
counts, then for the full chain and for each removed channel solves
(I - Q) x = r by Gaussian elimination over fractions.Fraction (no floating
point), and prints P(conversion), every removal effect and the credits.

    python3 tests/reference/markov_reference.py
"""
from fractions import Fraction as F
from collections import defaultdict

# (path, conversions, nulls, revenue)
DATASETS = {
    # the loop example of the unit test `loop_example_matches_exact_fractions`
    # and of tests/slt/markov.slt
    "loop": [
        ("A > B > A", 3, 1, 300),
        ("A > C", 1, 2, 50),
        ("B > B > C", 2, 0, 80),
        ("C > A", 0, 4, 0),
        ("B", 1, 3, 20),
    ],
    # tests/slt/attribution.slt: the paths read off its raw_events by hand,
    # one per purchase (touchpoints within 30 days) and one per user who
    # never bought (sessions within 30 days of their last one)
    "attribution.slt": [
        ("paid_search", 1, 0, 100),                                  # a1
        ("organic > email", 1, 0, 60),                               # a2
        ("organic > paid_search > direct", 1, 0, 90),                # a3
        ("referral > organic > organic > email > paid_search", 1, 0, 200),  # a4
        ("email > direct", 1, 0, 40),                                # a5 (organic 30d+1s: out)
        ("organic", 1, 0, 25),                                       # a6, 1st purchase
        ("organic > email", 1, 0, 35),                               # a6, 2nd purchase
        ("organic > organic > email", 0, 1, 0),                      # n1
        ("organic > email > organic > referral > direct > email > paid_search", 0, 1, 0),  # n2
        ("direct > direct > organic > email > referral > paid_search", 0, 1, 0),  # n3
    ],
}


def solve(a, b):
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = next(r for r in range(col, n) if m[r][col] != 0)
        m[col], m[piv] = m[piv], m[col]
        for r in range(n):
            if r != col and m[r][col] != 0:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col])]
    return [m[i][n] / m[i][i] for i in range(n)]


def chain(paths):
    start, edges, conv, null = defaultdict(F), defaultdict(F), defaultdict(F), defaultdict(F)
    for p, c, nl, _ in paths:
        chs = p.split(" > ")
        w = F(c + nl)
        start[chs[0]] += w
        for a, b in zip(chs, chs[1:]):
            edges[(a, b)] += w
        conv[chs[-1]] += c
        null[chs[-1]] += nl
    names = sorted(set(start) | {a for a, _ in edges} | {b for _, b in edges})
    out = {n: conv[n] + null[n] + sum(w for (a, _), w in edges.items() if a == n) for n in names}
    q = [[edges[(a, b)] / out[a] for b in names] for a in names]
    r = [conv[a] / out[a] for a in names]
    tot = sum(start.values())
    s = [start[a] / tot for a in names]
    return names, q, r, s


def prob(q, r, s, removed=None):
    n = len(r)
    a = [[(1 if i == j else 0) - q[i][j] for j in range(n)] for i in range(n)]
    b = r[:]
    if removed is not None:
        a[removed] = [F(1) if j == removed else F(0) for j in range(n)]
        b[removed] = F(0)
    x = solve(a, b)
    return sum(si * xi for si, xi in zip(s, x))


def report(title, paths):
    print(f"== {title}")
    names, q, r, s = chain(paths)
    p = prob(q, r, s)
    print("P(conversion) =", p)
    re = {n: 1 - prob(q, r, s, i) / p for i, n in enumerate(names)}
    total = sum(re.values())
    conversions = sum(c for _, c, _, _ in paths)
    revenue = sum(v for *_, v in paths)
    for n in names:
        share = re[n] / total
        print(f"{n}: removal_effect = {re[n]} = {float(re[n]):.12f}, "
              f"credited conversions = {share * conversions} = {float(share * conversions):.12f}, "
              f"credited revenue = {share * revenue} = {float(share * revenue):.12f}")


def main():
    for title, paths in DATASETS.items():
        report(title, paths)


if __name__ == "__main__":
    main()
