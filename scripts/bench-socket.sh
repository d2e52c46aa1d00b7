#!/usr/bin/env bash
# Socket benchmark: rows from K concurrent `canaryctl send` clients to evaluated state in canaryd.
#   bash scripts/bench-socket.sh [WORKDIR]      (default /tmp/canary-bench)
#
# For K = 1, 2, 4, 8 (override with CLIENTS="1 4"; RUNS=2 repetitions each; BIN=DIR for other binaries): starts a fresh canaryd
# (the bench/peer.toml rule, journal off, alerts to a JSON Lines file), runs K clients in parallel,
# each sending one part of samples.csv split by subject, and times launch-until-all-exited. A client
# exits only after the daemon's final `OK accepted=N rejected=M`, which comes once all of that
# connection's rows are evaluated. Checks: rejected=0 everywhere, accepted sums to the row count,
# canaryd exits 0 on SIGTERM, and the alert log holds $EXPECT_ALERTS alerts (the peer's 1566),
# the same alerts in every run.
# Prints figures; changes nothing outside WORKDIR and a temporary directory. Exit 1 on a failed check.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared="$root/../shared/bench"
work=${1:-/tmp/canary-bench}
clients_list=${CLIENTS:-"1 2 4 8"}
runs=${RUNS:-2}
expect_alerts=${EXPECT_ALERTS:-1566}
client_timeout=${CLIENT_TIMEOUT:-300}   # seconds, per run
mkdir -p "$work"

tmp=$(mktemp -d /tmp/canary-bench-socket.XXXXXX)
daemon_pid=""
client_pids=()
cleanup() {
  local p
  # Clients run under timeout(1), which passes TERM on to its canaryctl.
  for p in "${client_pids[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true; done
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Release build; another build running in the same checkout can make one attempt fail: retry.
build() {
  local product=$1 attempt
  for attempt in 1 2 3 4 5; do
    if swift build -c release --product "$product" >"$tmp/build.log" 2>&1; then return 0; fi
    echo "   (release build of $product failed, attempt $attempt; retrying)" >&2
    sleep 2
  done
  cat "$tmp/build.log" >&2
  return 1
}
# BIN=DIR runs the canaryd and canaryctl built there instead (e.g. an older commit's release build).
if [ -n "${BIN:-}" ]; then
  bin=$BIN
else
  build canaryd
  build canaryctl
  bin="$root/.build/release"
fi

python3 -c 'import numpy' 2>/dev/null || pip install -q numpy
[ -f "$work/samples.csv" ] || python3 "$shared/gen_workload.py" --out "$work/samples.csv"
total=$(( $(wc -l <"$work/samples.csv") - 1 ))

# Split by subject (s000123 -> 123 mod K): each subject's rows stay in one file, in time order.
# One awk pass writes every split that is missing; a .done marker makes a split reusable.
need=()
for k in $clients_list; do [ -f "$work/split-$k/.done" ] || need+=("$k"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "== splitting samples.csv by subject for K = ${need[*]}"
  for k in "${need[@]}"; do rm -rf "$work/split-$k"; mkdir -p "$work/split-$k"; done
  LC_ALL=C awk -F, -v ks="${need[*]}" -v dir="$work" '
    BEGIN { n = split(ks, K, " ") }
    NR == 1 { for (j = 1; j <= n; j++) for (i = 0; i < K[j]; i++) print > (dir "/split-" K[j] "/part-" i ".csv"); next }
    { s = substr($2, 2) + 0; for (j = 1; j <= n; j++) print > (dir "/split-" K[j] "/part-" (s % K[j]) ".csv") }
  ' "$work/samples.csv"
  for k in "${need[@]}"; do touch "$work/split-$k/.done"; done
fi

cat >"$tmp/canary.toml" <<EOF
[daemon]
socket = "$tmp/ingest.sock"
socket_mode = "0600"
journal = "off"
alert_log = "$tmp/alerts.jsonl"
control_socket = "$tmp/control.sock"

[state]
path = "$tmp/state/state.sqlite"

[privacy]
# Outside the state directory, which each run starts without: one installation key for all runs, so
# alert ids and subject tokens are the same in every run and the alert logs can be compared.
key_file = "$tmp/pseudonym.key"

[engine]
# The generated workload starts in November 2023, past the default max_past (400 days).
max_past = "36500d"

EOF
cat "$root/bench/peer.toml" >>"$tmp/canary.toml"
# Consent is default deny: every subject of the workload agreed to be monitored and to journal alerts.
cut -d, -f2 "$work/samples.csv" | tail -n +2 | sort -u | while read -r s; do
  printf '[[consent.grant]]\nsubject = "%s"\nscopes = ["monitor", "alert:journal"]\nreference = "bench"\n\n' "$s"
done >>"$tmp/canary.toml"

echo "== machine: nproc=$(nproc), $(uname -m), $(swift --version 2>&1 | head -1)"
echo "== workload: $work/samples.csv, $total rows; alerts expected: $expect_alerts"
failed=0
fail() { echo "   FAIL: $*"; failed=1; }

for k in $clients_list; do
  for run in $(seq "$runs"); do
    rm -rf "$tmp/alerts.jsonl" "$tmp/ingest.sock" "$tmp"/out-* "$tmp"/err-* "$tmp/state"  # a fresh daemon: no saved state
    "$bin/canaryd" --config "$tmp/canary.toml" >"$tmp/daemon.log" 2>&1 &
    daemon_pid=$!
    for _ in $(seq 300); do
      [ -S "$tmp/ingest.sock" ] && break
      kill -0 "$daemon_pid" 2>/dev/null || break
      sleep 0.05
    done
    if [ ! -S "$tmp/ingest.sock" ]; then
      cat "$tmp/daemon.log"; echo "canaryd did not bind its socket" >&2; exit 1
    fi

    client_pids=()
    t0=$(date +%s.%N)
    for ((i = 0; i < k; i++)); do
      timeout -s KILL "$client_timeout" "$bin/canaryctl" send --socket "$tmp/ingest.sock" \
        "$work/split-$k/part-$i.csv" >"$tmp/out-$i" 2>"$tmp/err-$i" &
      client_pids+=($!)
    done
    client_rc=0
    for p in "${client_pids[@]}"; do wait "$p" || client_rc=$?; done
    t1=$(date +%s.%N)
    client_pids=()

    accepted=0
    for ((i = 0; i < k; i++)); do
      line=$(grep -o 'accepted=[0-9]* rejected=[0-9]*' "$tmp/out-$i" || true)
      if [ -z "$line" ]; then fail "client $i printed no outcome: $(head -c 300 "$tmp/err-$i")"; continue; fi
      a=${line#accepted=}; a=${a%% *}; r=${line##*rejected=}
      accepted=$((accepted + a))
      [ "$r" = 0 ] || fail "client $i: rejected=$r"
    done
    [ "$client_rc" = 0 ] || fail "a client exited with status $client_rc"
    [ "$accepted" = "$total" ] || fail "accepted $accepted rows in all, expected $total"

    kill -TERM "$daemon_pid"
    for _ in $(seq 300); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$daemon_pid" 2>/dev/null && { fail "canaryd still running 30 s after SIGTERM"; kill -KILL "$daemon_pid"; }
    daemon_rc=0; wait "$daemon_pid" || daemon_rc=$?
    daemon_pid=""
    [ "$daemon_rc" = 0 ] || { fail "canaryd exited with status $daemon_rc"; tail -5 "$tmp/daemon.log"; }

    alerts=$( [ -f "$tmp/alerts.jsonl" ] && wc -l <"$tmp/alerts.jsonl" || echo 0)
    [ "$alerts" = "$expect_alerts" ] || fail "$alerts alerts, expected $expect_alerts"
    # Not only as many: the very same alerts (as sorted lines) whatever K, compared with the first run.
    if [ -f "$tmp/alerts.jsonl" ]; then
      LC_ALL=C sort "$tmp/alerts.jsonl" >"$tmp/alerts.sorted"
      if [ -f "$tmp/alerts.first" ]; then
        cmp -s "$tmp/alerts.sorted" "$tmp/alerts.first" || fail "the alerts differ from those of the first run"
      else
        mv "$tmp/alerts.sorted" "$tmp/alerts.first"
      fi
    fi

    awk -v k="$k" -v rows="$accepted" -v a="$alerts" -v t0="$t0" -v t1="$t1" 'BEGIN {
      s = t1 - t0; printf "clients=%d rows=%d seconds=%.3f rows_per_s=%d alerts=%d\n", k, rows, s, rows / s, a }'
  done
done
exit "$failed"
