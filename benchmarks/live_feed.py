"""Benchmark 11: the live feed (issue 15): how soon a committed position reaches an open
stream, and what each open console stream costs the API process.

A fresh database with N devices (default 10,000) under 10 operators, the API served by
waitress in a process of its own (as `voltrent cloud api` runs it), streams read over HTTP
by the platform's administrator (every device in its scope: each stream gets every change).

(a) Latency: one device's position is updated and committed, and the time from the commit's
return to the event carrying it arriving on the stream is taken, at rest and under load.
The client runs on the same machine over loopback, so this is the server's share plus one
local read; the browser's share is the page's own benchmark.

(b) CPU: every device updates every 10 s (N/10 updates/s, 1,000/s for 10,000 devices),
committed in batches of one transaction every 100 ms as the worker's writer does (one
UPDATE of device_state per batch), and the API process's CPU time (psutil) is taken over a
window with 0, 1, 5 and 20 streams open; the cost per console is what the streams add,
divided by their number.

    .venv/bin/python benchmarks/live_feed.py                     # ~2 min after the build
    .venv/bin/python benchmarks/live_feed.py --quick --devices 500   # the smoke run's size
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import psutil
import psycopg
from _common import base_parser, print_header, print_table
from _store import add_administrator, add_operator, drop_database, fresh_database

from cloud.identity.principal import issue
from launcher.broker import free_port

NAME = "voltrent_bench_live"
DEVICES = 10_000
BATCH_S = 0.1  # the load's commits: one transaction every 100 ms
SERVE = (
    "from cloud.server import serve; from cloud.config import CloudConfig;"
    "serve(CloudConfig.from_env())"
)
LOAD = """
UPDATE device_state s SET lat = v.lat, lon = v.lon, soc_percent = v.soc, speed_kmh = 12,
    position_time = now(), last_seen_at = now(), online = true
FROM unnest(%s::text[], %s::float8[], %s::float8[], %s::real[]) AS v(id, lat, lon, soc)
WHERE s.device_id = v.id
"""


def build(devices: int) -> tuple[str, str]:
    url = fresh_database(NAME)
    with psycopg.connect(url, autocommit=True) as conn:
        owners = [add_operator(conn, f"operator {i}") for i in range(10)]
        conn.execute(
            "INSERT INTO device (id, operator_id, kind, model)"
            " SELECT format('ev-%%s', lpad(i::text, 5, '0')), (%s::bigint[])[1 + i %% 10],"
            " 'vehicle', 'bench' FROM generate_series(0, %s - 1) i",
            (owners, devices),
        )
        conn.execute(
            "UPDATE device_state SET lat = 31.2 + random() / 10, lon = 121.4 + random() / 10,"
            " soc_percent = 80, online = true, last_seen_at = now()"
        )
        conn.execute("ANALYZE")
        account = add_administrator(conn, 1, "bench@bench.test")
        secret = issue(conn, account, "token", name="bench")[1]
    return url, secret


class Api:
    """The API in a process of its own."""

    def __init__(self, url: str) -> None:
        self.port = free_port()
        # room for every phase's streams at once: the server counts a stream the client has
        # closed until its next write fails, so a loaded machine can still hold the previous
        # phase's 5 when the next phase opens 20 (27 with the latency stream)
        env = {**os.environ, "DATABASE_URL": url, "VOLTRENT_API_PORT": str(self.port),
               "VOLTRENT_API_THREADS": "48", "VOLTRENT_API_MAX_STREAMS": "40"}  # fmt: skip
        self.process = subprocess.Popen([sys.executable, "-c", SERVE], env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/health", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the API did not start") from None
                time.sleep(0.1)
        self.ps = psutil.Process(self.process.pid)

    def cpu_s(self) -> float:
        times = self.ps.cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Stream:
    """One open map stream, read by a thread: bytes and events counted, and the arrival
    time of each marker (a latitude) the latency run waits for."""

    def __init__(self, port: int, secret: str, markers: dict[str, float] | None = None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.conn.request("GET", "/api/live/stream", headers={"Authorization": f"Bearer {secret}"})
        self.sock = self.conn.sock  # getresponse() may let go of it
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.read()[:300]
        self.response.readline()  # retry: the stream has joined the hub
        self.bytes = self.events = 0
        self.markers = markers
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self.response:
                self.bytes += len(line)
                if line.startswith(b"event: devices"):
                    self.events += 1
                elif self.markers and line.startswith(b"data: "):
                    now = time.perf_counter()
                    with self.lock:
                        for marker in [m for m in self.markers if m.encode() in line]:
                            self.arrived[marker] = now
                            del self.markers[marker]
        except (OSError, ValueError, http.client.HTTPException):
            pass

    def close(self) -> None:
        # shut down, not only closed: the reading thread's file still holds the socket
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()


class Load:
    """Every device updated every 10 s, in one transaction every BATCH_S."""

    def __init__(self, url: str, devices: int) -> None:
        self.url, self.ids = url, [f"ev-{i:05d}" for i in range(devices)]
        self.per_batch = max(1, round(devices / 10 * BATCH_S))
        self.updates = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            at, next_at = 0, time.monotonic()
            while not self.stop.is_set():
                ids = [self.ids[(at + k) % len(self.ids)] for k in range(self.per_batch)]
                at += self.per_batch
                lat = [31.2 + random.random() / 10 for _ in ids]
                lon = [121.4 + random.random() / 10 for _ in ids]
                soc = [random.uniform(20, 90) for _ in ids]
                conn.execute(LOAD, (ids, lat, lon, soc))
                self.updates += len(ids)
                next_at += BATCH_S
                self.stop.wait(max(0.0, next_at - time.monotonic()))

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def latency(api: Api, url: str, secret: str, samples: int) -> list[float]:
    """ms from each marker update's commit to its event on the stream."""
    markers: dict[str, float] = {}
    stream = Stream(api.port, secret, markers)
    found = []
    with psycopg.connect(url, autocommit=True) as conn:
        for n in range(samples):
            lat = 10 + n / 1000 + random.random() / 1e6
            marker = repr(lat)
            with stream.lock:
                markers[marker] = lat
            conn.execute("UPDATE device_state SET lat = %s WHERE device_id = 'ev-00000'", (lat,))
            committed = time.perf_counter()
            deadline = committed + 10
            while marker not in stream.arrived and time.perf_counter() < deadline:
                time.sleep(0.002)
            if marker in stream.arrived:
                found.append((stream.arrived[marker] - committed) * 1000)
            time.sleep(random.uniform(0.05, 0.3))  # not in step with the hub's batches
    stream.close()
    return found


def _quantiles(values: list[float]) -> str:
    if not values:
        return "none arrived"
    values = sorted(values)
    pick = [values[min(len(values) - 1, int(len(values) * q))] for q in (0.5, 0.95, 0.99)]
    return " / ".join(f"{v:.0f}" for v in pick)


def cpu(api: Api, secret: str, load: Load, window: float) -> list[list[object]]:
    """Rows of (b): the API's CPU with 0, 1, 5 and 20 streams open."""
    rows: list[list[object]] = []
    base = 0.0
    for count in (0, 1, 5, 20):
        streams = [Stream(api.port, secret) for _ in range(count)]
        time.sleep(1.0)  # joined and caught up
        before, updates, started = api.cpu_s(), load.updates, time.monotonic()
        sent = [(s.bytes, s.events) for s in streams]
        time.sleep(window)
        spent, took = api.cpu_s() - before, time.monotonic() - started
        core = spent / took * 100
        rate = (load.updates - updates) / took
        if count == 0:
            base = core
            rows.append([0, f"{rate:.0f}", f"{core:.1f}", "", "", ""])
            continue
        got = [(s.bytes - b, s.events - e) for s, (b, e) in zip(streams, sent, strict=True)]
        kib = sum(b for b, _ in got) / count / took / 1024
        events = sum(e for _, e in got) / count / took
        per = (core - base) / count
        rows.append([count, f"{rate:.0f}", f"{core:.1f}", f"{per:.2f}", f"{events:.1f}",
                     f"{kib:.0f}"])  # fmt: skip
        for s in streams:
            s.close()
    return rows


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=DEVICES, help="each updating every 10 s")
    args = parser.parse_args()
    print_header("Live feed: commit-to-stream latency and CPU per console stream", args)
    samples, window = (30, 4.0) if args.quick else (200, 20.0)
    url, secret = build(args.devices)
    api = Api(url)
    try:
        rows = [["at rest", _quantiles(latency(api, url, secret, samples))]]
        load = Load(url, args.devices)
        under_load = _quantiles(latency(api, url, secret, samples))
        rows.append([f"{args.devices // 10:,} updates/s", under_load])
        print(f"   (a) {samples} position updates, ms from commit to event: p50 / p95 / p99")
        print_table(["load", "p50 / p95 / p99 ms"], rows)
        cpu_rows = cpu(api, secret, load, window)
        load.close()
        print(f"   (b) {args.devices:,} devices, each updated every 10 s; {window:.0f} s windows")
        print_table(["streams", "updates/s", "API CPU % of a core", "per stream %",
                     "events/s per stream", "KiB/s per stream"], cpu_rows)  # fmt: skip
    finally:
        api.stop()
    if not args.keep:
        drop_database(NAME)


if __name__ == "__main__":
    main()
