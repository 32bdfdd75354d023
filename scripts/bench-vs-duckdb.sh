#!/usr/bin/env bash
# Side-by-side benchmark: microconv against DuckDB on the same events, for the
# core tables (the input stage `events` + `rejected_events`, session_events,
# sessions, conversions, daily_kpis, journeys, funnel_users, lift_users,
# micro_conversion_lift, and the intermediate tables they read).
#
#   scripts/bench-vs-duckdb.sh [EVENTS] [WORKDIR]     e.g. scripts/bench-vs-duckdb.sh 1000000
#
# 1. Generates about EVENTS events exactly as scripts/bench.sh does (same
#    users, days, seed and files; the config is the repository's
#    microconv.toml minus [input]/[output]).
# 2. microconv: `run --select <core tables> --memory-limit 8GiB` (release
#    build; set MICROCONV_BIN=path to time another binary and skip the build).
#    Per-table seconds come from the run manifest; peak RSS is the
#    process's, as /usr/bin/time's %M and the manifest's peak_rss_bytes see
#    it. A second, untimed run publishes copies of the internal
#    tables events, session_events and lift_users (scripts/bench/microconv_check/)
#    for the checks.
# 3. DuckDB (Python package `duckdb`; threads 2, memory limit 8GiB, spill to
#    WORKDIR): the same tables from the SQL in scripts/bench/duckdb/, one file
#    per table, each CREATE TABLE AS and COPY to Parquet (zstd 3, DuckDB's row
#    groups), as microconv writes every table it computes (internal ones to
#    its staging folder); only the flagged input `_input` stays in memory.
# 4. Both read + sort floors: every column of the events sorted by (user_id,
#    event_time, event_id), nothing written (DuckDB: a temp table; DataFusion:
#    the Python `datafusion` 55 package, a release build whatever binary
#    MICROCONV_BIN names, as `microconv sql` cannot read the raw files, see
#    scripts/bench/datafusion_floor.py).
# 5. Checks that the two agree on every core table (row counts, key
#    checksums, every column row by row; scripts/bench/compare.py: DuckDB reads
#    both engines' Parquet), then prints the figures (scripts/bench/report.py).
#    Exits 1 when a table disagrees.
#
# How equal the two sides are. The DuckDB SQL has microconv's semantics, query
# for query (dedup keeping the first valid row of an event_id, reject reasons
# in microconv's order, the config's channel rules and conversions, sessions
# split on gaps longer than the timeout in whole microseconds, session ids
# `<user_id>#<start %Y-%m-%dT%H:%M:%S.ffffffZ>`, event_seq, dwell_seconds, ...),
# written as one would write it for DuckDB (windows partitioned by user where
# microconv uses one global order; arg_min, first/last/string_agg with ORDER
# BY for microconv's ordered aggregates). What differs, and why:
# - window_funnel_times (a Rust UDAF) is SQL here: a recursive CTE that
#   matches one funnel level per step, equal to the UDAF in `ordered` mode;
#   the other modes are not written (the config uses only `ordered`; the
#   script refuses others).
# - The statistics functions are macros (scripts/bench/duckdb/macros.sql) with
#   the same formulas; DuckDB has no normal CDF or quantile, so the normal
#   tail is a series / continued fraction (within 2e-13 of erfc) and the
#   critical z of [lift] confidence is computed in Python. Fisher's exact test
#   sums hypergeometric terms from lgamma.
# - Only what the generator writes is mapped: canonical column names, no
#   session_id or channel column, no [input] column mapping or dedupe options
#   (checked). A row without an event_id is identified by the md5 of its text
#   as microconv writes it (timestamps in Arrow's RFC 3339 form, doubles in
#   DuckDB's, equal to Arrow's on the generator's values), and the blank
#   user_id / event_name test uses RE2's ASCII \s (Rust's is Unicode).
# - Both engines read the events once from the generator's Parquet; microconv
#   then reads every table back from the Parquet it wrote, DuckDB from its
#   in-memory tables (all kept to the end: hence much of its peak RSS).
#
# Not a test: it measures, and checks agreement. Keep the machine otherwise idle.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

EVENTS=${1:-1000000}
WORK=${2:-$(mktemp -d "${TMPDIR:-/tmp}/microconv-vs-duckdb.XXXXXX")}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
# the generator writes about 9.1 rows per user over 180 days (as bench.sh)
USERS=$(( (EVENTS * 10 + 90) / 91 ))
FILES=$(( EVENTS / 2000000 + 1 ))
MEMORY_LIMIT=${MEMORY_LIMIT:-8GiB}
CORE=(session_events sessions conversions daily_kpis journeys funnel_users lift_users micro_conversion_lift)

if [ -n "${MICROCONV_BIN:-}" ]; then
  BIN=$(cd "$(dirname "$MICROCONV_BIN")" && pwd)/$(basename "$MICROCONV_BIN")
else
  cargo build --release --quiet
  BIN=$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)/microconv
fi
python3 -c 'import duckdb, pyarrow' 2>/dev/null || pip install --quiet duckdb pyarrow
python3 -c 'import datafusion' 2>/dev/null || pip install --quiet 'datafusion==55.*'
TIME=(/usr/bin/time -f "%e %M")

echo "== generate: --users $USERS --days 180 --files $FILES -> $WORK/events"
rm -rf "$WORK/events"
"$BIN" generate --users "$USERS" --days 180 --seed 7 --files "$FILES" --out "$WORK/events" >/dev/null

cat > "$WORK/microconv.toml" <<TOML
[input]
events = ["events"]
TOML
# the sample config's conversions, sessions and lift settings, minus [input]/[output]
sed -e '/^\[input\]/,/^\[sessions\]/{/^\[sessions\]/!d}' -e '/^\[output\]/,/^$/d' microconv.toml >> "$WORK/microconv.toml"

SELECT_ARGS=()
for t in "${CORE[@]}"; do SELECT_ARGS+=(--select "$t"); done
echo "== microconv run --select ${CORE[*]} (memory limit $MEMORY_LIMIT)"
rm -rf "$WORK/out" "$WORK/out-check"
(cd "$WORK" && "${TIME[@]}" -o microconv.time \
  "$BIN" run --out out --memory-limit "$MEMORY_LIMIT" "${SELECT_ARGS[@]}" > microconv.log)
AS_OF=$(python3 -c "import json;print(json.load(open('$WORK/out/_manifests/latest.json'))['as_of'])")

echo "== microconv: copies of the internal tables, for the checks (not timed)"
(cd "$WORK" && "$BIN" run --out out-check --memory-limit "$MEMORY_LIMIT" \
  --queries "$REPO/scripts/bench/microconv_check" \
  --select bench_events --select bench_session_events --select bench_lift_users > microconv-check.log)

echo "== duckdb (threads 2, memory limit $MEMORY_LIMIT)"
rm -rf "$WORK/duckdb" "$WORK/duckdb.tmp"
"${TIME[@]}" -o "$WORK/duckdb.time" python3 scripts/bench/duckdb_side.py run \
  --events "$WORK/events" --config "$WORK/microconv.toml" --out "$WORK/duckdb" \
  --timings "$WORK/duckdb.json" --memory-limit "$MEMORY_LIMIT" --temp-dir "$WORK/duckdb.tmp"

echo "== read+sort floors"
"${TIME[@]}" -o "$WORK/duckdb-floor.time" python3 scripts/bench/duckdb_side.py floor \
  --events "$WORK/events" --timings "$WORK/duckdb-floor.json" \
  --memory-limit "$MEMORY_LIMIT" --temp-dir "$WORK/duckdb.tmp"
"${TIME[@]}" -o "$WORK/datafusion-floor.time" python3 scripts/bench/datafusion_floor.py \
  --events "$WORK/events" --timings "$WORK/datafusion-floor.json" --spill-dir "$WORK"

echo "== agreement (as of $AS_OF)"
STATUS=0
python3 scripts/bench/compare.py --microconv-out "$WORK/out" --microconv-check-out "$WORK/out-check" \
  --duckdb-out "$WORK/duckdb" --as-of "$AS_OF" || STATUS=1

echo
python3 scripts/bench/report.py --manifest "$WORK/out/_manifests/latest.json" \
  --microconv-time "$WORK/microconv.time" \
  --duckdb-timings "$WORK/duckdb.json" --duckdb-time "$WORK/duckdb.time" \
  --datafusion-floor "$WORK/datafusion-floor.json" --datafusion-floor-time "$WORK/datafusion-floor.time" \
  --duckdb-floor "$WORK/duckdb-floor.json" --duckdb-floor-time "$WORK/duckdb-floor.time" \
  --binary "($BIN)"
echo "(work dir: $WORK)"
exit $STATUS
