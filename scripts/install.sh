#!/usr/bin/env bash
# Installs Canary as a system service: canaryd and canaryctl, the systemd units (socket-activated,
# sandboxed), the journal message catalog, the system user "canary" and the groups "canary"
# (canaryd's own: reads the configuration), "canary-feed" (feeders: the ingest socket, nothing
# else) and "canary-admin" (the control socket with admin_groups), and the configuration (only
# when none is there yet: an admin's /etc/canary/canary.toml is never overwritten, but its modes
# are set). Safe to run again, e.g. after an upgrade.
#
# Usage (as root):  bash scripts/install.sh [--no-build] [--prefix DIR] [--destdir DIR]
#
#   --no-build      install .build/release/{canaryd,canaryctl} as they are (default: run
#                   `swift build -c release $SWIFT_BUILD_FLAGS` first; BUILDDIR=DIR takes the
#                   binaries from DIR instead of .build/release)
#   --prefix DIR    or PREFIX=DIR: where binaries and docs go (default /usr/local): DIR/bin,
#                   DIR/share/doc/canary; the units are rewritten to run DIR/bin/canaryd
#   --destdir DIR   or DESTDIR=DIR: stage everything below DIR (for packaging or a dry look);
#                   then no user is created, nothing is chowned or reloaded, and it need not
#                   run as root
#
# Where things go (PREFIX /usr/local; directories can be overridden by the environment):
#   $PREFIX/bin/canaryd, canaryctl                 binaries
#   UNITDIR=/usr/local/lib/systemd/system          canaryd.socket, canaryd.service, canaryd-metrics.socket
#                                                  (/usr/lib/... for PREFIX=/usr, else /etc/systemd/system)
#   SYSUSERSDIR=/usr/local/lib/sysusers.d          canary.conf (user and group canary)
#   CATALOGDIR=/usr/lib/systemd/catalog            canary.catalog, then journalctl --update-catalog
#   /etc/canary/                                   root:canary 0750 (feeders cannot look inside)
#   /etc/canary/canary.toml                        root:canary 0640, only if absent (modes always)
#   /etc/canary/credentials/                       root 0700, each file in it root 0600 (LoadCredential=)
#   $PREFIX/share/doc/canary/                      README.md, canary.toml.example
#
# A production binary should not depend on the Swift toolchain's directory: build it with
# SWIFT_BUILD_FLAGS=--static-swift-stdlib (the script warns when a runtime library resolves
# below /home or /root, which ProtectHome=yes hides from the service).
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd)

build=1
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --destdir) DESTDIR=${2:?--destdir needs a directory}; shift 2 ;;
    --destdir=*) DESTDIR=${1#*=}; shift ;;
    -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
PREFIX=${PREFIX%/}
[ -n "$PREFIX" ] || PREFIX=/usr
case "$PREFIX" in /*) ;; *) echo "install.sh: PREFIX must be absolute: $PREFIX" >&2; exit 2 ;; esac
DESTDIR=${DESTDIR%/}

case "$PREFIX" in
  /usr)       def_unitdir=/usr/lib/systemd/system;       def_sysusersdir=/usr/lib/sysusers.d ;;
  /usr/local) def_unitdir=/usr/local/lib/systemd/system; def_sysusersdir=/usr/local/lib/sysusers.d ;;
  *)          def_unitdir=/etc/systemd/system;           def_sysusersdir=/etc/sysusers.d ;;
esac
BINDIR=$PREFIX/bin
DOCDIR=$PREFIX/share/doc/canary
UNITDIR=${UNITDIR:-$def_unitdir}
SYSUSERSDIR=${SYSUSERSDIR:-$def_sysusersdir}
CATALOGDIR=${CATALOGDIR:-/usr/lib/systemd/catalog}
CONFDIR=/etc/canary          # fixed: canaryd.service starts canaryd --config /etc/canary/canary.toml
BUILDDIR=${BUILDDIR:-.build/release}

staging=0
[ -n "$DESTDIR" ] && staging=1
if [ "$staging" = 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (or stage with DESTDIR=DIR)" >&2
  exit 1
fi

step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }

# Copies $1 to $2 with mode $3 through a temporary file and a rename: a running binary is
# replaced, never truncated under the process.
put() {
  local src=$1 dst=$2 mode=$3
  install -d -m 0755 "$(dirname "$dst")"
  install -m "$mode" "$src" "$dst.canary-new"
  mv -f "$dst.canary-new" "$dst"
  note "$dst"
}

# Installs a text file with /usr/local paths rewritten for PREFIX.
put_rewritten() {
  local src=$1 dst=$2 mode=$3 tmp
  tmp=$(mktemp)
  sed -e "s|/usr/local/bin/|$BINDIR/|g" -e "s|/usr/local/share/doc/canary/|$DOCDIR/|g" "$src" > "$tmp"
  put "$tmp" "$dst" "$mode"
  rm -f "$tmp"
}

# --- build ----------------------------------------------------------------------------------
if [ "$build" = 1 ]; then
  step "swift build -c release ${SWIFT_BUILD_FLAGS:-}"
  # shellcheck disable=SC2086  # SWIFT_BUILD_FLAGS holds several words on purpose
  swift build -c release ${SWIFT_BUILD_FLAGS:-}
fi
for b in canaryd canaryctl; do
  if [ ! -x "$BUILDDIR/$b" ]; then
    echo "install.sh: $BUILDDIR/$b not found; build it (drop --no-build)" >&2
    exit 1
  fi
done

# --- user and group -------------------------------------------------------------------------
step "system user canary, groups canary, canary-feed, canary-admin"
put "systemd/canary.sysusers" "$DESTDIR$SYSUSERSDIR/canary.conf" 0644
if [ "$staging" = 1 ]; then
  note "staged: the user and group are created on the target (systemd-sysusers canary.conf)"
elif command -v systemd-sysusers >/dev/null 2>&1; then
  systemd-sysusers "$SYSUSERSDIR/canary.conf"
else
  for g in canary canary-feed canary-admin; do getent group "$g" >/dev/null || groupadd --system "$g"; done
  getent passwd canary >/dev/null || useradd --system --gid canary --no-create-home \
    --home-dir /var/lib/canary --shell /usr/sbin/nologin --comment "Canary daemon" canary
  usermod -aG canary-admin canary
fi
if [ "$staging" = 0 ]; then
  getent group canary >/dev/null && getent group canary-feed >/dev/null && getent passwd canary >/dev/null \
    || { echo "install.sh: user canary or group canary / canary-feed missing after creation" >&2; exit 1; }
  note "$(id canary)"
fi

# --- binaries -------------------------------------------------------------------------------
step "binaries"
put "$BUILDDIR/canaryd" "$DESTDIR$BINDIR/canaryd" 0755
put "$BUILDDIR/canaryctl" "$DESTDIR$BINDIR/canaryctl" 0755
if command -v ldd >/dev/null 2>&1; then
  for b in canaryd canaryctl; do
    libs=$(ldd "$DESTDIR$BINDIR/$b" 2>/dev/null || true)
    if printf '%s\n' "$libs" | grep -c 'not found' >/dev/null; then
      warn "$b: shared libraries not found:"; printf '%s\n' "$libs" | grep 'not found' >&2
    fi
    if printf '%s\n' "$libs" | grep -Eq '=> /(home|root)/'; then
      warn "$b loads libraries below /home or /root, hidden from the service by ProtectHome=yes;" \
           "rebuild with SWIFT_BUILD_FLAGS=--static-swift-stdlib"
    fi
  done
fi

# --- documentation --------------------------------------------------------------------------
step "documentation"
put "README.md" "$DESTDIR$DOCDIR/README.md" 0644
put "config/canary.toml" "$DESTDIR$DOCDIR/canary.toml.example" 0644

# --- systemd units --------------------------------------------------------------------------
step "systemd units"
put_rewritten "systemd/canaryd.socket" "$DESTDIR$UNITDIR/canaryd.socket" 0644
put_rewritten "systemd/canaryd.service" "$DESTDIR$UNITDIR/canaryd.service" 0644
put_rewritten "systemd/canaryd-metrics.socket" "$DESTDIR$UNITDIR/canaryd-metrics.socket" 0644

# --- journal catalog ------------------------------------------------------------------------
step "journal message catalog"
put_rewritten "systemd/canary.catalog" "$DESTDIR$CATALOGDIR/canary.catalog" 0644
if [ "$staging" = 1 ]; then
  note "staged: run 'journalctl --update-catalog' on the target"
elif command -v journalctl >/dev/null 2>&1; then
  journalctl --update-catalog
  n=$(journalctl --list-catalog 2>/dev/null | grep -c ' canary: ' || true)
  note "journalctl --update-catalog: $n canary entries"
else
  warn "journalctl not found; catalog installed but not compiled"
fi

# --- configuration ---------------------------------------------------------------------------
# Feeders (canary-feed) and everyone else must not read the configuration (consent seeds, webhook
# headers) or the credentials: /etc/canary is root:canary 0750, canary.toml root:canary 0640, the
# credentials root-only (systemd reads them for LoadCredential= as root). Modes are set on every run,
# also for files an admin put there; owners only when not staging.
step "configuration"
conf="$DESTDIR$CONFDIR/canary.toml"
creds="$DESTDIR$CONFDIR/credentials"
install -d -m 0750 "$DESTDIR$CONFDIR"
chmod 0750 "$DESTDIR$CONFDIR"
[ "$staging" = 1 ] || chown root:canary "$CONFDIR"
if [ -e "$conf" ]; then
  note "$conf exists: kept as it is (the shipped default is $DOCDIR/canary.toml.example)"
else
  tmp=$(mktemp)
  cp "config/canary.toml" "$tmp"
  mv "$tmp" "$conf"
fi
chmod 0640 "$conf"
[ "$staging" = 1 ] || chown root:canary "$conf"
install -d -m 0700 "$creds"
chmod 0700 "$creds"
[ "$staging" = 1 ] || chown root:root "$creds"
find "$creds" -mindepth 1 -maxdepth 1 -type f -exec chmod 0600 {} +
[ "$staging" = 1 ] || find "$creds" -mindepth 1 -maxdepth 1 -type f -exec chown root:root {} +
if [ "$staging" = 1 ]; then
  note "$DESTDIR$CONFDIR (0750), canary.toml (0640), credentials/ (0700, files 0600); staged: chown root:canary $CONFDIR $CONFDIR/canary.toml on the target"
else
  note "$CONFDIR (0750 root:canary), canary.toml (0640 root:canary), credentials/ (0700 root, files 0600)"
fi
if [ -x "$DESTDIR$BINDIR/canaryctl" ] && ! check=$("$DESTDIR$BINDIR/canaryctl" check-config "$conf" 2>&1); then
  warn "canaryctl check-config $CONFDIR/canary.toml failed; canaryd will refuse to start (exit 78):"
  printf '%s\n' "$check" >&2
fi

# --- systemd --------------------------------------------------------------------------------
running=0
if [ "$staging" = 0 ] && [ -d /run/systemd/system ]; then
  running=1
  step "systemctl daemon-reload"
  systemctl daemon-reload
fi

cat <<EOF

Canary installed${DESTDIR:+ below $DESTDIR}.
Next steps:
  systemctl enable --now canaryd.socket   # listen on /run/canary/ingest.sock; canaryd starts on the first connection
  systemctl enable --now canaryd.service  # optional: run from boot, so gap alerts fire without traffic
  systemctl enable --now canaryd-metrics.socket  # optional: Prometheus metrics on 127.0.0.1:9464 (then restart canaryd)
  usermod -aG canary-feed USER            # a feeder running as USER may open the socket, and the default
                                          # allow_groups = ["canary-feed"] lets it send (it reads nothing else)
  usermod -aG canary-admin ADMIN          # with admin_groups = ["canary-admin"]: ADMIN may run canaryctl consent/alerts
  \$EDITOR $CONFDIR/canary.toml && canaryctl check-config $CONFDIR/canary.toml && systemctl reload canaryd
  journalctl -u canaryd -x                # alerts, with the catalog's explanations
EOF
if [ "$running" = 1 ] && systemctl -q is-active canaryd.service 2>/dev/null; then
  echo "  systemctl restart canaryd.service       # canaryd is running the previous binary"
fi
if [ "$staging" = 0 ] && [ "$running" = 0 ]; then
  echo "(systemd is not running as PID 1 here: the units are installed but not loaded.)"
fi
