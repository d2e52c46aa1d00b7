#!/usr/bin/env bash
# Checks the systemd integration files in this folder, offline: needs systemd-analyze,
# journalctl and systemd-sysusers (Debian package "systemd"), but neither systemd as PID 1
# nor installed binaries, and changes nothing outside a temporary folder.
#
#   1. systemd-analyze verify on canaryd.socket + canaryd-metrics.socket + canaryd.service. verify insists that
#      ExecStart= points at an executable, so the units are checked as copies whose
#      /usr/local/bin/canaryd is rewritten to a dummy executable in the temporary folder (the
#      same rewrite scripts/install.sh does for another PREFIX). Any output counts as a
#      failure: verify exits 0 on warnings such as unknown keys.
#   2. systemd-analyze security --offline=true on canaryd.service: the overall exposure must
#      be at most MAX (default 2.0; systemd-timesyncd scores 2.3). Prints what is still flagged.
#   3. canary.catalog: compiled with journalctl --update-catalog in a temporary root; every
#      entry must be listed, ids unique, each with Subject:, Defined-By: canary and Support:.
#   4. canary.sysusers: applied with systemd-sysusers to a temporary root; the feeders' group
#      canary-feed exists, empty, and is the ingest socket's group.
#
# Usage: systemd/check-units.sh [--max-exposure N] [--quiet]
# Exit status: 0 all passed, 1 a check failed, 2 a tool is missing or bad usage.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
max=2.0
quiet=0
while [ $# -gt 0 ]; do
  case "$1" in
    --max-exposure) max=${2:?--max-exposure needs a number}; shift 2 ;;
    --max-exposure=*) max=${1#*=}; shift ;;
    --quiet|-q) quiet=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-units: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

for tool in systemd-analyze journalctl systemd-sysusers; do
  command -v "$tool" >/dev/null 2>&1 || { echo "check-units: $tool not found (apt-get install systemd)" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/canary-check-units.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
export SYSTEMD_PAGER= SYSTEMD_COLORS=0 LC_ALL=C

failed=0
say() { [ "$quiet" = 1 ] || printf '%s\n' "$*"; }
fail() { printf 'check-units: FAIL: %s\n' "$*" >&2; failed=1; }

# --- 1. verify ------------------------------------------------------------------------------
mkdir -p "$tmp/units" "$tmp/bin"
printf '#!/bin/sh\nexit 0\n' > "$tmp/bin/canaryd"
printf '#!/bin/sh\nexit 0\n' > "$tmp/bin/canaryctl"
chmod 0755 "$tmp/bin/canaryd" "$tmp/bin/canaryctl"
for unit in canaryd.socket canaryd-metrics.socket canaryd.service; do
  [ -f "$here/$unit" ] || { fail "$unit missing"; continue; }
  sed "s|/usr/local/bin/|$tmp/bin/|g" "$here/$unit" > "$tmp/units/$unit"
done
verify_out=$(systemd-analyze verify "$tmp/units/canaryd.socket" "$tmp/units/canaryd-metrics.socket" "$tmp/units/canaryd.service" 2>&1)
verify_rc=$?
if [ "$verify_rc" -ne 0 ] || [ -n "$verify_out" ]; then
  fail "systemd-analyze verify (exit $verify_rc):"
  printf '%s\n' "$verify_out" | sed "s|$tmp/units/|systemd/|g; s|$tmp/bin/|/usr/local/bin/|g" >&2
else
  say "verify: canaryd.socket canaryd-metrics.socket canaryd.service: clean"
fi

# The webhooks drop-in (network access) must be valid too: verify the service with it applied.
if [ -f "$here/webhooks/network.conf" ]; then
  cat "$tmp/units/canaryd.service" "$here/webhooks/network.conf" > "$tmp/units/canaryd-webhooks.service"
  dropin_out=$(cd "$tmp/units" && systemd-analyze verify "$tmp/units/canaryd-webhooks.service" 2>&1 | grep -v 'canaryd.socket')
  if [ -n "$dropin_out" ]; then
    fail "systemd-analyze verify with webhooks/network.conf:"
    printf '%s\n' "$dropin_out" >&2
  else
    say "verify: canaryd.service + webhooks/network.conf: clean"
  fi
fi

# --- 2. security ----------------------------------------------------------------------------
sec_out=$(systemd-analyze security --offline=true --no-pager "$here/canaryd.service" 2>&1)
sec_rc=$?
exposure=$(printf '%s\n' "$sec_out" | sed -n 's/.*Overall exposure level for canaryd\.service: \([0-9][0-9]*\.[0-9]*\).*/\1/p' | tail -n 1)
if [ -z "$exposure" ]; then
  fail "systemd-analyze security gave no overall exposure (exit $sec_rc):"
  printf '%s\n' "$sec_out" >&2
elif awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e + 0 > m + 0) }'; then
  fail "exposure $exposure > $max; flagged:"
  printf '%s\n' "$sec_out" | grep -E '^(✗|-) ' >&2
else
  say "security: canaryd.service exposure $exposure (max $max); still flagged:"
  [ "$quiet" = 1 ] || printf '%s\n' "$sec_out" | grep -E '^(✗|-) ' | sed 's/  */ /g; s/^/  /'
fi

# --- 3. catalog -----------------------------------------------------------------------------
catalog="$here/canary.catalog"
if [ ! -f "$catalog" ]; then
  fail "canary.catalog missing"
else
  mkdir -p "$tmp/catroot/usr/lib/systemd/catalog"
  cp "$catalog" "$tmp/catroot/usr/lib/systemd/catalog/canary.catalog"
  if ! cat_out=$(journalctl --root="$tmp/catroot" --update-catalog 2>&1) || [ -n "$cat_out" ]; then
    fail "journalctl --update-catalog:"; printf '%s\n' "$cat_out" >&2
  fi
  ids=$(grep -E '^-- [0-9a-f]{32}$' "$catalog" | cut -c4-)
  n_ids=$(printf '%s\n' "$ids" | grep -c .)
  n_unique=$(printf '%s\n' "$ids" | sort -u | grep -c .)
  [ "$n_ids" -eq "$n_unique" ] || fail "canary.catalog: duplicate MESSAGE_IDs"
  bad_headers=$(grep -E '^-- ' "$catalog" | grep -Ev '^-- [0-9a-f]{32}$')
  [ -z "$bad_headers" ] || fail "canary.catalog: malformed entry headers: $bad_headers"
  listed=$(journalctl --root="$tmp/catroot" --list-catalog 2>&1)
  for id in $ids; do
    printf '%s\n' "$listed" | grep -c "^$id canary: " >/dev/null || fail "catalog entry $id not listed by journalctl --list-catalog"
    entry=$(journalctl --root="$tmp/catroot" --dump-catalog "$id" 2>&1)
    for field in 'Subject: ' 'Defined-By: canary' 'Support: '; do
      printf '%s\n' "$entry" | grep -c "^$field" >/dev/null || fail "catalog entry $id lacks '$field'"
    done
  done
  say "catalog: $n_ids entries compiled and listed"
fi

# --- 4. sysusers ----------------------------------------------------------------------------
if [ ! -f "$here/canary.sysusers" ]; then
  fail "canary.sysusers missing"
else
  mkdir -p "$tmp/sysroot/etc"
  if ! su_out=$(systemd-sysusers --root="$tmp/sysroot" "$here/canary.sysusers" 2>&1); then
    fail "systemd-sysusers:"; printf '%s\n' "$su_out" >&2
  elif ! grep -q '^canary:x:[0-9]*:[0-9]*:Canary daemon:/var/lib/canary:' "$tmp/sysroot/etc/passwd" \
       || ! grep -q '^canary:x:[0-9]*:' "$tmp/sysroot/etc/group"; then
    fail "canary.sysusers did not create user and group canary"
  elif ! grep -q '^canary-feed:x:[0-9]*:$' "$tmp/sysroot/etc/group" \
       || ! grep -q '^canary-admin:x:[0-9]*:canary$' "$tmp/sysroot/etc/group"; then
    fail "canary.sysusers did not create the groups canary-feed (no members) and canary-admin (with canary)"
  elif ! grep -q '^SocketGroup=canary-feed$' "$here/canaryd.socket"; then
    fail "canaryd.socket must give the ingest socket to the feeders' group canary-feed, not canary"
  else
    say "sysusers: user canary, groups canary, canary-feed and canary-admin created in a temporary root"
  fi
fi

if [ "$failed" -ne 0 ]; then
  echo "check-units: FAILED" >&2
  exit 1
fi
say "check-units: OK"
