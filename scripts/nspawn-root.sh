#!/usr/bin/env bash
# Prints the path of a minimal Debian 12 root with systemd (for scripts/test-package.sh, which boots
# it with systemd-nspawn --boot), making it first when there is none: debootstrap --variant=minbase
# --include=systemd,systemd-sysv,dbus plus the libraries the package depends on beyond a minimal
# system (libsqlite3-0, libxml2), so `dpkg -i` needs no network, from the machine's own Debian mirror. The root
# is kept between runs (below CANARY_NSPAWN_CACHE, default /var/cache/canary-test, named by the
# package list) and never changed by a test: each test boots a copy of it. Needs root, debootstrap and
# systemd-nspawn (installed when missing) and the network to the mirror the first time.
set -euo pipefail
packages=systemd,systemd-sysv,dbus,libsqlite3-0,libxml2
cache=${CANARY_NSPAWN_CACHE:-/var/cache/canary-test}/bookworm-$(printf '%s' "$packages" | md5sum | cut -c1-8)
mirror=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p; s/^deb \(http[^ ]*debian\) bookworm main.*/\1/p' \
  /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}
if [ -f "$cache/.complete" ]; then echo "$cache"; exit 0; fi
[ "$(id -u)" -eq 0 ] || { echo "nspawn-root.sh: needs root" >&2; exit 1; }
if ! command -v debootstrap >/dev/null || ! command -v systemd-nspawn >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap systemd-container >&2
fi
rm -rf "$cache.tmp"
mkdir -p "$(dirname "$cache")"
debootstrap --variant=minbase --include="$packages" bookworm "$cache.tmp" "$mirror" >&2
# Each container boots with a machine id of its own (systemd makes a transient one when none is there).
rm -f "$cache.tmp/etc/machine-id"
echo canary-test > "$cache.tmp/etc/hostname"
rm -rf "$cache"
mv "$cache.tmp" "$cache"
touch "$cache/.complete"
echo "$cache"
