#!/usr/bin/env bash
# The main job: install what is missing, build, and replay the sample data set through the engine.
# Prints the alerts as JSON Lines, then the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product canaryctl
.build/release/canaryctl replay --config config/sample/canary.toml \
  config/sample/sleep.csv config/sample/activity.csv config/sample/typing.csv config/sample/samples.csv
