#!/usr/bin/env bash
# The Debian package under a real systemd as PID 1: builds canary_<version>_<arch>.deb (lintian clean)
# and a second one with a higher version, boots a minimal Debian 12 container with systemd-nspawn
# --boot (scripts/nspawn-root.sh; the root is cached between runs, each run boots a copy), and in it:
#   dpkg -i; every file, owner and mode; the system user and groups; canaryd.socket enabled and
#   listening, canaryd.service not yet running; the first connection starts the service, sandboxed
#   as shipped, and with no consent its rows are refused; consent granted with canaryctl; the
#   sample data sent; alerts read with journalctl -u canaryd and the catalog with -x; no noise in
#   the service's journal; canaryctl import of an Apple Health export (libxml2 as the package
#   depends on it); systemctl reload with a valid (applied) and an invalid configuration
#   (reload fails, service keeps running); systemctl restart (state kept); systemctl stop; upgrade
#   to the second package (configuration and state kept, service restarted); dpkg -r (state and
#   configuration kept); dpkg --purge (nothing left: files, directories, user, groups, unit links).
# Needs root. Prints each check; exits 1 at the first that fails, with the container's evidence.
#
# Usage: bash scripts/test-package.sh [--debug]   (--debug: package the debug build, faster to make)
# No pipefail: the checks pipe into grep -q, which may close the pipe before the writer is done.
set -eu
cd "$(dirname "$0")/.."
repo=$(pwd)
[ "$(id -u)" -eq 0 ] || { echo "test-package.sh: needs root (systemd-nspawn)" >&2; exit 1; }
build_flags=()
[ "${1:-}" = "--debug" ] && build_flags=(--debug)

step() { printf '==> %s\n' "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
fail() { printf 'test-package.sh: FAILED: %s\n' "$*" >&2; evidence; exit 1; }

# --- the packages ---------------------------------------------------------------------------------
version=$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' Sources/CanaryCore/Version.swift)
debs=$(mktemp -d /var/tmp/canary-debs.XXXXXX)
step "build the package (lintian runs in build-deb.sh)"
deb=$(bash scripts/build-deb.sh "${build_flags[@]}" --out "$debs/v1" | tail -1)
step "build the upgrade, version $version+upgrade1"
deb2=$(bash scripts/build-deb.sh "${build_flags[@]}" --no-lintian --version "$version+upgrade1" --out "$debs/v2" | tail -1)

# --- the container --------------------------------------------------------------------------------
root=$(bash scripts/nspawn-root.sh)
ct=$(mktemp -d /var/tmp/canary-ct.XXXXXX)
log=$ct.console
nspawn=
cleanup() {
  if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
    kill -TERM "$nspawn" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn" 2>/dev/null || true
  fi
  rm -rf "$ct" "$log" "$ct.before" "$debs"
}
trap cleanup EXIT
step "boot a copy of $root with systemd-nspawn --boot"
cp -a "$root/." "$ct/"
# Its own network namespace: the package needs no network, and in the host's the container could
# not bring up the loopback device of the service's PrivateNetwork= (a warning a real host never shows).
systemd-nspawn -q -D "$ct" --boot --register=no --keep-unit --private-network --machine="canary-test-$$" \
  --bind-ro="$debs:/debs" --bind-ro="$repo/config/sample:/sample" \
  --bind-ro="$repo/Tests/CanaryDaemonTests/Fixtures/apple-health:/apple-health" >"$log" 2>&1 &
nspawn=$!
leader=
for _ in $(seq 300); do
  leader=$(pgrep -P "$nspawn" -x systemd || true)
  [ -n "$leader" ] && break
  sleep 0.1
done
[ -n "$leader" ] || { cat "$log" >&2; echo "test-package.sh: the container did not boot" >&2; exit 1; }
# A command in the container (all its namespaces); never reading this script's standard input.
c() { nsenter -t "$leader" -a "$@" </dev/null; }
evidence() {
  echo "--- systemctl status" >&2; c systemctl --no-pager status canaryd.socket canaryd.service 2>&1 | tail -30 >&2 || true
  echo "--- journalctl -u canaryd" >&2; c journalctl --no-pager -u canaryd -n 40 2>&1 >&2 || true
}
# The manager answers once its private bus is up; then wait for the boot to finish.
state=
for _ in $(seq 600); do
  state=$(c systemctl is-system-running --wait 2>/dev/null || true)
  case "$state" in running|degraded|maintenance) break ;; esac
  sleep 0.1
done
case "$state" in running|degraded) ok "systemd is PID 1 in the container: $state" ;; *) fail "system state $state" ;; esac
[ "$(c cat /proc/1/comm)" = systemd ] || fail "PID 1 is not systemd"

# --- install ---------------------------------------------------------------------------------------
# Every path named like the package before it comes (tzdata has an Atlantic/Canary): after the purge
# there must be no other.
named_canary() {
  c find / -xdev \( -path /proc -o -path /sys -o -path /debs -o -path /sample -o -path /var/log/journal \
    -o -path /run/log/journal \) -prune -o -iname '*canary*' -print 2>/dev/null | LC_ALL=C sort
}
named_canary > "$ct.before"
step "dpkg -i $(basename "$deb")"
c dpkg -i "/debs/v1/$(basename "$deb")" || fail "dpkg -i"
expected="755 root root /usr/bin/canaryd
755 root root /usr/bin/canaryctl
644 root root /usr/lib/systemd/system/canaryd.service
644 root root /usr/lib/systemd/system/canaryd.socket
644 root root /usr/lib/systemd/system/canaryd-metrics.socket
644 root root /usr/lib/sysusers.d/canary.conf
644 root root /usr/lib/tmpfiles.d/canary.conf
644 root root /usr/lib/systemd/catalog/canary.catalog
640 root canary /etc/canary/canary.toml
750 root canary /etc/canary
700 root root /etc/canary/credentials
644 root root /usr/share/man/man1/canaryctl.1.gz
644 root root /usr/share/man/man5/canary.toml.5.gz
644 root root /usr/share/man/man8/canaryd.8.gz
644 root root /usr/share/doc/canary/README.md
644 root root /usr/share/doc/canary/canary.toml.example
644 root root /usr/share/doc/canary/changelog.gz
644 root root /usr/share/doc/canary/copyright
644 root root /usr/share/lintian/overrides/canary
700 canary canary /var/lib/canary
750 canary canary /var/log/canary"
while read -r mode owner group path; do
  got=$(c stat -c '%a %U %G' "$path" 2>/dev/null) || fail "$path missing"
  [ "$got" = "$mode $owner $group" ] || fail "$path is $got, expected $mode $owner $group"
done <<<"$expected"
# Nothing else: every file the package lists is one of the above (or a directory above them).
files() { while read -r p; do if [ -f "$ct$p" ]; then echo "$p"; fi; done | sort; }
listed=$(c dpkg -L canary | files)
want=$(awk '{print $4}' <<<"$expected" | files)
[ "$listed" = "$want" ] || fail "the package's files differ: $(diff <(echo "$want") <(echo "$listed") | tr '\n' ' ')"
ok "$(wc -l <<<"$listed") files and $(( $(wc -l <<<"$expected") - $(wc -l <<<"$listed") )) directories with the expected owner and mode"
c dpkg-query -W -f='${Conffiles}\n' canary | grep -q '/etc/canary/canary.toml' || fail "canary.toml is not a conffile"
c ldd /usr/bin/canaryd | grep -q swift && fail "canaryd links the Swift runtime dynamically"
c /usr/bin/canaryctl --version >/dev/null || fail "canaryctl does not run"
ok "canary.toml is a conffile; the binaries run without a Swift toolchain"
c getent passwd canary | grep -q ':/var/lib/canary:' || fail "no system user canary"
for g in canary canary-feed canary-admin; do c getent group "$g" >/dev/null || fail "no group $g"; done
c id -nG canary | grep -qw canary-admin || fail "canary is not in canary-admin"
ok "user canary, groups canary, canary-feed, canary-admin"
[ "$(c systemctl is-enabled canaryd.socket)" = enabled ] || fail "canaryd.socket not enabled"
[ "$(c systemctl is-active canaryd.socket)" = active ] || fail "canaryd.socket not started"
[ "$(c systemctl is-active canaryd.service || true)" = inactive ] || fail "canaryd.service runs before any connection"
[ "$(c stat -c '%a %U %G' /run/canary/ingest.sock)" = "660 root canary-feed" ] || fail "ingest.sock mode"
ok "canaryd.socket enabled and listening (root:canary-feed 0660); canaryd.service waits for a connection"
c journalctl --list-catalog 2>/dev/null | grep -q 'Canary deviation' || fail "catalog not compiled"
ok "journal catalog compiled"

# --- first connection, consent, sample data ---------------------------------------------------------
step "the first connection starts canaryd; without consent the rows are refused"
out=$(c canaryctl send /sample/sleep.csv 2>&1 || true)
grep -q 'no-consent' <<<"$out" || fail "rows without consent were not refused: $out"
[ "$(c systemctl is-active canaryd.service)" = active ] || fail "the connection did not start canaryd.service"
ok "socket activation started canaryd; $(grep -c 'ERR' <<<"$out") rows refused with no-consent"
for p in ProtectSystem=strict PrivateNetwork=yes NoNewPrivileges=yes User=canary RestrictAddressFamilies=AF_UNIX; do
  c systemctl show canaryd.service -p "${p%%=*}" | grep -qx "$p" || fail "the service does not run with $p"
done
exposure=$(c systemd-analyze security canaryd.service --no-pager 2>/dev/null | sed -n 's/.*Overall exposure level for canaryd.service: \([0-9.]*\).*/\1/p')
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }' || fail "exposure $exposure"
ok "sandboxed as shipped (systemd-analyze security: exposure $exposure)"

step "consent, then the sample data"
c canaryctl consent grant eli --scope monitor --scope alert:journal --ref pkg-test --by test >/dev/null || fail "consent grant"
c canaryctl consent list | grep -q 'eli' || fail "the grant is not listed"
# eli lives in Oslo; a valid reload applies it before the data goes in.
c sh -c 'printf "\n[subjects.eli]\ntimezone = \"Europe/Oslo\"\n" >> /etc/canary/canary.toml'
c systemctl reload canaryd || fail "a valid reload failed"
c journalctl -u canaryd --no-pager | grep -q 'configuration reloaded' || fail "the reload is not in the journal"
ok "consent granted; systemctl reload applied a valid configuration"
# The sample set has five people; only eli consented, so the others' rows are refused (exit status 1).
out=$(c canaryctl send /sample/sleep.csv /sample/activity.csv 2>&1 || true)
grep -q 'sleep.csv: accepted=[1-9]' <<<"$out" || fail "eli's sleep rows not accepted: $(tail -3 <<<"$out")"
refused=$(grep 'ERR' <<<"$out" | grep -vc 'no-consent' || true)
[ "$refused" = 0 ] || fail "rows refused for another reason than consent: $(grep ERR <<<"$out" | grep -v no-consent | head -3)"
# The alerts are in once their number stops changing (the acknowledgement came after they were committed).
alerts=0
previous=-1
for _ in $(seq 100); do
  alerts=$(c journalctl -u canaryd -o json --no-pager | grep -c '"CANARY_KIND"' || true)
  [ "$alerts" -gt 0 ] && [ "$alerts" = "$previous" ] && break
  previous=$alerts
  sleep 0.5
done
[ "$alerts" -gt 0 ] || fail "no alert in journalctl -u canaryd"
ok "$alerts alerts in journalctl -u canaryd"
explained=$(c journalctl -u canaryd -x --no-pager | grep -cE 'Subject: Canary (deviation|composite alert|data gap|resolved)' || true)
[ "$explained" -ge "$alerts" ] || fail "journalctl -x explains $explained of $alerts alerts from the catalog"
ok "journalctl -x explains them from the catalog"
# libdispatch sets its threads' nice values; the unit allows setpriority and, with LimitNICE=-4, the
# -4 its signal thread asks for. systemd can apply LimitNICE= only with CAP_SYS_RESOURCE: a real
# host's PID 1 has it; where the machine running this test lacks it, the container cannot either, and
# that one thread's request is refused with EACCES (13), logged once. Never EPERM (1): the seccomp
# filter refusing every thread, three lines at every start, is what this guards against.
pid=$(c systemctl show canaryd.service -p MainPID --value)
nice_limit=$(c awk '/Max nice priority/ {print $4}' "/proc/$pid/limits")
noise=$(c journalctl -u canaryd --no-pager | grep -E 'Failed to set thread priority|Failed to configure|errno=' || true)
if [ "$nice_limit" = 24 ]; then
  [ -z "$noise" ] || fail "noise in the service's journal: $noise"
  ok "no libdispatch noise at start (RLIMIT_NICE 24 from LimitNICE=-4)"
else
  others=$(grep -v 'Failed to set thread priority for worker thread: pqc=0x[0-9a-f]* errno=13$' <<<"$noise" || true)
  [ -z "$others" ] || fail "noise in the service's journal: $noise"
  [ "$(grep -c . <<<"$noise")" -le 1 ] || fail "more than one thread refused its priority: $noise"
  ok "no seccomp noise at start; this machine has no CAP_SYS_RESOURCE, so LimitNICE= could not apply (RLIMIT_NICE $nice_limit) and one thread's nice -4 was refused: $(grep -c . <<<"$noise") line"
fi

step "canaryctl import reads an Apple Health export (libxml2 from the package's dependencies)"
out=$(c canaryctl import --from apple-health --tz Europe/Oslo --subject eli /apple-health/export.xml 2>&1 || true)
[ "$(grep -c '^#canary format=' <<<"$out")" = 3 ] || fail "import: $(tail -3 <<<"$out")"
grep -q 'written: 2 sleep sessions, 1440 activity minutes, 3 samples' <<<"$out" || fail "import: $(tail -3 <<<"$out")"
ok "canaryctl import --from apple-health: 3 sections, the 3 bad records named"

step "systemctl reload with an invalid configuration"
c cp /etc/canary/canary.toml /root/config-before.toml
c sh -c 'printf "\n[subjects.bob]\ntimezone = \"Mars/Olympus\"\n" >> /etc/canary/canary.toml'
if c systemctl reload canaryd 2>/dev/null; then fail "reload of an invalid configuration succeeded"; fi
[ "$(c systemctl is-active canaryd.service)" = active ] || fail "canaryd stopped after a refused reload"
c journalctl -u canaryd --no-pager | grep -q 'reload refused' || fail "the refusal is not in the journal"
# Written over in place, so the file keeps its owner and mode (root:canary 0640).
c sh -c 'cat /root/config-before.toml > /etc/canary/canary.toml && rm /root/config-before.toml'
ok "refused (systemctl reload failed), canaryd kept running with the previous configuration"

step "systemctl restart keeps the state"
before=$(c canaryctl alerts list --limit 1000 | wc -l)
pid=$(c systemctl show canaryd.service -p MainPID --value)
c systemctl restart canaryd.service || fail "restart"
[ "$(c systemctl show canaryd.service -p MainPID --value)" != "$pid" ] || fail "not restarted"
c canaryctl consent list | grep -q eli || fail "consent lost on restart"
c canaryctl baseline eli >/dev/null || fail "eli's baselines lost on restart"
after=$(c canaryctl alerts list --limit 1000 | wc -l)
[ "$after" = "$before" ] || fail "alert history changed on restart: $before -> $after"
ok "consent, baselines and $after alert rows kept"

step "systemctl stop"
c systemctl stop canaryd.service || fail "stop"
[ "$(c systemctl is-active canaryd.service || true)" = inactive ] || fail "still running after stop"
ok "stopped (canaryd.socket still listens: $(c systemctl is-active canaryd.socket))"

# --- upgrade ----------------------------------------------------------------------------------------
step "upgrade to $version+upgrade1 while canaryd runs"
c systemctl start canaryd.service
pid=$(c systemctl show canaryd.service -p MainPID --value)
c dpkg -i --force-confold "/debs/v2/$(basename "$deb2")" || fail "dpkg -i (upgrade)"
[ "$(c dpkg-query -W -f='${Version}' canary)" = "$version+upgrade1" ] || fail "version not upgraded"
[ "$(c systemctl is-active canaryd.service)" = active ] || fail "canaryd not running after the upgrade"
[ "$(c systemctl show canaryd.service -p MainPID --value)" != "$pid" ] || fail "canaryd not restarted by the upgrade"
c grep -q 'Europe/Oslo' /etc/canary/canary.toml || fail "the configuration was replaced"
[ "$(c stat -c '%a %U %G' /etc/canary/canary.toml)" = "640 root canary" ] || fail "configuration mode after upgrade"
c canaryctl consent list | grep -q eli || fail "consent lost in the upgrade"
c canaryctl baseline eli >/dev/null || fail "state lost in the upgrade"
ok "upgraded, restarted; configuration, consent and state kept"

# --- remove and purge --------------------------------------------------------------------------------
step "dpkg -r keeps state and configuration"
c dpkg -r canary || fail "dpkg -r"
c test ! -e /usr/bin/canaryd || fail "canaryd still installed"
c test -f /etc/canary/canary.toml || fail "configuration removed by dpkg -r"
c test -f /var/lib/canary/state.sqlite || fail "state removed by dpkg -r"
c getent passwd canary >/dev/null || fail "user removed by dpkg -r"
[ "$(c systemctl is-active canaryd.service || true)" != active ] || fail "canaryd still running after dpkg -r"
ok "binaries and units gone; /etc/canary, /var/lib/canary and the user kept"

step "dpkg --purge leaves nothing"
c dpkg --purge canary || fail "dpkg --purge"
left=$(named_canary | comm -13 "$ct.before" -)
[ -z "$left" ] || fail "left after purge: $left"
for name in canary canary-feed canary-admin; do
  c getent group "$name" >/dev/null && fail "group $name left"
done
c getent passwd canary >/dev/null && fail "user canary left"
c dpkg -s canary >/dev/null 2>&1 && fail "dpkg still knows canary"
ok "no file, directory, unit link, user or group of canary left"
step "package test passed"
