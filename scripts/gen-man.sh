#!/usr/bin/env bash
# Writes the manual pages canaryctl.1, canaryd.8 and canary.toml.5 into OUTDIR (default .build/man),
# from the programs' own --help and config/canary.toml (scripts/gen-man.py), and checks each with
# `mandoc -Tlint` (Debian's mandoc, installed when missing and running as root): any warning fails.
#
# Usage: bash scripts/gen-man.sh [OUTDIR] [BINDIR]   BINDIR holds canaryd and canaryctl (default: a
# debug build, made here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/man}
bindir=${2:-}
if [ -z "$bindir" ]; then
  swift build --product canaryctl >&2
  swift build --product canaryd >&2
  bindir=$(swift build --show-bin-path)
fi
version=$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' Sources/CanaryCore/Version.swift)
python3 scripts/gen-man.py "$out" --canaryctl "$bindir/canaryctl" --canaryd "$bindir/canaryd" \
  --config config/canary.toml --version "$version" >/dev/null
if ! command -v mandoc >/dev/null; then
  [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q mandoc >&2
fi
status=0
for page in "$out/canaryctl.1" "$out/canaryd.8" "$out/canary.toml.5"; do
  if ! mandoc -Tlint -W warning "$page" >&2; then status=1; fi
done
[ "$status" = 0 ] || { echo "gen-man.sh: mandoc -Tlint found problems (above)" >&2; exit 1; }
echo "$out"
