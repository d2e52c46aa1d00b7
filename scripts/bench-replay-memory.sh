#!/usr/bin/env bash
# Replay memory (issue 10): the same rows replayed from 1 file and split by subject into many files,
# peak RSS (/usr/bin/time -v) and rows/s of a release `canaryctl replay`, and whether every split
# gives the alerts and the `--scores` output of the single file byte for byte (checked in one more,
# untimed run per split, scoring from the second day). Prints a table; changes nothing in the repository.
#   bash scripts/bench-replay-memory.sh [WORKDIR]      (default /tmp/canary-bench/memory)
# Environment: CTL=/path/to/canaryctl measures that binary instead of this checkout's release build
# (e.g. a base commit built in another worktree); FILES="1 100" the splits; RUNS=2 runs of each.
# Workload: ../shared/bench/gen_workload.py, 1000 subjects x 5040 minutes of `activity`, 5,040,000 rows.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared="$root/../shared/bench"
work=${1:-/tmp/canary-bench/memory}
files=${FILES:-"1 100"}
runs=${RUNS:-2}
subjects=1000
mkdir -p "$work"
python3 -c 'import numpy' 2>/dev/null || pip install -q numpy
data="$work/activity-$subjects.csv"
[ -f "$data" ] || python3 "$shared/gen_workload.py" --format activity --subjects "$subjects" --points-per-series 5040 --out "$data"
if [ -z "${CTL:-}" ]; then
  swift build -c release --product canaryctl >/dev/null
  CTL="$root/.build/release/canaryctl"
fi

# Split by subject: file i holds subjects [i*S/n, (i+1)*S/n), each file in time order like the whole.
for n in $files; do
  dir="$work/split-$n"
  [ -f "$dir/.done" ] && continue
  rm -rf "$dir"
  mkdir -p "$dir"
  awk -F, -v n="$n" -v s="$subjects" -v dir="$dir" '
    NR == 1 { header = $0; next }
    {
      f = sprintf("%s/part-%03d.csv", dir, int(substr($2, 2) * n / s))
      if (!(f in seen)) { seen[f] = 1; print header > f }
      print > f
    }' "$data"
  touch "$dir/.done"
done

printf '[baseline]\nmin_history_days = 1\n' >"$work/check.toml"

echo "== $CTL"
echo "== machine: $(nproc) cores, $(uname -m); workload: $data ($(($(wc -l <"$data") - 1)) rows)"
printf '%-10s %6s %14s %10s %12s %s\n' rows files "peak RSS MB" seconds rows/s "same alerts and scores as 1 file"
for n in $files; do
  dir="$work/split-$n"
  # The check scores from the second day on (the workload is 3.5 days; the default wants 14 of history).
  "$CTL" replay --config "$work/check.toml" --scores "$work/scores-$n.csv" "$dir"/part-*.csv >"$work/alerts-$n.jsonl" 2>/dev/null
  same=$(cmp -s "$work/alerts-$n.jsonl" "$work/alerts-${files%% *}.jsonl" && cmp -s "$work/scores-$n.csv" "$work/scores-${files%% *}.csv" \
    && echo "yes ($(wc -l <"$work/alerts-$n.jsonl") alerts, $(($(wc -l <"$work/scores-$n.csv") - 1)) scores)" || echo NO)
  for run in $(seq "$runs"); do
    /usr/bin/time -v "$CTL" replay "$dir"/part-*.csv >/dev/null 2>"$work/stderr-$n.txt"
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/stderr-$n.txt")
    rows=$(awk '/accepted=/ { sub(/.*accepted=/, ""); sub(/ .*/, ""); s += $0 } END { print s }' "$work/stderr-$n.txt")
    read -r seconds rate < <(awk '/ rows\/s/ { print $1, $3 }' "$work/stderr-$n.txt")
    printf '%-10s %6s %14.0f %10s %12s %s\n' "$rows" "$(ls "$dir"/part-*.csv | wc -l)" "$(echo "$rss / 1024" | bc -l)" \
      "$seconds" "$rate" "$same"
  done
done
