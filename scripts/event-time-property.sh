#!/usr/bin/env bash
# The event-time property (Tests/CanaryDaemonTests/EventTimePropertyTests.swift) on many more seeds than
# the test run checks: every generated delivery of the sample set and the Depresjon recordings must decide
# exactly what the replay decides.
#   scripts/event-time-property.sh [SEEDS] [FIRST_SEED]     (default: 300 seeds from 1)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-300}"
first="${2:-1}"
swift build --build-tests >/dev/null
echo "checking $seeds seeds from $first"
CANARY_PROPERTY_SEEDS="$seeds" CANARY_PROPERTY_SEED="$first" \
  swift test --skip-build --filter 'EventTimePropertyTests/anyDeliveryWithinTheLatenessDecidesWhatTheReplayDecides' 2>&1 \
  | grep -E 'event-time property|✘|passed|failed' | cut -c1-2000
