#!/usr/bin/env bash
# The whole job on each engine: local, Ballista standalone (in-process
# scheduler + executor), and a localhost Ballista cluster (a scheduler and
# two executor processes of the same binary), on about EVENTS generated
# events. Prints the wall time of each, the per-stage task counts the two
# executors logged (what shows the work is split over partitions and
# executors), and whether the published tables agree (row counts from the
# manifests).
#
#   scripts/bench-ballista.sh [EVENTS] [WORKDIR]      e.g. scripts/bench-ballista.sh 10000000
#
# Release build (set MICROCONV_BIN=path to time another binary). On one
# machine the cluster adds overhead, not speed: the point is that the same
# job runs, spread over tasks. Not a test; keep the machine otherwise idle.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

EVENTS=${1:-1000000}
WORK=${2:-$(mktemp -d "${TMPDIR:-/tmp}/microconv-ballista.XXXXXX")}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
USERS=$(( (EVENTS * 10 + 90) / 91 ))
FILES=$(( EVENTS / 2000000 + 1 ))
TASKS=${TASKS:-1}   # concurrent tasks per executor

if [ -n "${MICROCONV_BIN:-}" ]; then
  BIN=$(cd "$(dirname "$MICROCONV_BIN")" && pwd)/$(basename "$MICROCONV_BIN")
else
  cargo build --release --quiet
  BIN=$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)/microconv
fi

if [ ! -f "$WORK/events/.done" ]; then
  rm -rf "$WORK/events"
  "$BIN" generate --users "$USERS" --days 180 --seed 7 --files "$FILES" --out "$WORK/events" >/dev/null
  touch "$WORK/events/.done"
fi
# the repository's config without its [input] events and [output] dir
grep -v -e '^events = ' -e '^dir = ' "$REPO/microconv.toml" > "$WORK/microconv.toml"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

run() { # name, extra args...
  local name=$1; shift
  rm -rf "$WORK/out-$name"
  local t0 t1
  t0=$(date +%s.%N)
  "$BIN" run --config "$WORK/microconv.toml" --events "$WORK/events" --out "$WORK/out-$name" \
    --no-report "$@" > "$WORK/$name.stdout" 2> "$WORK/$name.stderr"
  t1=$(date +%s.%N)
  python3 -c "print(f'{\"$name\":<12} {$t1 - $t0:8.1f} s')"
}

run local
echo "  ($(grep -m1 '^input:' "$WORK/local.stderr" | sed -E 's/^input: ([0-9,]+) events.*/\1/') events in $WORK/events)"
run standalone --engine standalone

SCHED=$(free_port)
MICROCONV_LOG=info "$BIN" scheduler --bind "127.0.0.1:$SCHED" > "$WORK/scheduler.log" 2>&1 & PIDS+=($!)
wait_port "$SCHED"
for i in 1 2; do
  F=$(free_port); G=$(free_port)
  mkdir -p "$WORK/shuffle$i"
  MICROCONV_LOG=info "$BIN" executor --scheduler "127.0.0.1:$SCHED" --bind 127.0.0.1 \
    --external-host 127.0.0.1 --port "$F" --grpc-port "$G" --concurrent-tasks "$TASKS" \
    --work-dir "$WORK/shuffle$i" > "$WORK/executor$i.log" 2>&1 & PIDS+=($!)
  wait_port "$F"
done
run cluster --engine "df://127.0.0.1:$SCHED"

python3 - "$WORK" <<'PY'
import json, re, sys, collections
work = sys.argv[1]
tables = {}
for name in ("local", "standalone", "cluster"):
    m = json.load(open(f"{work}/out-{name}/_manifests/latest.json"))
    tables[name] = {t["name"]: t["rows"] for t in m["tables"]}
same = all(tables[n] == tables["local"] for n in tables)
print("published tables:", len(tables["local"]), "| row counts equal on all engines:", same)
tasks = collections.Counter()
per_exec = {}
for i in (1, 2):
    seen = set()
    for line in open(f"{work}/executor{i}.log", errors="replace"):
        m = re.search(r"(?:Received task|Execute task)\s*: \[TID ([^/]+)/(\d+)\.\d+/(\d+)\.\d+\]", line)
        if m:
            seen.add((m.group(1), int(m.group(2)), int(m.group(3))))
    per_exec[i] = seen
    for job, stage, _ in seen:
        tasks[(job, stage)] += 1
jobs = sorted({j for j, _ in tasks})
print(f"cluster: {len(jobs)} Ballista jobs, {len(tasks)} stages, "
      f"{sum(tasks.values())} tasks; executor 1 ran {len(per_exec[1])}, executor 2 ran {len(per_exec[2])}")
hist = collections.Counter(tasks.values())
print("tasks per stage (tasks: stages):", ", ".join(f"{k}: {v}" for k, v in sorted(hist.items())))
sys.exit(0 if same else 1)
PY
