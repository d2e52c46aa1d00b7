#!/usr/bin/env bash
# Replay benchmark: Canary against the reference Python peer on the deterministic workload of
# ../shared/bench, and a check that both flag exactly the same rows. Prints figures; changes nothing.
#   bash scripts/bench-replay.sh [WORKDIR]      (default /tmp/canary-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared="$root/../shared/bench"
work=${1:-/tmp/canary-bench}
mkdir -p "$work"
python3 -c 'import numpy' 2>/dev/null || pip install -q numpy
[ -f "$work/samples.csv" ] || python3 "$shared/gen_workload.py" --out "$work/samples.csv"
[ -f "$work/activity.csv" ] || python3 "$shared/gen_workload.py" --format activity --out "$work/activity.csv"
swift build -c release --product canaryctl >/dev/null
ctl="$root/.build/release/canaryctl"

echo "== machine: $(nproc) cores, $(uname -m), $(swift --version 2>&1 | head -1)"
echo "== peer_python.py on samples.csv (5,001,000 rows)"
python3 "$shared/peer_python.py" "$work/samples.csv" --dump-alerts "$work/peer.alerts" 2>/dev/null

for run in 1 2 3; do
  echo "== canaryctl replay --config bench/peer.toml samples.csv (run $run)"
  "$ctl" replay --config bench/peer.toml "$work/samples.csv" 2>"$work/canary.summary" >"$work/canary.alerts.jsonl"
  grep -E "accepted|alerts|rows/s" "$work/canary.summary"
done

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
rows = []
with open(f"{work}/samples.csv") as f:
    f.readline()
    for line in f:
        ts, s, m, _ = line.split(",")
        rows.append((s, m, int(ts)))
peer = {rows[int(l)] for l in open(f"{work}/peer.alerts")}
canary = set()
for l in open(f"{work}/canary.alerts.jsonl"):
    a = json.loads(l)
    canary.add((a["subject"], a["features"][0], int(a["period_start"])))
print(f"== cross-check: peer flags {len(peer)} rows, Canary {len(canary)}; identical: {peer == canary}")
sys.exit(0 if peer == canary else 1)
PY

echo "== canaryctl replay activity.csv (5,040,000 minute rows, daily features; default configuration)"
"$ctl" replay "$work/activity.csv" 2>&1 >/dev/null | grep -E "accepted|alerts|rows/s"
echo "== canaryctl replay --scores: samples.csv with every observation written"
"$ctl" replay --config bench/peer.toml --scores "$work/scores.csv" "$work/samples.csv" 2>&1 >/dev/null | grep -E "scored|rows/s"
