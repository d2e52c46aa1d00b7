#!/usr/bin/env bash
# Alert latency benchmark: a row received by canaryd -> its alert in journald and -> webhook 2xx.
#   bash scripts/bench-latency.sh [WORKDIR]      (default /tmp/canary-bench)
#
# A fresh canaryd (release build; journal on, a webhook to the tests' receiver on loopback), the
# bench/peer.toml rule. bench/latency_probe.py sends one spike row every INTERVAL seconds (default
# 0.02) for a probe subject on its own connection and measures each alert's latency: journald's
# receive time of the entry, and the receiver's receipt time, minus the send time. Two phases of
# PHASE seconds (default 5): idle, then while LOAD_CLIENTS (default 4) `canaryctl send` clients feed
# the 5,001,000-row samples workload at full speed (started again when they finish early; a
# second pass is all duplicates). Needs root (a journald is started when none runs). Prints figures.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared="$root/../shared/bench"
work=${1:-/tmp/canary-bench}
phase=${PHASE:-5}
interval=${INTERVAL:-0.02}
k=${LOAD_CLIENTS:-4}
mkdir -p "$work"
tmp=$(mktemp -d /tmp/canary-bench-latency.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "${BIN:-}" ]; then
  swift build -c release --product canaryd >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
  swift build -c release --product canaryctl >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
fi
bin=${BIN:-"$root/.build/release"}
bash scripts/journald.sh start >/dev/null

python3 -c 'import numpy' 2>/dev/null || pip install -q numpy
[ -f "$work/samples.csv" ] || python3 "$shared/gen_workload.py" --out "$work/samples.csv"
if [ ! -f "$work/split-$k/.done" ]; then
  rm -rf "$work/split-$k"; mkdir -p "$work/split-$k"
  LC_ALL=C awk -F, -v k="$k" -v dir="$work/split-$k" '
    NR == 1 { for (i = 0; i < k; i++) print > (dir "/part-" i ".csv"); next }
    { print > (dir "/part-" (substr($2, 2) % k) ".csv") }' "$work/samples.csv"
  touch "$work/split-$k/.done"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "whsec_$(head -c 24 /dev/urandom | base64)" > "$tmp/secret"
echo '{}' > "$tmp/plan.json"
mkdir -p "$tmp/state"
{
  printf '[daemon]\nsocket = "%s/ingest.sock"\ncontrol_socket = "%s/control.sock"\njournal = "on"\n' "$tmp" "$tmp"
  printf '[state]\npath = "%s/state/state.sqlite"\n' "$tmp"
  [ -n "${ALERT_COMMIT_INTERVAL:-}" ] && printf 'alert_commit_interval = "%s"\n' "$ALERT_COMMIT_INTERVAL"
  printf '[privacy]\nkey_file = "%s/state/pseudonym.key"\njournal_subject = "raw"\n' "$tmp"
  printf '[engine]\nmax_past = "36500d"\n'
  printf '[webhooks.lat]\nurl = "http://127.0.0.1:%s/canary"\nsecret_file = "%s/secret"\nsubject = "raw"\n' "$port" "$tmp"
  cat bench/peer.toml
  printf '[[consent.grant]]\nsubject = "probe"\nscopes = ["monitor", "alert:journal", "alert:webhook:lat"]\nreference = "bench"\n'
  cut -d, -f2 "$work/samples.csv" | tail -n +2 | sort -u | while read -r s; do
    printf '[[consent.grant]]\nsubject = "%s"\nscopes = ["monitor", "alert:journal"]\nreference = "bench"\n' "$s"
  done
} > "$tmp/canary.toml"

python3 Tests/CanaryDaemonTests/Fixtures/webhook_receiver.py "$port" "$tmp/secret" "$tmp/requests.jsonl" "$tmp/plan.json" > "$tmp/receiver.out" 2>&1 &
pids+=($!)
"$bin/canaryd" --config "$tmp/canary.toml" > "$tmp/canaryd.log" 2>&1 &
daemon=$!; pids+=("$daemon")
for _ in $(seq 200); do [ -S "$tmp/ingest.sock" ] && break; sleep 0.05; done
[ -S "$tmp/ingest.sock" ] || { cat "$tmp/canaryd.log"; echo "canaryd did not start" >&2; exit 1; }

echo "== machine: nproc=$(nproc), $(uname -m); probe every ${interval} s, ${phase} s idle then ${phase} s under load ($k clients)"
load="for i in \$(seq 0 $((k - 1))); do '$bin/canaryctl' send --socket '$tmp/ingest.sock' '$work/split-$k/part-'\$i'.csv' & done; wait"
rc=0
python3 bench/latency_probe.py "$tmp/ingest.sock" "$tmp/requests.jsonl" "$phase" "$interval" --load bash -c "$load" || rc=$?
kill -TERM "$daemon"; wait "$daemon" || { echo "canaryd exited non-zero"; tail -5 "$tmp/canaryd.log"; rc=1; }
exit $rc
