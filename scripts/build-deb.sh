#!/usr/bin/env bash
# Builds the Debian package canary_<version>_<arch>.deb: canaryd and canaryctl linked with the static
# Swift standard library (the target needs no toolchain), the systemd units, sysusers.d and tmpfiles.d
# entries, the journal catalog, /etc/canary/canary.toml as a conffile, the man pages, README and
# changelog, and maintainer scripts in the conventions dh_installsystemd, dh_installsysusers and
# dh_installtmpfiles write (deb-systemd-helper / deb-systemd-invoke). Then runs lintian on it (Debian's
# lintian, installed when missing and running as root): any error or warning fails the build; each
# override is justified in packaging/lintian-overrides.
#
# Usage: bash scripts/build-deb.sh [--debug] [--version V] [--out DIR] [--no-lintian]
#   --debug       package a debug build instead of a release build (quicker to make)
#   --version V   the package version (default: the program's, Sources/CanaryCore/Version.swift); the
#                 package test builds a second package with a higher one to test upgrades
#   --out DIR     where the .deb goes (default .build/deb); its path is printed last
#
# What goes where (the files scripts/install.sh installs with PREFIX=/usr, staged, plus the rest):
#   /usr/bin/canaryd, canaryctl                    stripped, RELRO and BIND_NOW
#   /usr/lib/systemd/system/canaryd.{service,socket}, canaryd-metrics.socket
#   /usr/lib/sysusers.d/canary.conf, /usr/lib/tmpfiles.d/canary.conf
#   /usr/lib/systemd/catalog/canary.catalog
#   /etc/canary/canary.toml (conffile, root:canary 0640 once installed), /etc/canary/credentials/ (0700)
#   /usr/share/man/man1/canaryctl.1.gz, man5/canary.toml.5.gz, man8/canaryd.8.gz
#   /usr/share/doc/canary/README.md, canary.toml.example, changelog.gz, copyright
set -euo pipefail
cd "$(dirname "$0")/.."

config=release
version=
out=.build/deb
lint=1
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) config=debug; shift ;;
    --version) version=${2:?--version needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --no-lintian) lint=0; shift ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-deb.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$version" ] || version=$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' Sources/CanaryCore/Version.swift)
case "$version" in [0-9]*) ;; *) echo "build-deb.sh: bad version '$version'" >&2; exit 2 ;; esac
arch=$(dpkg --print-architecture)
step() { printf '==> %s\n' "$*" >&2; }

missing=()
command -v dpkg-shlibdeps >/dev/null || missing+=(dpkg-dev)
command -v mandoc >/dev/null || missing+=(mandoc)
[ "$lint" = 0 ] || command -v lintian >/dev/null || missing+=(lintian)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "build-deb.sh: needs ${missing[*]} (apt-get install ${missing[*]})" >&2; exit 1; }
  step "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
fi

# --- binaries -------------------------------------------------------------------------------------
# Full RELRO and immediate binding, as Debian's hardening flags give C programs.
# A build folder of its own (SCRATCH, default .build/static): objects compiled for the static standard
# library cannot be linked with ones compiled for the shared one.
scratch=${SCRATCH:-.build/static}
flags=(-c "$config" --scratch-path "$scratch" --static-swift-stdlib -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now)
step "swift build ${flags[*]}"
swift build "${flags[@]}" --product canaryd >&2
swift build "${flags[@]}" --product canaryctl >&2
bindir=$(swift build -c "$config" --scratch-path "$scratch" --show-bin-path)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
mkdir -p "$root/DEBIAN"

# --- the files install.sh installs --------------------------------------------------------------
step "staging (scripts/install.sh --destdir, PREFIX=/usr)"
PREFIX=/usr BUILDDIR=$bindir bash scripts/install.sh --no-build --destdir "$root" >/dev/null
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/canaryd" "$root/usr/bin/canaryctl"
# The units point at the manual rather than the README (which a user may not have unpacked).
sed -i 's|^Documentation=file:/usr/share/doc/canary/README.md|Documentation=man:canaryd(8) file:/usr/share/doc/canary/README.md|' \
  "$root/usr/lib/systemd/system/"*.s*

# --- what a package has beyond that ----------------------------------------------------------------
install -D -m 0644 packaging/canary.tmpfiles "$root/usr/lib/tmpfiles.d/canary.conf"
mandir=$stage/man
bash scripts/gen-man.sh "$mandir" "$bindir" >/dev/null
for page in canaryctl.1 canary.toml.5 canaryd.8; do
  section=${page##*.}
  install -d -m 0755 "$root/usr/share/man/man$section"
  gzip -9n < "$mandir/$page" > "$root/usr/share/man/man$section/$page.gz"
  chmod 0644 "$root/usr/share/man/man$section/$page.gz"
done
doc=$root/usr/share/doc/canary
install -m 0644 packaging/copyright "$doc/copyright"
sed "1s/^canary ([^)]*)/canary ($version)/" packaging/changelog | gzip -9n > "$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"
install -D -m 0644 packaging/lintian-overrides "$root/usr/share/lintian/overrides/canary"

# --- control ----------------------------------------------------------------------------------------
step "control files"
shlibs=$stage/shlibs
mkdir -p "$shlibs/debian"
printf 'Source: canary\n\nPackage: canary\nArchitecture: any\n' > "$shlibs/debian/control"
depends=$(cd "$shlibs" && dpkg-shlibdeps -O -e"$root/usr/bin/canaryd" -e"$root/usr/bin/canaryctl" 2>/dev/null \
  | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build-deb.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
size=$(du -k -s --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" -e "s/@SIZE@/$size/" \
  packaging/control > "$root/DEBIAN/control"
echo /etc/canary/canary.toml > "$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 0755 "packaging/$s" "$root/DEBIAN/$s"; done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' md5sum) \
  > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

# --- the package --------------------------------------------------------------------------------------
mkdir -p "$out"
out=$(cd "$out" && pwd)
deb="$out/canary_${version}_${arch}.deb"
step "dpkg-deb --build $deb"
# Reproducible: every file dated by the last commit.
epoch=$(git log -1 --format=%ct 2>/dev/null || date +%s)
find "$root" -exec touch -h -d "@$epoch" {} +
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
if [ "$lint" = 1 ]; then
  step "lintian $deb"
  # --fail-on warning: errors and warnings fail; informational tags are shown only with -I.
  lintian --fail-on error,warning --suppress-tags-from-file /dev/null "$deb" >&2
fi
echo "$deb"
