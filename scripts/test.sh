#!/usr/bin/env bash
# All tests: install what is missing, build, start the real services the tests use, run every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
swift build --build-tests
if [ "$(id -u)" = 0 ]; then
  # A real systemd-journald (started here when none runs) and the journal catalog, for the
  # journald integration tests; they are skipped when not running as root.
  bash scripts/journald.sh start
  install -D -m 0644 systemd/canary.catalog /usr/lib/systemd/catalog/canary.catalog
  journalctl --update-catalog
fi
bash systemd/check-units.sh
# A few seconds of each fuzz target (Fuzz/, FUZZING.md): builds the sanitized targets and fails on any crash.
bash scripts/fuzz.sh 3
swift test --skip-build "$@"
if [ "$(id -u)" = 0 ] && [ $# -eq 0 ]; then
  # The Debian package in a Debian 12 container booted with systemd-nspawn (systemd as PID 1):
  # install, socket activation, consent, alerts in the journal, reload, restart, upgrade, purge.
  # Packaged from a debug build (its own build folder: quicker than the release build the shipped
  # package uses, and the packaging, units and maintainer scripts are the same).
  bash scripts/test-package.sh --debug
fi
