#!/usr/bin/env python3
"""Reference output for the window_funnel parity test (tests/funnel_parity.rs).

Writes, next to this script:

- funnel_events.parquet: (dataset, user_id, event_time, event_name) of two
  data sets:
  * "generated": the events of `microconv generate --users 1500 --days 60
    --seed 5 --out DIR` (pass DIR with --generated), three columns kept;
  * "random": 2000 users with random sequences over the names A, B, C, BC
    (meets steps 2 and 3 at once), D and X (meets no step), at whole
    multiples of 10 seconds, so ties and exact window boundaries are common.
- funnel_clickhouse_<dataset>.csv: one row per user, one column per funnel
  spec (`<mode>_<window seconds>`), the level ClickHouse's
  windowFunnel(window, mode)(timestamp, cond1, ...) returns, computed with
  chdb (`pip install chdb pyarrow`; made with chdb 4.4.0 = ClickHouse 26.9.2).

Timestamps are passed to ClickHouse as UInt64 microseconds (windowFunnel does
not take DateTime64), with the window in microseconds.

Usage: python3 tests/parity/funnel_clickhouse.py --generated /tmp/gen
"""

import argparse
import csv
import os
import random
from datetime import datetime, timedelta, timezone

import chdb
import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
EVENTS = os.path.join(HERE, "funnel_events.parquet")

MODES = ["ordered", "strict_order", "strict_deduplication", "strict_increase"]

# dataset -> (windows in seconds, step conditions over event_name `n`)
SPECS = {
    "generated": (
        [60, 600, 604800],
        [
            "n = 'product_view'",
            "n = 'add_to_cart'",
            "n = 'begin_checkout'",
            "n = 'purchase'",
        ],
    ),
    "random": (
        [100, 600],
        ["n = 'A'", "n IN ('B', 'BC')", "n IN ('C', 'BC')", "n = 'D'"],
    ),
}


def random_rows(seed=20260301, users=2000):
    rng = random.Random(seed)
    base = datetime(2026, 3, 1, tzinfo=timezone.utc)
    names = ["A", "B", "C", "BC", "D", "X"]
    weights = [4, 3, 3, 1, 2, 3]
    rows = []
    for u in range(users):
        for _ in range(rng.randint(1, 25)):
            t = base + timedelta(seconds=10 * rng.randint(0, 120))
            rows.append(("random", f"r{u:04d}", t, rng.choices(names, weights)[0]))
    return rows


def generated_rows(folder):
    rows = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".parquet"):
            t = pq.read_table(
                os.path.join(folder, name),
                columns=["user_id", "event_time", "event_name"],
            )
            for u, ts, n in zip(*(t.column(c).to_pylist() for c in t.column_names)):
                rows.append(("generated", u, ts, n))
    return rows


def write_events(rows):
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    table = pa.table(
        {
            "dataset": [r[0] for r in rows],
            "user_id": [r[1] for r in rows],
            "event_time": pa.array([r[2] for r in rows], pa.timestamp("us", tz="UTC")),
            "event_name": [r[3] for r in rows],
        }
    )
    pq.write_table(table, EVENTS, compression="zstd")


def spec_name(mode, window):
    return f"{mode}_{window}"


def reference(dataset):
    windows, conds = SPECS[dataset]
    columns = []
    for mode in MODES:
        for w in windows:
            option = "" if mode == "ordered" else f", '{mode}'"
            columns.append(
                f"windowFunnel({w * 1_000_000}{option})(ts, {', '.join(conds)}) "
                f"AS {spec_name(mode, w)}"
            )
    sql = f"""
        SELECT user_id, {', '.join(columns)}
        FROM (
            SELECT user_id, toUInt64(toUnixTimestamp64Micro(event_time)) AS ts, event_name AS n
            FROM file('{EVENTS}', Parquet)
            WHERE dataset = '{dataset}'
        )
        GROUP BY user_id
        ORDER BY user_id
    """
    text = chdb.query(sql, "CSVWithNames").bytes().decode()
    out = os.path.join(HERE, f"funnel_clickhouse_{dataset}.csv")
    with open(out, "w", newline="") as f:
        for row in csv.reader(text.splitlines()):
            f.write(",".join(row) + "\n")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generated", required=True, help="folder written by microconv generate")
    args = parser.parse_args()
    write_events(generated_rows(args.generated) + random_rows())
    for dataset in SPECS:
        print("wrote", reference(dataset))
    print("ClickHouse", chdb.query("SELECT version()", "CSV").bytes().decode().strip())


if __name__ == "__main__":
    main()
