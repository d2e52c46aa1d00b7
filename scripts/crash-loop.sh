#!/usr/bin/env bash
# Crash safety at scale (outside CI): SIGKILL the release canaryd N times (default 100) at seeded random
# points while a client streams rows and canaryd delivers alerts to a real webhook receiver; checks that
# every acknowledged row was saved, no alert appeared under a new id, and no delivery was lost.
# Figures in RELIABILITY.md.  Usage: bash scripts/crash-loop.sh [N] [--seed S]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100}"
shift || true
bash scripts/setup.sh
swift build -c release --product canaryd
exec python3 scripts/crash-loop.py "$n" --bin .build/release "$@"
