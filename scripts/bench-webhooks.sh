#!/usr/bin/env bash
# Webhook delivery benchmark: alerts emitted by canaryd -> 2xx from a receiver on loopback.
#   bash scripts/bench-webhooks.sh [WORKDIR]      (default /tmp/canary-bench-webhooks)
#
# Workload: SUBJECTS (default 2000) people with raw heart-rate samples, each with three spikes: three
# alerts each (6000 by default), every one the moment its row is evaluated. The receiver is the test
# receiver (Tests/CanaryDaemonTests/Fixtures/webhook_receiver.py, Python's ThreadingHTTPServer),
# which verifies every signature. Three scenarios, each with a fresh canaryd (release build):
#   paced:   the receiver is up; the data goes in 100 parts, one every PACE seconds (default 0.2 s:
#            about 300 alerts/s offered), so latency shows the pipeline rather than a queue:
#            latency = receipt - emitted_at of each alert (both on this machine's clock), median,
#            p99 and max.
#   burst:   the receiver is up; all the data in one go (every alert decided within a fraction of a
#            second): throughput = alerts / (last receipt - first emission); latency is queueing here.
#   backlog: the receiver is down while the data is sent (every alert queued, retried), then comes up;
#            drain rate = alerts / (last receipt - receiver start).
# Checks: every alert arrives exactly once (by webhook-id), every signature verifies, the order per
# subject is the emission order. Prints figures; exit 1 on a failed check.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${1:-/tmp/canary-bench-webhooks}
subjects=${SUBJECTS:-2000}
concurrency=${MAX_CONCURRENT:-8}
mkdir -p "$work"
tmp=$(mktemp -d /tmp/canary-bench-wh.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# BIN=.build/debug runs the debug binaries instead (no build).
if [ -z "${BIN:-}" ]; then
  swift build -c release --product canaryd >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
  swift build -c release --product canaryctl >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
fi
bin=${BIN:-"$root/.build/release"}

python3 - "$work/spikes.csv" "$subjects" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("timestamp,subject,metric,value\n")
    for s in range(n):
        for i in range(80):
            v = {40: 260, 55: 460, 70: 660}.get(i, 60 + (i * 7 % 11) - 5)
            f.write(f"{1767225600 + i * 60},p{s:05d},hr,{v}\n")
PY
rows=$((subjects * 80)); alerts=$((subjects * 3))
# The paced scenario's 100 parts, each with the rows of subjects/100 people.
python3 - "$work" "$subjects" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
rows = open(f"{work}/spikes.csv").read().splitlines()
header, body = rows[0], rows[1:]
per = max(1, n // 100) * 80
for k in range(0, len(body), per):
    with open(f"{work}/part-{k // per:03d}.csv", "w") as f:
        f.write("\n".join([header] + body[k:k + per]) + "\n")
PY
echo "workload: $subjects subjects, $rows rows, $alerts alerts; max_concurrent=$concurrency"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "whsec_$(head -c 24 /dev/urandom | base64)" > "$tmp/secret"
echo '{}' > "$tmp/plan.json"

run() {  # run SCENARIO
  local scenario=$1 dir="$tmp/$1"
  mkdir -p "$dir/state"
  {
    printf '[daemon]\nsocket = "%s/ingest.sock"\ncontrol_socket = "%s/control.sock"\njournal = "off"\nalert_log = "%s/alerts.jsonl"\n' "$dir" "$dir" "$dir"
    printf '[state]\npath = "%s/state/state.sqlite"\n[privacy]\nkey_file = "%s/state/pseudonym.key"\n' "$dir" "$dir"
    printf '[delivery]\nmax_concurrent = %s\n' "$concurrency"
    # The rows are dated from 2026-01-01: keep them within max_past whenever this runs.
    printf '[engine]\nmax_past = "36500d"\n'
    printf '[metrics.default]\nmode = "raw"\n[gaps]\nsamples = "off"\n[composite]\n'
    printf '[webhooks.bench]\nurl = "http://127.0.0.1:%s/canary"\nsecret_file = "%s/secret"\nbackoff_initial = "0.2s"\nbackoff_max = "1s"\n' "$port" "$tmp"
    for s in $(seq 0 $((subjects - 1))); do
      printf '[[consent.grant]]\nsubject = "p%05d"\nscopes = ["monitor", "alert:webhook:bench"]\nreference = "bench"\n' "$s"
    done
  } > "$dir/canary.toml"
  : > "$dir/requests.jsonl"
  local receiver=""
  if [ "$scenario" != backlog ]; then
    python3 Tests/CanaryDaemonTests/Fixtures/webhook_receiver.py "$port" "$tmp/secret" "$dir/requests.jsonl" "$tmp/plan.json" > "$dir/receiver.out" &
    receiver=$!; pids+=("$receiver"); sleep 0.5
  fi
  "$bin/canaryd" --config "$dir/canary.toml" > "$dir/canaryd.log" 2>&1 &
  local daemon=$!; pids+=("$daemon")
  for _ in $(seq 100); do [ -S "$dir/ingest.sock" ] && break; sleep 0.05; done
  local inputs=("$work/spikes.csv")
  [ "$scenario" = paced ] && inputs=("$work"/part-*.csv)
  for input in "${inputs[@]}"; do
    "$bin/canaryctl" send --socket "$dir/ingest.sock" "$input" >> "$dir/send.out" || { cp "$dir/canaryd.log" "$work/canaryd-failed.log"; echo "canaryd failed; its log: $work/canaryd-failed.log"; exit 1; }
    [ "$scenario" = paced ] && sleep "${PACE:-0.2}"
  done
  local up_at=""
  if [ "$scenario" = backlog ]; then
    sleep 2
    up_at=$(python3 -c 'import time; print(time.time())')
    python3 Tests/CanaryDaemonTests/Fixtures/webhook_receiver.py "$port" "$tmp/secret" "$dir/requests.jsonl" "$tmp/plan.json" > "$dir/receiver.out" &
    receiver=$!; pids+=("$receiver")
  fi
  for _ in $(seq 1200); do
    [ "$(grep -c '"status": 200' "$dir/requests.jsonl" || true)" -ge "$alerts" ] && break
    sleep 0.1
  done
  sleep 0.5
  kill -TERM "$daemon"; wait "$daemon" || { echo "canaryd exited non-zero"; exit 1; }
  kill "$receiver" 2>/dev/null || true; wait "$receiver" 2>/dev/null || true
  python3 - "$scenario" "$dir/requests.jsonl" "$alerts" "$up_at" <<'PY'
import json, statistics, sys, datetime
scenario, path, expected, up_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
reqs = [json.loads(l) for l in open(path)]
ok = [r for r in reqs if r["status"] == 200]
ids = [r["id"] for r in ok]
fail = []
if len(ids) != expected or len(set(ids)) != expected: fail.append(f"{len(ids)} accepted, {len(set(ids))} distinct, expected {expected}")
if not all(r["verified"] for r in reqs): fail.append("a signature did not verify")
order = {}
for r in ok:
    order.setdefault(r["body"]["subject"], []).append(r["body"]["period_start"])
if any(v != sorted(v) for v in order.values()): fail.append("order per subject broken")
emitted = [datetime.datetime.fromisoformat(r["body"]["emitted_at"].replace("Z", "+00:00")).timestamp() for r in ok]
received = [r["received"] for r in ok]
lat = sorted((rc - em) * 1000 for rc, em in zip(received, emitted))
def pct(p): return lat[min(len(lat) - 1, int(p * len(lat)))]
if scenario != "backlog":
    span = max(received) - min(emitted)
    print(f"{scenario + ':':8} {len(ok)} alerts delivered in {span:.2f} s ({len(ok)/span:.0f}/s); emitted -> 2xx received: "
          f"median {statistics.median(lat):.1f} ms, p99 {pct(0.99):.1f} ms, max {lat[-1]:.1f} ms; requests {len(reqs)}")
else:
    span = max(received) - float(up_at)
    print(f"backlog: {len(ok)} queued alerts drained in {span:.2f} s after the receiver came up ({len(ok)/span:.0f}/s); requests {len(reqs)}")
if fail:
    print("FAILED: " + "; ".join(fail)); sys.exit(1)
PY
}

run paced
run burst
run backlog
