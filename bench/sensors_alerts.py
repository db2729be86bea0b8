#!/usr/bin/env python3
"""Alert latency for bench/sensors.sh, while the intake is under load.

  receive PORT OUT      the care system: answers every alert the hub posts
                        with 200 and writes "kind latency_ms" to OUT, where
                        latency is the time it arrived less the alert's due
                        time (the triggering uplink's time, or the deadline)
  setup URL SECRET N FIRST_DEV SPREAD_S
                        N homes with a kettle (dev EUIs 70b3d57d…, from
                        FIRST_DEV) are given 14 days of routine through the
                        ChirpStack integration at URL: the kettle first used
                        each day MARGIN_MIN before a deadline that falls today,
                        the deadlines on the whole minutes from LEAD_S on
                        within SPREAD_S seconds; and an uplink now, so each
                        home is heard today. The hub's scheduler must raise
                        `kettle_not_used` at each deadline.
  probe URL SECRET SECONDS FIRST_DEV COUNT
                        every 100 ms for SECONDS, one WS301 uplink with the
                        battery at 3% from the next of COUNT devices (dev
                        EUIs 70b3d57c…): each raises one `battery_low`.
  report OUT            p50, p99 and max latency per alert kind.

Standard library only; times are this machine's clock, as the hub's are.
"""
import base64
import datetime as dt
import json
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

# Seconds from the setup's start before the first deadline (its minute).
LEAD_S = 20

# The kettle homes' kettle_margin_min (set by bench/sensors.sh).
MARGIN_MIN = 5


def post(url, secret, eui, f_cnt, payload, at_ms):
    stamp = dt.datetime.fromtimestamp(at_ms / 1000, dt.timezone.utc)
    body = {
        "time": stamp.isoformat(timespec="milliseconds"),
        "deviceInfo": {"devEui": eui},
        "fCnt": f_cnt,
        "fPort": 85,
        "data": base64.b64encode(payload).decode(),
    }
    req = urllib.request.Request(
        url + "/integrations/chirpstack?event=up",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Wherry-Integration-Secret": secret},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        if r.status != 200:
            raise SystemExit(f"uplink refused: {r.status}")


def receive(port, out):
    lock = threading.Lock()
    sink = open(out, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            arrived = time.time() * 1000
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                sink.write(f"{body['kind']} {arrived - body['due_ms']:.1f} {body['raised_ms'] - body['due_ms']}\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the default 5 drops connections made at once

    Server(("127.0.0.1", int(port)), Handler).serve_forever()


def setup(url, secret, n, first, spread):
    n, first, spread = int(n), int(first), float(spread)
    now = time.time()
    # Routines are learnt in minutes, so deadlines fall on whole minutes:
    # the first whole minute LEAD_S on, and one a minute after it while
    # within SPREAD_S.
    first_deadline = (now + LEAD_S) // 60 * 60 + 60
    minutes = max(1, int(spread // 60) + 1)
    # The kettle's usual time and its deadline on the same local day.
    local_minute = lambda t: (lambda d: d.hour * 60 + d.minute)(dt.datetime.fromtimestamp(t, LONDON))
    while local_minute(first_deadline) <= MARGIN_MIN:
        first_deadline += 60
    for k in range(n):
        eui = f"70b3d57d{first + k:08x}"
        deadline = dt.datetime.fromtimestamp(first_deadline + 60 * (k % minutes), LONDON)
        first_use = deadline - dt.timedelta(minutes=MARGIN_MIN)
        for day in range(14, 0, -1):
            # Wall-clock arithmetic: the same local time on each day.
            at = (first_use - dt.timedelta(days=day)).timestamp()
            post(url, secret, eui, 14 - day, bytes([0x04, 0x80]) + (2000).to_bytes(4, "little"), at * 1000)
        post(url, secret, eui, 14, bytes([0x04, 0x80, 0, 0, 0, 0]), time.time() * 1000)
    took = time.time() - now
    if time.time() > first_deadline:
        print(f"setup took {took:.0f} s: deadlines passed before it ended", file=sys.stderr)
    last = first_deadline + 60 * (min(n, minutes) - 1)
    print(f"{n} kettle homes set up in {took:.0f} s; deadlines {first_deadline - now:.0f} to {last - now:.0f} s after the start", file=sys.stderr)
    print(int(last))


def probe(url, secret, seconds, first, count):
    end = time.time() + float(seconds)
    first, count = int(first), int(count)
    k = 0
    while time.time() < end and k < count:
        post(url, secret, f"70b3d57c{first + k:08x}", 1, bytes([0x01, 0x75, 3, 0x03, 0x00, 0x01]), time.time() * 1000)
        k += 1
        print(k, flush=True)
        time.sleep(0.1)


def report(out):
    by_kind = {}
    for line in open(out):
        kind, ms, raised = line.split()
        by_kind.setdefault(kind, []).append((float(ms), float(raised)))
    for kind, rows in sorted(by_kind.items()):
        if kind not in ("battery_low", "kettle_not_used"):
            continue  # raised by the setup's history, not measured
        line = f"{kind}: {len(rows)} alerts"
        for what, xs in (("received", [r[0] for r in rows]), ("raised", [r[1] for r in rows])):
            xs.sort()
            pick = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))]
            line += f"; {what} after p50 {pick(0.5):.0f} ms, p99 {pick(0.99):.0f} ms, max {xs[-1]:.0f} ms"
        print(line)


if __name__ == "__main__":
    {"receive": receive, "setup": setup, "probe": probe, "report": report}[sys.argv[1]](*sys.argv[2:])
