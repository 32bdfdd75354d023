#!/usr/bin/env python3
"""Check that microconv and DuckDB computed the same core tables.

DuckDB reads both engines' Parquet outputs and does all the checking, so one
engine computes every checksum. Per table:

- row counts;
- key checksums: the number of distinct keys and the sum of hash(key) (an
  exact, order-independent 128-bit sum), which also catches duplicate keys;
- every column, row by row, joined on the key: timestamps as epoch
  microseconds (lists of them element by element), doubles equal within a
  relative 1e-9 (or 1e-12 absolute: sums of doubles in another order, and
  the normal tail / Fisher test computed by other code, differ in the last
  digits), everything else exactly.

Prints OK or MISMATCH per table, with example rows for every column that
differs, and exits 1 when a table does not agree.
"""

import argparse
import sys
from pathlib import Path

import duckdb

# table -> key columns (from each query's `-- key:` header); None = no key,
# compared as multisets of rows (EXCEPT ALL both ways)
TABLES = {
    "events": ["event_id"],
    "rejected_events": None,
    "session_events": ["event_id"],
    "sessions": ["session_id"],
    "conversions": ["conversion", "session_id", "event_id"],
    "daily_kpis": ["day", "channel"],
    "journeys": ["user_id"],
    "funnel_users": ["funnel", "user_id", "session_id"],
    "lift_users": ["user_id"],
    "micro_conversion_lift": ["micro_conversion", "macro_conversion"],
}
# internal tables microconv does not publish: its checking run publishes
# copies under these names (scripts/bench/microconv_check/)
COPIES = {"events": "bench_events", "session_events": "bench_session_events",
          "lift_users": "bench_lift_users"}
# columns left out of the comparison
SKIP = set()
REL, ABS = 1e-9, 1e-12


def microconv_path(args, table):
    if table in COPIES:
        return Path(args.microconv_check_out) / COPIES[table] / f"as_of={args.as_of}"
    return Path(args.microconv_out) / table / f"as_of={args.as_of}"


def normalised(ref, column, sql_type):
    """The expression both sides are compared with (`ref` is the column as
    written in the query), and whether it is a double."""
    if column == "source_file":
        return f"regexp_replace({ref}, '^.*/', '')", False
    if sql_type.startswith("TIMESTAMP") and sql_type.endswith("[]"):
        return f"list_transform({ref}, lambda x: epoch_us(x))", False
    if sql_type.startswith("TIMESTAMP"):
        return f"epoch_us({ref})", False
    return ref, sql_type in ("DOUBLE", "FLOAT")


def qualified(alias, column):
    return f'{alias}."{column}"'


def compare_table(con, args, table):
    key = TABLES[table]
    mc_dir = microconv_path(args, table)
    dd_file = Path(args.duckdb_out) / f"{table}.parquet"
    problems, notes = [], []
    if not mc_dir.exists():
        return [f"microconv output missing: {mc_dir}"], notes, 0
    if not dd_file.exists():
        return [f"DuckDB output missing: {dd_file}"], notes, 0
    con.execute(f"CREATE OR REPLACE VIEW mc AS SELECT * FROM read_parquet('{mc_dir}/*.parquet', hive_partitioning = false)")
    con.execute(f"CREATE OR REPLACE VIEW dd AS SELECT * FROM read_parquet('{dd_file}')")
    mc_types = dict((r[0], r[1]) for r in con.execute("DESCRIBE mc").fetchall())
    dd_types = dict((r[0], r[1]) for r in con.execute("DESCRIBE dd").fetchall())
    if list(mc_types) != list(dd_types):
        problems.append(f"columns differ: microconv {list(mc_types)} vs DuckDB {list(dd_types)}")
        return problems, notes, 0
    for c in mc_types:
        if mc_types[c] != dd_types[c]:
            notes.append(f"type of {c}: microconv {mc_types[c]}, DuckDB {dd_types[c]}")
    (n_mc,), (n_dd,) = (con.execute(f"SELECT COUNT(*) FROM {v}").fetchall()[0] for v in ("mc", "dd"))
    if n_mc != n_dd:
        problems.append(f"rows: microconv {n_mc:,}, DuckDB {n_dd:,}")
    cols = [c for c in mc_types if (table, c) not in SKIP]

    def expr(c, prefix=""):
        return normalised(f'"{prefix}{c}"', c, mc_types[c])

    if key is None:
        select = ", ".join(f'{expr(c)[0]} AS "{c}"' for c in cols)
        for a, b, label in (("mc", "dd", "only in microconv"), ("dd", "mc", "only in DuckDB")):
            (extra,) = con.execute(
                f"SELECT COUNT(*) FROM (SELECT {select} FROM {a} EXCEPT ALL SELECT {select} FROM {b})"
            ).fetchone()
            if extra:
                problems.append(f"{extra:,} rows {label}")
        return problems, notes, n_mc

    # as text, so that a key column typed differently on the two sides
    # (INT and BIGINT) still hashes the same
    key_tuple = ", ".join(f"CAST({expr(k)[0]} AS VARCHAR)" for k in key)
    sums = {}
    for v in ("mc", "dd"):
        sums[v] = con.execute(
            f"SELECT COUNT(DISTINCT ({key_tuple})), SUM(hash(({key_tuple})))::HUGEINT FROM {v}"
        ).fetchone()
    if sums["mc"][0] != n_mc or sums["dd"][0] != n_dd:
        problems.append(f"duplicate keys: distinct keys microconv {sums['mc'][0]:,} of {n_mc:,}, "
                        f"DuckDB {sums['dd'][0]:,} of {n_dd:,}")
    if sums["mc"] != sums["dd"]:
        problems.append(f"key checksum: microconv {sums['mc']}, DuckDB {sums['dd']}")

    on = " AND ".join(
        f"{normalised(qualified('m', k), k, mc_types[k])[0]} IS NOT DISTINCT FROM "
        f"{normalised(qualified('d', k), k, mc_types[k])[0]}" for k in key)
    pairs = ", ".join(f'm."{c}" AS "m_{c}", d."{c}" AS "d_{c}"' for c in cols)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE joined AS
        SELECT {pairs}, m._present IS NULL AS only_dd, d._present IS NULL AS only_mc
        FROM (SELECT *, true AS _present FROM mc) m
        FULL OUTER JOIN (SELECT *, true AS _present FROM dd) d ON {on}""")
    only_mc, only_dd = con.execute(
        "SELECT COUNT(*) FILTER (WHERE only_mc), COUNT(*) FILTER (WHERE only_dd) FROM joined").fetchone()
    key_cols = ", ".join(f'COALESCE("m_{k}", "d_{k}")' for k in key)
    for count, flag, label in ((only_mc, "only_mc", "only in microconv"),
                               (only_dd, "only_dd", "only in DuckDB")):
        if count:
            examples = con.execute(f"SELECT {key_cols} FROM joined WHERE {flag} LIMIT 3").fetchall()
            problems.append(f"{count:,} keys {label}, e.g. {examples}")
    for c in cols:
        if c in key:
            continue
        m, is_double = expr(c, "m_")
        d, _ = expr(c, "d_")
        if is_double:
            same = (f"({m} IS NOT DISTINCT FROM {d} OR COALESCE(abs({m} - {d}) <= "
                    f"greatest({ABS}, {REL} * greatest(abs({m}), abs({d}))), false))")
        else:
            same = f"({m} IS NOT DISTINCT FROM {d})"
        where = f"NOT only_mc AND NOT only_dd AND NOT {same}"
        (n_diff,) = con.execute(f"SELECT COUNT(*) FROM joined WHERE {where}").fetchone()
        if n_diff:
            examples = con.execute(
                f"SELECT {key_cols}, {m}, {d} FROM joined WHERE {where} LIMIT 3").fetchall()
            problems.append(f"column {c}: {n_diff:,} rows differ, e.g. (key..., microconv, DuckDB) "
                            f"{examples}")
    return problems, notes, n_mc


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--microconv-out", required=True, help="the timed run's --out")
    p.add_argument("--microconv-check-out", required=True, help="the checking run's --out")
    p.add_argument("--duckdb-out", required=True)
    p.add_argument("--as-of", required=True)
    args = p.parse_args()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET threads = 2")
    failed = []
    print(f"{'table':<24} result")
    for table in TABLES:
        problems, notes, n = compare_table(con, args, table)
        status = "MISMATCH" if problems else "OK"
        print(f"{table:<24} {status:<9} {n:>12,} rows")
        for line in problems:
            print(f"    {line}")
        for line in notes:
            print(f"    note: {line}")
        if problems:
            failed.append(table)
    if failed:
        print(f"== {len(failed)} table(s) disagree: {', '.join(failed)}")
        sys.exit(1)
    print("== every table agrees")


if __name__ == "__main__":
    main()
