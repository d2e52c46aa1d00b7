#!/usr/bin/env python3
"""Alert latency probe for scripts/bench-latency.sh: row sent -> alert in the journal and -> webhook 2xx.

    latency_probe.py SOCKET REQUESTS_LOG PHASE_SECONDS INTERVAL [--load CMD...]

One subject (`probe`, raw metric `hr`, the bench/peer.toml rule: |z| > 4 on an EWMA) on its own
ingest connection: 40 ordinary rows to warm the baseline up, then one probe every INTERVAL seconds:
a spike (an alert the moment it is evaluated) followed by 60 ordinary rows, so the baseline settles
before the next spike. Each probe's send time is taken just before its bytes go out.

Two phases of PHASE_SECONDS each: idle (nothing else runs), then under load (the --load command,
e.g. several `canaryctl send` clients at full speed, runs meanwhile; it is started once and, if it
ends early, started again until the phase is over). For every probe the journal entry is found by
CANARY_PERIOD_START (journalctl -f -o json, matched on CANARY_SUBJECT=probe) and its latency is
journald's own receive time (__REALTIME_TIMESTAMP) minus the send time; the webhook latency is the
receiver's receipt time (REQUESTS_LOG, written by Tests/CanaryDaemonTests/Fixtures/webhook_receiver.py)
minus the send time. Both clocks are this machine's. Prints median, p99 and max per phase and
channel; exit 1 when a probe's alert is missing from either.
"""
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time


def main():
    sock_path, requests_log, phase_seconds, interval = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    load = sys.argv[sys.argv.index("--load") + 1:] if "--load" in sys.argv else []

    journal = {}
    watcher = subprocess.Popen(["journalctl", "-f", "-o", "json", "--lines=0", "CANARY_SUBJECT=probe"],
                               stdout=subprocess.PIPE, text=True)

    def read_journal():
        for line in watcher.stdout:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("CANARY_KIND") == "deviation":
                journal[int(float(e["CANARY_PERIOD_START"]))] = int(e["__REALTIME_TIMESTAMP"]) / 1e6

    threading.Thread(target=read_journal, daemon=True).start()
    time.sleep(0.5)   # journalctl is following before the first probe

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    replies = []
    threading.Thread(target=lambda: [replies.append(b) for b in iter(lambda: s.recv(65536), b"")], daemon=True).start()
    # Rows one a minute, starting far enough back that every probe planned stays in the past.
    probes_planned = int(2 * phase_seconds / interval) + 50
    t = int(time.time()) - (probes_planned * 61 + 100) * 60
    t -= t % 60

    def rows(values):
        nonlocal t
        out = []
        for v in values:
            out.append(f"{t},probe,hr,{v}\n")
            t += 60
        return "".join(out).encode()

    def ordinary(n):
        return [60 + (i * 7 % 11) - 5 for i in range(n)]

    s.sendall(b"timestamp,subject,metric,value\n" + rows(ordinary(40)))
    time.sleep(0.5)
    sent = {}   # spike instant -> (phase, send time)

    def probe_phase(phase):
        end = time.time() + phase_seconds
        nxt = time.time()
        while time.time() < end:
            spike_at = t
            payload = rows([1000] + ordinary(60))
            sent[spike_at] = (phase, time.time())
            s.sendall(payload)
            nxt += interval
            time.sleep(max(0.0, nxt - time.time()))

    probe_phase("idle")
    loaders = []
    if load:
        stop = threading.Event()

        def keep_loading():
            while not stop.is_set():
                p = subprocess.Popen(load, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                loaders.append(p)
                p.wait()

        th = threading.Thread(target=keep_loading, daemon=True)
        th.start()
        time.sleep(0.3)   # the load is flowing
        probe_phase("load")
        stop.set()
        th.join()
    s.shutdown(socket.SHUT_WR)
    deadline = time.time() + 30
    while time.time() < deadline and b"\nOK " not in b"\n" + b"".join(replies):
        time.sleep(0.05)
    # Every probe's alert is in (or the wait is over).
    deadline = time.time() + 20
    while time.time() < deadline and len(journal) < len(sent):
        time.sleep(0.1)
    time.sleep(0.5)
    watcher.terminate()
    final = [l for l in b"".join(replies).split(b"\n") if l.startswith(b"OK ")]
    if not final or not final[-1].endswith(b"rejected=0"):
        print(f"FAIL: probe rows were rejected: {b''.join(replies).decode(errors='replace').strip()[-300:]}")
        failed_rows = True

    webhook = {}
    emitted = {}
    if os.path.exists(requests_log):
        for line in open(requests_log):
            r = json.loads(line)
            body = r.get("body") or {}
            if r.get("status") == 200 and body.get("subject") == "probe" and body.get("kind") == "deviation":
                webhook[int(body["period_start"])] = r["received"]
                emitted[int(body["period_start"])] = datetime.datetime.fromisoformat(
                    body["emitted_at"].replace("Z", "+00:00")).timestamp()

    failed = "failed_rows" in locals()
    for phase in ("idle", "load"):
        probes = [(at, ts) for at, (ph, ts) in sent.items() if ph == phase]
        if not probes:
            continue
        # Where the time goes: to the engine's decision (emitted_at, in the webhook body), then on.
        for name, seen in (("journal", journal), ("webhook 2xx", webhook), ("decided", emitted)):
            missing = [at for at, _ in probes if at not in seen]
            lat = sorted((seen[at] - ts) * 1000 for at, ts in probes if at in seen)
            if missing:
                failed = True
                print(f"FAIL: {phase}: {len(missing)} of {len(probes)} probes have no {name} alert")
            if lat:
                p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
                print(f"{phase:5} row sent -> {name:12} n={len(lat):4}  median {statistics.median(lat):7.2f} ms"
                      f"  p99 {p99:7.2f} ms  max {lat[-1]:7.2f} ms")
    if load:
        print(f"load: {len(loaders)} run(s) of the load command during the load phase")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
