#!/usr/bin/env bash
# Installs the system packages Canary builds and tests against, only when missing.
# Idempotent; needs root (or sudo) only when something is actually missing.
set -euo pipefail

need=()
pkg-config --exists libsystemd 2>/dev/null || need+=(libsystemd-dev)
pkg-config --exists sqlite3 2>/dev/null || need+=(libsqlite3-dev)
pkg-config --exists libxml-2.0 2>/dev/null || need+=(libxml2-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v openssl >/dev/null 2>&1 || need+=(openssl)   # the tests make a self-signed certificate
# With --test: what only the tests use. promtool (Debian's prometheus package) checks the metrics;
# chromium (headless) loads and renders the HTML report; mandoc lints the man pages; dpkg-dev and
# lintian build and check the Debian package, debootstrap and systemd-container (systemd-nspawn)
# make and boot the container it is tested in.
if [ "${1:-}" = "--test" ]; then
  command -v promtool >/dev/null 2>&1 || need+=(prometheus)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v mandoc >/dev/null 2>&1 || need+=(mandoc)
  command -v dpkg-shlibdeps >/dev/null 2>&1 || need+=(dpkg-dev)
  command -v lintian >/dev/null 2>&1 || need+=(lintian)
  command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
  command -v systemd-nspawn >/dev/null 2>&1 || need+=(systemd-container)
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  # The prometheus package would start its own server where systemd runs; only promtool is wanted.
  $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
  if [[ " ${need[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
fi
command -v swift >/dev/null 2>&1 || { echo "setup: the Swift toolchain (swift) is not on PATH" >&2; exit 1; }
