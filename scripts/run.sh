#!/usr/bin/env bash
# The main job on a development machine: set up, build, start canaryd with the development
# configuration (socket and alert log under ./run, no root needed), feed the sample data set through
# the socket with `canaryctl send`, print the alerts as they arrive, and stop the daemon cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product canaryd >/dev/null
swift build -c release --product canaryctl >/dev/null
bin=.build/release
mkdir -p run
# A clean demonstration each time: no alerts, consent or evaluation state from an earlier run.
rm -f run/alerts.jsonl run/ingest.sock run/control.sock run/state.sqlite run/state.sqlite-wal run/state.sqlite-shm

"$bin/canaryd" --config config/dev.toml 2>run/canaryd.log &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -S run/ingest.sock ] && break; sleep 0.1; done
[ -S run/ingest.sock ] || { cat run/canaryd.log; exit 1; }
echo "canaryd is listening on run/ingest.sock (pid $daemon)"

# Alerts as they arrive: from journald when it runs, otherwise from canaryd's alert log.
touch run/alerts.jsonl
if [ -S /run/systemd/journal/socket ] && command -v journalctl >/dev/null; then
  echo "alerts (journalctl -f SYSLOG_IDENTIFIER=canaryd CANARY_KIND=...):"
  journalctl -f -n 0 -o cat SYSLOG_IDENTIFIER=canaryd --output-fields=MESSAGE \
    CANARY_KIND=deviation + CANARY_KIND=composite + CANARY_KIND=gap + CANARY_KIND=resolved &
else
  echo "alerts (run/alerts.jsonl):"
  tail -n +1 -f run/alerts.jsonl | python3 -u -c 'import sys,json
for l in sys.stdin:
    a=json.loads(l); print(a["period"], a["kind"], a["subject"] + ":", a["explanation"])' &
fi
follower=$!

"$bin/canaryctl" send --socket run/ingest.sock \
  config/sample/sleep.csv config/sample/activity.csv config/sample/typing.csv config/sample/samples.csv

# The days close as each stream's own data moves past them (event time): the alerts arrive while the
# files go in. The last day of each stream closes a minute later (engine.max_lateness in config/dev.toml).
expected=22
for _ in $(seq 1 100); do
  [ "$(wc -l < run/alerts.jsonl)" -ge "$expected" ] && break
  sleep 0.2
done
sleep 1
kill $follower 2>/dev/null || true
kill -TERM $daemon
wait $daemon
trap - EXIT
echo "canaryd stopped cleanly; $(wc -l < run/alerts.jsonl) alerts in run/alerts.jsonl, daemon log in run/canaryd.log"
