#!/usr/bin/env bash
# Benchmark: generate about N events with the synthetic generator, then run
# the whole job on them, printing wall time, events/s and peak memory for
# generation, the input stage and every query.
#
#   scripts/bench.sh [EVENTS] [WORKDIR]     e.g. scripts/bench.sh 10000000
#
# Not a test: it measures; it asserts nothing. Runs the release build.
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${1:-1000000}
WORK=${2:-$(mktemp -d "${TMPDIR:-/tmp}/microconv-bench.XXXXXX")}
# the generator writes about 9.1 rows per user over 180 days
USERS=$(( (EVENTS * 10 + 90) / 91 ))
FILES=$(( EVENTS / 2000000 + 1 ))

cargo build --release --quiet
BIN=$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)/microconv

echo "== generate: --users $USERS --days 180 --files $FILES -> $WORK/events"
/usr/bin/time -f "   wall %e s, peak RSS %M KB" \
  "$BIN" generate --users "$USERS" --days 180 --seed 7 --files "$FILES" --out "$WORK/events"

cat > "$WORK/microconv.toml" <<TOML
[input]
events = ["events"]
TOML
# the sample config's conversions, sessions and lift settings, minus [input]/[output]
sed -e '/^\[input\]/,/^\[sessions\]/{/^\[sessions\]/!d}' -e '/^\[output\]/,/^$/d' microconv.toml >> "$WORK/microconv.toml"

echo "== run (memory limit ${MEMORY_LIMIT:-8GiB})"
START=$(date +%s.%N)
(cd "$WORK" && /usr/bin/time -f "   wall %e s, peak RSS %M KB" \
  "$BIN" run --out out --memory-limit "${MEMORY_LIMIT:-8GiB}")
END=$(date +%s.%N)
ROWS=$(python3 -c "import json;print(json.load(open('$WORK/out/_manifests/latest.json'))['input_rows']['rows'])")
python3 - "$START" "$END" "$ROWS" <<'PY'
import sys
start, end, rows = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
print(f"== job: {rows:,} events in {end-start:.1f} s = {rows/(end-start):,.0f} events/s")
PY
echo "(work dir: $WORK)"
