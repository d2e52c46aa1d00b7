#!/usr/bin/env python3
"""A webhook receiver for Canary's tests: a real HTTP server on loopback that verifies every
request's Standard Webhooks signature with the shared secret, answers as a plan file says,
and appends one JSON line per request to a log.

    webhook_receiver.py PORT SECRET_FILE LOG PLAN [CERT KEY]

With CERT and KEY it serves HTTPS.

PLAN is re-read on every request: {"sequence": [[status, retry_after_or_null], ...], "default": 200,
"delay": seconds}. The sequence is consumed one entry per request, then `default` applies. A
retry_after string is sent as the `Retry-After` header verbatim, with any status (hostile values included).
"""
import base64, hashlib, hmac, json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, secret_file, log_path, plan_path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
secret = open(secret_file).read().strip()
key = base64.b64decode(secret[len("whsec_"):]) if secret.startswith("whsec_") else secret.encode()
lock = threading.Lock()
consumed = 0


def verify(msg_id, timestamp, body, header):
    """Standard Webhooks verification, as a receiver would copy it from Canary's README."""
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest("v1," + expected, s) for s in header.split(" "))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global consumed
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        msg_id = self.headers.get("webhook-id", "")
        ts = self.headers.get("webhook-timestamp", "")
        ok = verify(msg_id, ts, body, self.headers.get("webhook-signature", ""))
        fresh = ts.isdigit() and abs(time.time() - int(ts)) < 300
        with lock:
            try:
                plan = json.load(open(plan_path))
            except (OSError, ValueError):
                plan = {}
            seq = plan.get("sequence", [])
            status, retry_after = (seq[consumed] if consumed < len(seq) else (plan.get("default", 200), None))
            consumed += 1
            if not (ok and fresh):
                status, retry_after = 401, None
            delay = plan.get("delay", 0)
        if delay:
            time.sleep(delay)
        with lock, open(log_path, "a") as log:
            log.write(json.dumps({"id": msg_id, "timestamp": ts, "verified": ok, "fresh": fresh, "status": status,
                                  "received": time.time(), "extra": self.headers.get("X-Clinic", ""),
                                  "content_type": self.headers.get("Content-Type", ""),
                                  "body": json.loads(body) if ok else None}) + "\n")
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
if len(sys.argv) > 6:
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[5], sys.argv[6])
    server.socket = context.wrap_socket(server.socket, server_side=True)
print("listening", flush=True)
server.serve_forever()
