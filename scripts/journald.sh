#!/usr/bin/env bash
# A real systemd-journald for tests, on machines where systemd is not PID 1 (containers, CI).
#
#   scripts/journald.sh start    make sure journald runs and stores native-protocol entries
#                                at the default paths (/run/systemd/journal/socket, .../stdout,
#                                /dev/log); starts one only if none answers. Idempotent.
#   scripts/journald.sh stop     stop the journald this script started (never another one);
#                                add --remove-sockets to also remove the socket files it made
#                                (left in place, they make clients get ECONNREFUSED, not ENOENT).
#   scripts/journald.sh status   print whether journald is up; exit 0 if up, 3 if not.
#   scripts/journald.sh restart  stop, then start.
#
# Must run as root. The instance it starts keeps entries in /run/log/journal (volatile) and has
# rate limiting off, via a drop-in it writes under /run/systemd/journald.conf.d/ (removed by stop).
# After writing entries, run `journalctl --sync` before reading them back with journalctl.
#
# Environment: CANARY_JOURNALD_TIMEOUT (seconds to wait for it to answer, default 10),
#              CANARY_JOURNALD_LOG (its output, default /tmp/canary-test-journald.log).
set -euo pipefail

PIDFILE=/run/canary-test-journald.pid
STATEFILE=/run/canary-test-journald.state
DROPIN_DIR=/run/systemd/journald.conf.d
DROPIN=$DROPIN_DIR/zz-canary-test.conf
SOCKDIR=/run/systemd/journal
SOCKET=$SOCKDIR/socket
LOG=${CANARY_JOURNALD_LOG:-/tmp/canary-test-journald.log}
TIMEOUT=${CANARY_JOURNALD_TIMEOUT:-10}

say() { echo "journald.sh: $*" >&2; }
die() { say "$*"; exit 1; }

find_binary() {
  local b
  for b in /lib/systemd/systemd-journald /usr/lib/systemd/systemd-journald; do
    [ -x "$b" ] && { echo "$b"; return 0; }
  done
  return 1
}

# A process with this pid that is not a zombie? (PID 1 of a container may never reap the
# journald we orphan, and kill -0 succeeds on a zombie.)
is_alive_pid() {
  local stat
  [[ "$1" =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }                                  # the state follows "(comm) "
  [ "${stat%% *}" != "Z" ]
}

# A live systemd-journald process with this pid?
is_journald_pid() {
  is_alive_pid "$1" || return 1
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "systemd-journal" ]   # comm is cut to 15 chars
}

# The pid from our pid file, if that process is still our journald.
our_pid() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  is_journald_pid "$pid" && echo "$pid"
}

# Pids of live system (namespace-less) journald instances, whoever started them.
system_journald_pids() {
  local d pid args
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    is_journald_pid "$pid" || continue
    # A namespace instance has an argument (journald NAMESPACE); skip those.
    args=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) || continue
    set -- $args
    [ $# -le 1 ] && echo "$pid"
  done
  return 0
}

# journald answers: its native socket exists and it replies to a synchronize request
# (varlink on /run/systemd/journal/io.systemd.journal; needs root). Writes nothing.
answers_sync() {
  [ -S "$SOCKET" ] || return 1
  timeout 3 journalctl --sync >/dev/null 2>&1
}

# Full round trip: a probe entry written over the native socket is readable with journalctl.
round_trip() {
  local id
  [ -S "$SOCKET" ] || return 1
  id=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  printf 'MESSAGE=canary journald.sh probe %s\nSYSLOG_IDENTIFIER=canary-journald-probe\nCANARY_JOURNALD_PROBE=%s\nPRIORITY=7\n' "$id" "$id" \
    | timeout 3 logger --journald >/dev/null 2>&1 || return 1
  timeout 3 journalctl --sync >/dev/null 2>&1 || true
  [ -n "$(timeout 3 journalctl -q --no-pager -o cat "CANARY_JOURNALD_PROBE=$id" 2>/dev/null)" ]
}

ensure_machine_id() {
  if [ ! -s /etc/machine-id ]; then
    say "/etc/machine-id is missing or empty; creating one"
    systemd-machine-id-setup >/dev/null 2>&1 \
      || { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; echo; } >/etc/machine-id
  fi
}

write_dropin() {
  mkdir -p "$DROPIN_DIR"
  cat >"$DROPIN" <<'EOF'
# Written by Canary's scripts/journald.sh for the test journald it starts; removed by its "stop".
[Journal]
Storage=volatile
RateLimitIntervalSec=0
RateLimitBurst=0
ReadKMsg=no
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
EOF
}

cmd_status() {
  local pid others
  pid=$(our_pid || true)
  others=$(system_journald_pids | tr '\n' ' ')
  others=${others% }
  if answers_sync; then
    if [ -n "$pid" ]; then
      echo "journald: up (pid $pid, started by scripts/journald.sh, log $LOG)"
    else
      echo "journald: up (pid ${others:-unknown}, not started by scripts/journald.sh)"
    fi
    return 0
  fi
  if [ -n "$others" ]; then
    echo "journald: not answering (process ${others} exists, socket $SOCKET $( [ -S "$SOCKET" ] && echo present || echo missing))"
  else
    echo "journald: down (socket $SOCKET $( [ -S "$SOCKET" ] && echo 'present but nobody listens' || echo missing))"
  fi
  return 3
}

cmd_start() {
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  local bin pid others deadline devlog=0
  bin=$(find_binary) || die "systemd-journald not found (install the systemd package)"

  # Already there? Then do nothing.
  if round_trip; then
    pid=$(our_pid || true)
    echo "journald: already up${pid:+ (pid $pid, started by scripts/journald.sh)}"
    return 0
  fi

  # Ours but not answering: replace it. Someone else's: never start a second one next to it
  # (a new journald re-binds the socket paths and takes them away from the old one).
  if pid=$(our_pid); then
    say "our journald (pid $pid) does not answer; restarting it"
    cmd_stop >/dev/null
  fi
  others=$(system_journald_pids | tr '\n' ' ')
  if [ -n "$others" ]; then
    die "a journald not started by this script (pid ${others% }) runs but does not answer; not starting another"
  fi

  # systemd is PID 1: let it start its own journald.
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    timeout 15 systemctl start systemd-journald.socket systemd-journald.service \
      || die "systemctl start systemd-journald failed"
    round_trip && { echo "journald: started by systemd"; return 0; }
    die "systemd's journald does not answer"
  fi

  ensure_machine_id
  write_dropin
  if [ ! -e /dev/log ] && [ ! -L /dev/log ]; then devlog=1; fi
  : >"$LOG"
  (
    cd /
    unset LISTEN_FDS LISTEN_PID LISTEN_FDNAMES NOTIFY_SOCKET WATCHDOG_PID WATCHDOG_USEC
    export SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=${SYSTEMD_LOG_LEVEL:-notice}
    # Close every inherited descriptor above 2, so that a caller reading our output through a
    # pipe (out=$(scripts/journald.sh start)) gets EOF instead of waiting for journald to exit.
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null || true
    done
    exec setsid "$bin" </dev/null >>"$LOG" 2>&1
  ) &
  pid=$!
  echo "$pid" >"$PIDFILE"
  echo "devlog_symlink=$devlog" >"$STATEFILE"

  deadline=$(( $(date +%s) + TIMEOUT ))
  while :; do
    if ! is_alive_pid "$pid"; then
      say "systemd-journald (pid $pid) exited during startup; its log ($LOG):"
      cat "$LOG" >&2 || true
      rm -f "$PIDFILE" "$STATEFILE" "$DROPIN"
      exit 1
    fi
    if is_journald_pid "$pid" && round_trip; then break; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      say "systemd-journald (pid $pid) did not store a probe entry within ${TIMEOUT}s; its log ($LOG):"
      cat "$LOG" >&2 || true
      cmd_stop >/dev/null 2>&1 || true
      is_alive_pid "$pid" && kill -KILL "$pid" 2>/dev/null
      rm -f "$PIDFILE" "$STATEFILE" "$DROPIN"
      exit 1
    fi
    sleep 0.1
  done

  # syslog(3) clients: /dev/log, as systemd-journald-dev-log.socket would link it.
  if [ "$devlog" = 1 ] && [ -S "$SOCKDIR/dev-log" ]; then
    ln -s "$SOCKDIR/dev-log" /dev/log 2>/dev/null || echo "devlog_symlink=0" >"$STATEFILE"
  fi
  echo "journald: started (pid $pid, volatile storage in /run/log/journal, log $LOG)"
}

cmd_stop() {
  local pid remove_sockets=0 i
  [ "${1:-}" = "--remove-sockets" ] && remove_sockets=1
  if ! pid=$(our_pid); then
    rm -f "$PIDFILE"
    echo "journald: none started by scripts/journald.sh is running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    is_journald_pid "$pid" || break
    sleep 0.1
  done
  if is_journald_pid "$pid"; then
    say "pid $pid ignored SIGTERM for 5s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  if grep -qx 'devlog_symlink=1' "$STATEFILE" 2>/dev/null \
     && [ "$(readlink /dev/log 2>/dev/null)" = "$SOCKDIR/dev-log" ]; then
    rm -f /dev/log
  fi
  if [ "$remove_sockets" = 1 ]; then
    rm -f "$SOCKDIR/socket" "$SOCKDIR/stdout" "$SOCKDIR/dev-log" "$SOCKDIR/io.systemd.journal"
  fi
  rm -f "$PIDFILE" "$STATEFILE" "$DROPIN"
  rmdir "$DROPIN_DIR" 2>/dev/null || true
  echo "journald: stopped (pid $pid)"
}

case "${1:-}" in
  start)   cmd_start ;;
  stop)    shift; cmd_stop "$@" ;;
  status)  cmd_status ;;
  restart) cmd_stop >/dev/null; cmd_start ;;
  *) echo "usage: $0 start | stop [--remove-sockets] | status | restart" >&2; exit 2 ;;
esac
