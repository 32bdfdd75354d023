#!/usr/bin/env python3
"""Print the figures of scripts/bench-vs-duckdb.sh side by side: per table,
microconv's seconds (from its run manifest), DuckDB's, and their ratio; the
totals of the core; both read + sort floors; both peak RSS figures."""

import argparse
import json
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
# microconv's run order of the core tables
from duckdb_side import NODES  # noqa: E402


def time_file(path):
    """`/usr/bin/time -f '%e %M'` output: (wall seconds, peak RSS in MiB)."""
    wall, kb = Path(path).read_text().split()[-2:]
    return float(wall), int(kb) / 1024


def manifest_peak_mib(manifest):
    """microconv's process-wide peak RSS as the OS keeps it (the manifest's
    `peak_rss_bytes`, the same figure /usr/bin/time reports), in MiB."""
    peak = manifest.get("peak_rss_bytes")
    return peak / 2**20 if peak else 0.0


def ratio(a, b):
    return f"{a / b:6.2f}x" if b else "      -"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--manifest", required=True, help="microconv's _manifests/latest.json")
    p.add_argument("--microconv-time", required=True)
    p.add_argument("--duckdb-timings", required=True)
    p.add_argument("--duckdb-time", required=True)
    p.add_argument("--datafusion-floor", required=True)
    p.add_argument("--datafusion-floor-time", required=True)
    p.add_argument("--duckdb-floor", required=True)
    p.add_argument("--duckdb-floor-time", required=True)
    p.add_argument("--binary", default="")
    args = p.parse_args()

    manifest = json.loads(Path(args.manifest).read_text())
    mc = {t["name"]: t for t in manifest["tables"] + manifest["internal_tables"]}
    dd_run = json.loads(Path(args.duckdb_timings).read_text())
    dd = {s["name"]: s for s in dd_run["stages"]}
    internal = {t["name"] for t in manifest["internal_tables"]}

    rows = manifest["input_rows"]
    print(f"== {rows['rows']:,} input rows, {rows['valid']:,} valid, as of {manifest['as_of']}; "
          f"microconv {manifest['microconv_version']} {args.binary}; {dd_run['engine']} "
          f"(threads {dd_run['threads']}, memory limit {dd_run['memory_limit']})")
    header = f"{'table':<36} {'rows':>11} {'microconv s':>12} {'duckdb s':>9} {'ratio':>8}"
    print(header)
    print("-" * len(header))
    line = "{:<36} {:>11} {:>12.2f} {:>9.2f} {:>8}"
    total_mc = manifest["input_seconds"]
    total_dd = dd_run["input_seconds"]
    print(line.format("input (events, rejected_events)", f"{rows['valid']:,}", total_mc, total_dd,
                      ratio(total_mc, total_dd)))
    for name in NODES:
        if name not in mc:
            print(f"{name:<36} missing from microconv's manifest")
            continue
        a, b = mc[name]["seconds"], dd[name]["seconds"]
        total_mc += a
        total_dd += b
        label = name + (" (internal)" if name in internal else "")
        print(line.format(label, f"{mc[name]['rows']:,}", a, b, ratio(a, b)))
    extra = sorted(set(mc) - set(NODES) - {"rejected_events"})
    if extra:
        print(f"(microconv also ran: {', '.join(extra)})")
    print("-" * len(header))
    print(line.format("core total (sum of the above)", "", total_mc, total_dd, ratio(total_mc, total_dd)))
    mc_wall, mc_time_rss = time_file(args.microconv_time)
    mc_rss = max(mc_time_rss, manifest_peak_mib(manifest))
    dd_wall, dd_rss = time_file(args.duckdb_time)
    print(line.format("process wall time", "", mc_wall, dd_wall, ratio(mc_wall, dd_wall)))
    df_floor = json.loads(Path(args.datafusion_floor).read_text())
    dd_floor = json.loads(Path(args.duckdb_floor).read_text())
    print(line.format("read+sort floor (all columns)", f"{dd_floor['rows']:,}", df_floor["seconds"],
                      dd_floor["seconds"], ratio(df_floor["seconds"], dd_floor["seconds"])))
    print(f"{'peak RSS, run (MiB)':<36} {'':>11} {mc_rss:>12.0f} {dd_rss:>9.0f} {ratio(mc_rss, dd_rss):>8}")
    _, df_floor_rss = time_file(args.datafusion_floor_time)
    _, dd_floor_rss = time_file(args.duckdb_floor_time)
    print(f"{'peak RSS, floor (MiB)':<36} {'':>11} {df_floor_rss:>12.0f} {dd_floor_rss:>9.0f} "
          f"{ratio(df_floor_rss, dd_floor_rss):>8}")
    print(f"(ratio = microconv / DuckDB; the DataFusion floor runs {df_floor['engine']}, not the "
          f"microconv binary; peak RSS as the OS sees it: /usr/bin/time {mc_time_rss:.0f} MiB, "
          "the manifest's process peak the same or less)")


if __name__ == "__main__":
    main()
