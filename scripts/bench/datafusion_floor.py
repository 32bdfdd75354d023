#!/usr/bin/env python3
"""The DataFusion read + sort floor of scripts/bench-vs-duckdb.sh: read every
column of the generated events and sort them by (user_id, event_time,
event_id), keeping the sorted batches in memory; write nothing.

`microconv sql` cannot express this: it reads the raw files only through the
mapped and flagged input, and prints its result. So this runs the same
engine through the Python bindings (the `datafusion` package, whose major
version follows DataFusion's: 55, as microconv's), configured as microconv
configures its session: target_partitions 2, strings read as Utf8 (not
Utf8View), a fair spill pool of the memory limit.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import datafusion
from datafusion import RuntimeEnvBuilder, SessionConfig, SessionContext


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", required=True, help="the generated events folder")
    p.add_argument("--timings", required=True, help="JSON file for the result")
    p.add_argument("--target-partitions", default=2, type=int)
    p.add_argument("--memory-limit-bytes", default=8 << 30, type=int)
    p.add_argument("--spill-dir", default=tempfile.gettempdir())
    args = p.parse_args()
    config = (SessionConfig()
              .with_target_partitions(args.target_partitions)
              .set("datafusion.execution.parquet.schema_force_view_types", "false"))
    runtime = (RuntimeEnvBuilder()
               .with_fair_spill_pool(args.memory_limit_bytes)
               .with_disk_manager_specified(args.spill_dir))
    ctx = SessionContext(config, runtime)
    ctx.register_parquet("events", str(Path(args.events).resolve()))
    started = time.perf_counter()
    batches = ctx.sql("SELECT * FROM events ORDER BY user_id, event_time, event_id").collect()
    seconds = time.perf_counter() - started
    rows = sum(b.num_rows for b in batches)
    print(f"   datafusion {datafusion.__version__} read+sort: {rows:,} rows {seconds:.2f} s")
    Path(args.timings).write_text(json.dumps(
        {"engine": f"datafusion-python {datafusion.__version__}", "rows": rows, "seconds": seconds}))


if __name__ == "__main__":
    main()
