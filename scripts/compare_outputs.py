#!/usr/bin/env python3
"""Compare the published tables of two microconv runs (e.g. before and after
a refactor).

    python3 scripts/compare_outputs.py BASELINE_OUT NEW_OUT [--parallel]

Each output folder holds `<table>/as_of=<date>/*.parquet`; the latest as_of
partition of each table is read. Both runs must publish the same tables,
each with the same schema (column names, types, nullability) and the same
multiset of rows (rows are sorted before they are compared).

By default floats must be bit-for-bit equal (NaN equals NaN). Float sums
depend on the order rows meet, which is not fixed between runs: with
several partitions (`[datafusion] "execution.target_partitions"`) sums
differ in the last bits from run to run, and even with one partition some
do (`daily_kpis.revenue`). So pass `--parallel` to compare two runs of the
same job: floats may then differ by `--rel` (1e-9, relative), the
`--tolerant` tables (the CLV fits and the tables computed from them, whose
optimiser can stop an iteration earlier or later) by `--tolerant-rel`
(1e-4), and the `--ignore` columns (the fits' iteration count) are not
compared. Integers, text, dates and timestamps are always compared exactly.
The largest relative float difference of each table is printed.

Exit status 0 when everything matches, 1 otherwise. Needs pyarrow.
"""

import argparse
import math
import sys
from pathlib import Path

import pyarrow.parquet as pq

TOLERANT = "clv_model,clv_predictions,clv_validation"
IGNORE = "clv_model.iterations"


def tables(out: Path) -> dict:
    """table name -> folder of its latest as_of partition."""
    found = {}
    for d in sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))):
        parts = sorted(p for p in d.iterdir() if p.is_dir() and p.name.startswith("as_of="))
        if parts:
            found[d.name] = parts[-1]
    return found


def read(folder: Path):
    pieces = [pq.read_table(f) for f in sorted(folder.glob("*.parquet"))]
    if not pieces:
        return None, []
    rows = []
    for t in pieces:
        rows.extend(tuple(r.values()) for r in t.to_pylist())
    return pieces[0].schema, rows


def key(v, digits):
    """A sortable form of a value; floats rounded to `digits` significant
    digits when given (so that rows equal within the tolerance sort alike)."""
    if v is None:
        return (0,)
    if isinstance(v, float):
        if math.isnan(v):
            return (1,)
        if digits is not None and v != 0 and math.isfinite(v):
            v = float(f"{v:.{digits}g}")
        return (2, v)
    if isinstance(v, dict):
        return (3, tuple((k, key(x, digits)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return (4, tuple(key(x, digits) for x in v))
    return (5, str(type(v)), v)


def has_float(v):
    if isinstance(v, float):
        return True
    if isinstance(v, dict):
        return any(has_float(x) for x in v.values())
    if isinstance(v, (list, tuple)):
        return any(has_float(x) for x in v)
    return False


def row_key(row, digits):
    exact = tuple(key(v, None) for v in row if not has_float(v))
    rounded = tuple(key(v, digits) for v in row if has_float(v))
    return (exact, rounded)


def rel_diff(a, b):
    """Largest relative difference between two values (0 when equal, inf
    when they differ in anything but float precision)."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return 0.0 if math.isnan(a) and math.isnan(b) else math.inf
        if a == b:
            return 0.0
        if not (math.isfinite(a) and math.isfinite(b)):
            return math.inf
        return abs(a - b) / max(abs(a), abs(b))
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return math.inf
        return max((rel_diff(a[k], b[k]) for k in a), default=0.0)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return math.inf
        return max((rel_diff(x, y) for x, y in zip(a, b)), default=0.0)
    return 0.0 if a == b else math.inf


def compare_table(name, base_dir, new_dir, rel, ignore):
    """Return (problems, largest relative float difference)."""
    s0, r0 = read(base_dir)
    s1, r1 = read(new_dir)
    if s0 is None or s1 is None:
        return [f"{name}: no parquet files in the {'baseline' if s0 is None else 'new run'}"], 0.0
    f0 = [(f.name, str(f.type), f.nullable) for f in s0]
    f1 = [(f.name, str(f.type), f.nullable) for f in s1]
    if f0 != f1:
        return [f"{name}: schema differs\n  baseline: {f0}\n  new:      {f1}"], 0.0
    problems = []
    if len(r0) != len(r1):
        problems.append(f"{name}: {len(r0)} rows in the baseline, {len(r1)} in the new run")
    skip = {i for i, f in enumerate(f0) if f"{name}.{f[0]}" in ignore}
    if skip:
        r0 = [tuple(v for i, v in enumerate(r) if i not in skip) for r in r0]
        r1 = [tuple(v for i, v in enumerate(r) if i not in skip) for r in r1]
    cols = [f[0] for i, f in enumerate(f0) if i not in skip]
    digits = None if rel == 0 else max(1, int(-math.log10(rel)) - 2)
    r0.sort(key=lambda r: row_key(r, digits))
    r1.sort(key=lambda r: row_key(r, digits))
    worst = 0.0
    shown = 0
    for i, (a, b) in enumerate(zip(r0, r1)):
        diffs = [rel_diff(x, y) for x, y in zip(a, b)]
        worst = max([worst] + [d for d in diffs if d != math.inf])
        bad = [c for c, d in zip(cols, diffs) if d > rel]
        if bad:
            shown += 1
            if shown <= 3:
                problems.append(f"{name}: sorted row {i} differs in {bad}\n  baseline: {a}\n  new:      {b}")
    if shown > 3:
        problems.append(f"{name}: {shown - 3} more differing rows not shown")
    return problems, worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("baseline", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--parallel", action="store_true",
                    help="the runs used several partitions: allow float summation-order differences")
    ap.add_argument("--rel", type=float, help="relative float tolerance (default 0, or 1e-9 with --parallel)")
    ap.add_argument("--tolerant", default=TOLERANT, help=f"tables with a wider tolerance (default {TOLERANT})")
    ap.add_argument("--tolerant-rel", type=float, help="their tolerance (default as --rel, 1e-4 with --parallel)")
    ap.add_argument("--ignore", help=f"table.column list not compared (default none, {IGNORE} with --parallel)")
    args = ap.parse_args()
    rel = args.rel if args.rel is not None else (1e-9 if args.parallel else 0.0)
    tolerant_rel = args.tolerant_rel if args.tolerant_rel is not None else (1e-4 if args.parallel else rel)
    ignore = set((args.ignore if args.ignore is not None else (IGNORE if args.parallel else "")).split(","))
    tolerant = set(args.tolerant.split(","))

    t0, t1 = tables(args.baseline), tables(args.new)
    problems = []
    if t0.keys() != t1.keys():
        problems.append(f"table sets differ: only in the baseline {sorted(t0.keys() - t1.keys())}, "
                        f"only in the new run {sorted(t1.keys() - t0.keys())}")
    for name in sorted(t0.keys() & t1.keys()):
        table_rel = tolerant_rel if name in tolerant else rel
        found, worst = compare_table(name, t0[name], t1[name], table_rel, ignore)
        problems.extend(found)
        if found:
            status = "DIFFERS"
        elif worst == 0:
            status = "identical"
        else:
            status = f"same within {table_rel:g} (largest relative float difference {worst:.1e})"
        print(f"{name:34} {status}")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(t0.keys() & t1.keys())} tables compared, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
