#!/usr/bin/env python3
"""The DuckDB side of scripts/bench-vs-duckdb.sh.

`run`: build microconv's core tables from the generated events with the SQL
in scripts/bench/duckdb/ (one file per table, in microconv's run order), each
materialised as a DuckDB table (CREATE TABLE AS) and written as Parquet
(COPY ... TO, zstd level 3, as microconv writes every table it computes,
internal ones included; only the flagged input `_input` stays in memory);
print and save each table's seconds and rows.

`floor`: the read + sort floor: read every column of the events and sort by
(user_id, event_time, event_id) into a temporary table; write nothing.

The config (microconv.toml) is read here and becomes what microconv makes of
it: reference tables (conversion_definitions, pageview_events, funnel
definitions and steps, funnel_exclusions, lift_purchase_steps), DuckDB
variables for the named parameters ($session_timeout_seconds ->
getvariable('session_timeout_seconds')), and the SQL conditions of
[[conversions]] and [[channels]] filled into the placeholders of
_input.sql and the two *_conversion_hits.sql files (microconv parses those
conditions as SQL expressions; pasting them is the DuckDB equivalent).
"""

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import tomllib
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parent / "duckdb"

# microconv's run order for `--select` of the core tables (the DAG order of
# `microconv run --select ... --dry-run`); the input stage comes first.
INPUT_STAGE = ["_input", "events", "rejected_events"]
NODES = [
    "session_events",
    "event_conversion_hits",
    "sessions",
    "lift_users",
    "session_conversion_hits",
    "conversions",
    "daily_kpis",
    "funnel_chains",
    "funnel_users",
    "journey_touchpoints",
    "journeys",
    "lift_firsts",
    "lift_cells",
    "micro_conversion_lift",
]

# the columns the generator writes (canonical names, no session_id/channel)
GENERATED_COLUMNS = [
    "event_id", "user_id", "event_time", "event_name", "source", "medium", "campaign",
    "device", "country", "page", "product_id", "category", "revenue", "experiment", "variant",
]

# src/config/sections/channels.rs default_rules()
DEFAULT_CHANNEL_RULES = [
    ("paid_social", "lower(medium) IN ('paid_social', 'paidsocial', 'social_paid', 'cpc_social')"),
    ("paid_search", "lower(medium) IN ('cpc', 'ppc', 'paidsearch', 'paid_search')"),
    ("email", "lower(medium) IN ('email', 'e-mail', 'newsletter')"),
    ("organic", "lower(medium) IN ('organic', 'organic_search')"),
    ("organic_social", "lower(medium) IN ('social', 'organic_social')"),
    ("referral", "lower(medium) = 'referral'"),
    ("direct", "(source IS NULL OR source IN ('(direct)', 'direct')) AND "
               "(medium IS NULL OR medium IN ('(none)', '(not set)', 'none'))"),
]

# columns of session_events that are not canonical event columns: a
# conversion reading them cannot be checked on the raw input (flag.rs)
NON_CANONICAL_EVENT_COLUMNS = ("dwell_seconds", "event_seq")


def duration(text):
    """src/config/units.rs parse_duration: 90s, 30m, 2h, 7d, 1w -> seconds."""
    t = text.strip()
    i = 0
    while i < len(t) and t[i].isdigit():
        i += 1
    unit = t[i:].strip()
    mult = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}[unit]
    return int(t[:i]) * mult


class Config:
    """The settings microconv resolves from the TOML, for the core tables."""

    def __init__(self, path):
        raw = tomllib.loads(Path(path).read_text())
        s = raw.get("sessions", {})
        self.timeout = duration(s.get("timeout", "30m"))
        self.pageview_events = s.get("pageview_events", ["page_view", "product_view"])
        self.engaged_seconds = duration(s.get("engaged_duration", "10s"))
        self.engaged_pageviews = int(s.get("engaged_pageviews", 2))
        i = raw.get("input", {})
        if i.get("columns") or i.get("dedupe_key") or i.get("dedupe") is False:
            sys.exit("duckdb_side: [input] column mapping / dedupe settings are not supported here")
        self.future_margin = duration(i.get("future_margin", "1d"))
        self.conversions = []
        for c in raw.get("conversions", []):
            self.conversions.append({
                "name": c["name"], "kind": c["kind"], "stage": c.get("stage"),
                "scope": c.get("scope", "event"), "when": c["when"], "value": c.get("value"),
                "description": c.get("description"),
            })
        rules = raw.get("channels") or []
        self.channel_rules = [(r["name"], r["when"]) for r in rules] or DEFAULT_CHANNEL_RULES
        self.funnels = []
        for f in raw.get("funnels", []):
            mode = f.get("mode", "ordered")
            if mode != "ordered":
                sys.exit(f"duckdb_side: funnel {f['name']}: only mode = ordered is implemented here")
            gaps = f.get("max_gap") or [""] * len(f["steps"])
            self.funnels.append({
                "name": f["name"], "steps": f["steps"],
                "window": duration(f.get("window", "7d")), "mode": mode,
                "count": f.get("count", "users"),
                "gaps": [duration(g) if g.strip() else None for g in gaps],
                "exclude": f.get("exclude", []), "description": f.get("description"),
            })
        a = raw.get("attribution", {})
        self.lookback = duration(a.get("lookback", "30d"))
        lift = raw.get("lift", {})
        self.lift_lookback = duration(lift["lookback"]) if "lookback" in lift else None
        self.lift = {
            "lift_min_group_users": int(lift.get("min_group_users", 30)),
            "lift_min_converters": int(lift.get("min_converters", 5)),
            "lift_confidence": float(lift.get("confidence", 0.95)),
            "lift_fdr": float(lift.get("fdr", 0.05)),
            "lift_too_good_p1": float(lift.get("too_good_p1", 0.9)),
            "lift_opportunity_points": float(lift.get("opportunity_points", 10.0)),
        }
        self.purchase_steps = lift.get("purchase_steps", [])


def connect(args):
    con = duckdb.connect()
    con.execute(f"SET threads = {int(args.threads)}")
    con.execute(f"SET memory_limit = '{args.memory_limit}'")
    if args.temp_dir:
        os.makedirs(args.temp_dir, exist_ok=True)
        con.execute(f"SET temp_directory = '{args.temp_dir}'")
    con.execute("SET TimeZone = 'UTC'")
    return con


def read_sql(name):
    return (SQL_DIR / f"{name}.sql").read_text()


def check_input(con, glob):
    cols = [r[0] for r in con.execute(
        "DESCRIBE SELECT * FROM read_parquet(getvariable('events_glob'))").fetchall()]
    if cols != GENERATED_COLUMNS:
        sys.exit(f"duckdb_side: {glob}: expected the generator's columns {GENERATED_COLUMNS}, got {cols}")


def register_reference_tables(con, cfg):
    """The reference tables of src/catalog/reference.rs that the core tables read."""
    con.execute("""CREATE TABLE conversion_definitions (name VARCHAR, kind VARCHAR, stage VARCHAR,
        scope VARCHAR, when_sql VARCHAR, value_sql VARCHAR, description VARCHAR)""")
    con.executemany("INSERT INTO conversion_definitions VALUES (?, ?, ?, ?, ?, ?, ?)", [
        (c["name"], c["kind"], c["stage"], c["scope"], c["when"], c["value"], c["description"])
        for c in cfg.conversions])
    con.execute("CREATE TABLE pageview_events (event_name VARCHAR)")
    if cfg.pageview_events:
        con.executemany("INSERT INTO pageview_events VALUES (?)", [(n,) for n in cfg.pageview_events])
    con.execute("""CREATE TABLE funnel_definitions (funnel VARCHAR, steps INTEGER,
        window_seconds BIGINT, mode VARCHAR, count_by VARCHAR, max_gap_seconds BIGINT[],
        description VARCHAR)""")
    con.execute("""CREATE TABLE funnel_step_definitions (funnel VARCHAR, step INTEGER,
        conversion VARCHAR, max_gap_seconds BIGINT)""")
    con.execute("CREATE TABLE funnel_exclusions (funnel VARCHAR, conversion VARCHAR)")
    for f in cfg.funnels:
        con.execute("INSERT INTO funnel_definitions VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (f["name"], len(f["steps"]), f["window"], f["mode"], f["count"], f["gaps"],
                     f["description"]))
        con.executemany("INSERT INTO funnel_step_definitions VALUES (?, ?, ?, ?)",
                        [(f["name"], k + 1, c, f["gaps"][k]) for k, c in enumerate(f["steps"])])
        if f["exclude"]:
            con.executemany("INSERT INTO funnel_exclusions VALUES (?, ?)",
                            [(f["name"], x) for x in f["exclude"]])
    con.execute("CREATE TABLE lift_purchase_steps (conversion VARCHAR)")
    if cfg.purchase_steps:
        con.executemany("INSERT INTO lift_purchase_steps VALUES (?)", [(c,) for c in cfg.purchase_steps])


def set_variables(con, cfg, events_glob):
    def setv(name, value, sql_type):
        con.execute(f"SET VARIABLE {name} = CAST(? AS {sql_type})", [value])

    setv("events_glob", events_glob, "VARCHAR")
    now = dt.datetime.now(dt.timezone.utc)
    setv("future_limit", now + dt.timedelta(seconds=cfg.future_margin), "TIMESTAMPTZ")
    setv("session_timeout_seconds", cfg.timeout, "BIGINT")
    setv("engaged_min_seconds", cfg.engaged_seconds, "BIGINT")
    setv("engaged_min_pageviews", cfg.engaged_pageviews, "BIGINT")
    setv("attribution_lookback_seconds", cfg.lookback, "BIGINT")
    for k, v in cfg.lift.items():
        setv(k, v, "BIGINT" if isinstance(v, int) else "DOUBLE")
    # math.rs z_critical: the two-sided normal quantile of the confidence
    conf = cfg.lift["lift_confidence"]
    setv("lift_z", statistics.NormalDist().inv_cdf(1 - (1 - conf) / 2), "DOUBLE")


def fill_input_sql(cfg):
    case = " ".join(f"WHEN ({when}) THEN '{name}'" for name, when in cfg.channel_rules)
    checks = []
    for c in cfg.conversions:
        if c["scope"] != "event" or not c["value"]:
            continue
        text = c["when"] + " " + c["value"]
        if any(col in text for col in NON_CANONICAL_EVENT_COLUMNS):
            continue
        v = f"TRY_CAST(({c['value']}) AS DOUBLE)"
        checks.append(f"WHEN ({c['when']}) AND (isnan({v}) OR isinf({v})) THEN '{c['name']}'")
    bad = f"CASE {' '.join(checks)} END" if checks else "NULL::VARCHAR"
    return read_sql("_input").replace("{{channel_case}}", case).replace("{{bad_value_conversion}}", bad)


def fill_hits_sql(cfg, table, scope):
    template = read_sql(table)
    parts = []
    for c in cfg.conversions:
        if c["scope"] != scope:
            continue
        parts.append(template.replace("{{name}}", c["name"]).replace("{{when}}", c["when"])
                     .replace("{{value}}", c["value"] or "NULL"))
    if not parts:
        return ("SELECT NULL::VARCHAR AS event_id, NULL::VARCHAR AS user_id, NULL::VARCHAR AS session_id, "
                "NULL::TIMESTAMPTZ AS event_time, NULL::VARCHAR AS conversion, NULL::DOUBLE AS value "
                "WHERE false")
    return "\nUNION ALL\n".join(parts)


def materialise(con, name, sql, out_dir, write=True):
    """CREATE TABLE AS, then (`write`) COPY to Parquet, zstd level 3 as
    microconv's config, DuckDB's own row group size; returns (seconds, rows)."""
    started = time.perf_counter()
    con.execute(f'CREATE TABLE "{name}" AS {sql}')
    if write:
        path = out_dir / f"{name}.parquet"
        con.execute(f"COPY \"{name}\" TO '{path}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3)")
    seconds = time.perf_counter() - started
    rows = con.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
    return seconds, rows


def run(args):
    cfg = Config(args.config)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    con = connect(args)
    glob = str(Path(args.events).resolve() / "**" / "*.parquet")
    set_variables(con, cfg, glob)
    check_input(con, glob)
    register_reference_tables(con, cfg)
    con.execute(read_sql("macros"))
    stages = []

    def record(name, seconds, rows):
        stages.append({"name": name, "seconds": seconds, "rows": rows})
        print(f"   {name:<26} {rows:>12,} rows {seconds:8.2f} s", flush=True)

    # input stage: _input, the as-of date, events, rejected_events
    input_started = time.perf_counter()
    # the flagged input is an intermediate of the input stage, not an
    # output: kept in memory only
    record("_input", *materialise(con, "_input", fill_input_sql(cfg), out, write=False))
    (latest,) = con.execute(
        "SELECT MAX(event_time) FROM _input WHERE reject_reason IS NULL").fetchone()
    as_of = latest.astimezone(dt.timezone.utc).date()
    as_of_end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    con.execute("SET VARIABLE as_of_end = CAST(? AS TIMESTAMPTZ)", [as_of_end])
    start = None if cfg.lift_lookback is None else as_of_end - dt.timedelta(seconds=cfg.lift_lookback)
    con.execute("SET VARIABLE lift_window_start = CAST(? AS TIMESTAMPTZ)", [start])
    for name in INPUT_STAGE[1:]:
        record(name, *materialise(con, name, read_sql(name), out))
    input_seconds = time.perf_counter() - input_started

    for name in NODES:
        if name == "event_conversion_hits":
            sql = fill_hits_sql(cfg, name, "event")
        elif name == "session_conversion_hits":
            sql = fill_hits_sql(cfg, name, "session")
        else:
            sql = read_sql(name)
        record(name, *materialise(con, name, sql, out))
    result = {
        "engine": f"duckdb {duckdb.__version__}",
        "threads": args.threads,
        "memory_limit": args.memory_limit,
        "as_of": as_of.isoformat(),
        "input_seconds": input_seconds,
        "stages": stages,
        "seconds": time.perf_counter() - started,
    }
    Path(args.timings).write_text(json.dumps(result, indent=2))


def floor(args):
    con = connect(args)
    glob = str(Path(args.events).resolve() / "**" / "*.parquet")
    con.execute("SET VARIABLE events_glob = ?", [glob])
    started = time.perf_counter()
    con.execute("""CREATE TEMP TABLE sorted_events AS
        SELECT * FROM read_parquet(getvariable('events_glob'))
        ORDER BY user_id, event_time, event_id""")
    seconds = time.perf_counter() - started
    rows = con.execute("SELECT COUNT(*) FROM sorted_events").fetchone()[0]
    print(f"   duckdb read+sort: {rows:,} rows {seconds:.2f} s")
    Path(args.timings).write_text(json.dumps({"rows": rows, "seconds": seconds}))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=["run", "floor"])
    p.add_argument("--events", required=True, help="the generated events folder")
    p.add_argument("--config", help="microconv.toml (run)")
    p.add_argument("--out", help="folder for the Parquet outputs (run)")
    p.add_argument("--timings", required=True, help="JSON file for the timings")
    p.add_argument("--threads", default=2, type=int)
    p.add_argument("--memory-limit", default="8GB")
    p.add_argument("--temp-dir", help="spill folder")
    args = p.parse_args()
    if args.command == "run":
        if not (args.config and args.out):
            p.error("run needs --config and --out")
        run(args)
    else:
        floor(args)


if __name__ == "__main__":
    main()
