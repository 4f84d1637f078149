"""Ingest throughput: how many samples per second the worker stores, end to end.

A throwaway Mosquitto and a fresh database (on $DATABASE_URL's server, the machine's
PostgreSQL at 127.0.0.1:5432, or an embedded one). ``--devices`` registered devices each
publish ``--uploads`` telemetry messages shaped like a gateway's 60 s upload at a 10 s
report interval (6 BMS + 6 position + 6 vehicle samples, zlib with the preset dictionary).
The messages are published as fast as the broker takes them while 1 or more workers
(`voltrent cloud worker`, real processes) ingest; the clock stops when the last row is
committed. Prints messages/s, samples/s, and the workers' CPU per 1,000 samples.

``--rules both`` runs it twice on fresh databases, rules off (`VOLTRENT_RULES=off`) then on,
and prints what the rules cost. With rules on, ``--fences`` circle fences are spread over the
area the positions are in and every device is assigned 2 of them (one it stays inside, one it
is outside of), so every position is classified against two fences; ``--alarming`` percent of
the devices report one cell over its limit, so their alarms are open and their machines busy
on every batch, as on a fleet with some faulty packs.

    .venv/bin/python benchmarks/ingest_throughput.py [--workers 2] [--rules both] [--quick]
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    base_parser,
    fresh_database,
    print_header,
    print_table,
    work_directory,
)
from launcher.broker import MosquittoBroker
from protocols.contract import payloads
from protocols.contract.codec import encode

SAMPLES_PER_UPLOAD = 18


HEALTHY_CELLS = tuple(3.27 + i / 1e3 for i in range(16))
FAULTY_CELLS = (*HEALTHY_CELLS[:15], 3.70)  # one cell over an LFP pack's limit


def upload(seq0: int, t0: int, cells: tuple[float, ...] = HEALTHY_CELLS) -> bytes:
    samples: list[payloads.Sample] = []
    for n in range(6):
        ts = t0 + n * 10_000
        samples.append(
            payloads.BmsSample(
                seq=seq0 + 3 * n, ts=ts, pack_voltage_v=52.3 + n / 100, current_a=-8.2,
                soc_percent=71.5 - n / 10, cell_voltages_v=cells,
                temperatures_c=(24.5, 25.0, 26.1), charge_mos=True, discharge_mos=True,
                remaining_ah=28.6, full_capacity_ah=40.0, cycles=212,
            )
        )  # fmt: skip
        samples.append(
            payloads.PositionSample(
                seq=seq0 + 3 * n + 1, ts=ts, lat=22.53 + n / 1e4, lon=113.93, valid=True,
                speed_kmh=17.5, course_deg=84.0, altitude_m=12.0, hdop=0.9, satellites=14,
            )
        )  # fmt: skip
        samples.append(
            payloads.VehicleSample(
                seq=seq0 + 3 * n + 2, ts=ts,
                signals={"motor_rpm": 2450.0, "speed_kmh": 17.4, "controller_temp_c": 41.0,
                         "throttle_percent": 35.0, "brake": 0.0, "odometer_km": 1234.5},
            )
        )  # fmt: skip
    return encode(payloads.TelemetryBatch(tuple(samples)), compress=True)


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--uploads", type=int, default=10, help="messages per device")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rules", choices=("on", "off", "both"), default="on")
    parser.add_argument("--fences", type=int, default=10_000, help="with rules on")
    parser.add_argument("--alarming", type=float, default=2.0, help="percent of devices")
    args = parser.parse_args()
    if args.quick:
        args.uploads = 3
    print_header("ingest throughput", args)
    modes = ["off", "on"] if args.rules == "both" else [args.rules]
    results = {mode: run(args, rules=mode == "on") for mode in modes}
    if len(results) == 2:
        off, on = results["off"], results["on"]
        print()
        print_table(
            ["rules", "samples/s", "worker CPU per 1,000 samples"],
            [[mode, f"{r['rate']:,.0f}", f"{r['cpu_ms']:.1f} ms"] for mode, r in results.items()]
            + [["cost of rules", f"{(1 - on['rate'] / off['rate']) * 100:+.1f} % throughput",
                f"{(on['cpu_ms'] / off['cpu_ms'] - 1) * 100:+.1f} % CPU"]],
        )  # fmt: skip


def run(args, *, rules: bool) -> dict[str, float]:
    """One run on a fresh database and broker; samples/s and CPU ms per 1,000 samples."""
    print(f"\n== rules {'on' if rules else 'off'}")
    workers: list[subprocess.Popen[bytes]] = []
    with (
        fresh_database() as (url, version),
        work_directory(args.keep) as work,
        MosquittoBroker(data_dir=work / "broker") as broker,
    ):
        try:
            devices = [f"bench-{n:05d}" for n in range(args.devices)]
            with (
                psycopg.connect(url) as conn,
                conn.cursor() as cur,
                cur.copy("COPY device (id, model) FROM STDIN") as copy,
            ):
                for device_id in devices:
                    copy.write_row((device_id, "bench 16S LFP"))
            if rules:
                add_fences(url, devices, args.fences)
            faulty = set(devices[: int(len(devices) * args.alarming / 100)])
            t0 = int(time.time() * 1000) - args.uploads * 60_000
            messages = [
                (f"vr/v1/{d}/up/telemetry",
                 upload(1 + u * SAMPLES_PER_UPLOAD, t0 + u * 60_000,
                        FAULTY_CELLS if d in faulty else HEALTHY_CELLS))
                for u in range(args.uploads)
                for d in devices
            ]  # fmt: skip
            total_samples = len(messages) * SAMPLES_PER_UPLOAD
            print(f"   PostgreSQL {version}, Mosquitto at {broker.url}, {args.workers} worker(s)")
            size = sum(len(p) for _, p in messages) / len(messages)
            print(
                f"   {len(messages)} messages ({size:.0f} bytes each), {total_samples} samples,"
                f" {args.devices} devices"
            )
            group = f"bench{uuid.uuid4().hex[:6]}"
            for n in range(args.workers):
                env = {
                    **os.environ,
                    "DATABASE_URL": url,
                    "MQTT_URL": broker.url,
                    "VOLTRENT_WORKER_ID": f"bench-worker-{n}",
                    "VOLTRENT_WORKER_GROUP": group,
                    "VOLTRENT_RULES": "on" if rules else "off",
                }
                command = [sys.executable, "-m", "launcher.cli", "cloud", "worker", "--no-migrate"]
                log = (work / f"worker-{n}.log").open("wb")
                workers.append(
                    subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
                )
            for n in range(args.workers):
                while b"ingesting" not in (work / f"worker-{n}.log").read_bytes():
                    time.sleep(0.1)
            procs = [psutil.Process(w.pid) for w in workers]
            cpu0 = [p.cpu_times() for p in procs]
            published = threading.Event()
            publish_s: list[float] = []

            def publish() -> None:
                client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-pub")
                client.max_inflight_messages_set(1000)
                client.max_queued_messages_set(0)
                client.connect("127.0.0.1", broker.port)
                client.loop_start()
                start = time.monotonic()
                infos = [client.publish(t, p, qos=1) for t, p in messages]
                for info in infos:
                    info.wait_for_publish(120)
                publish_s.append(time.monotonic() - start)
                client.disconnect()
                client.loop_stop()
                published.set()

            start = time.monotonic()
            threading.Thread(target=publish, daemon=True).start()
            with psycopg.connect(url) as conn:
                while True:
                    stored = conn.execute(
                        "SELECT (SELECT count(*) FROM bms_sample) + (SELECT count(*) FROM position)"
                        " + (SELECT count(*) FROM vehicle_sample)"
                    ).fetchone()[0]
                    if stored >= total_samples:
                        break
                    if time.monotonic() - start > 900:
                        raise SystemExit(f"only {stored} of {total_samples} stored after 900 s")
                    time.sleep(0.05)
            elapsed = time.monotonic() - start
            published.wait(60)
            cpu = sum(
                (p.cpu_times().user + p.cpu_times().system) - (c.user + c.system)
                for p, c in zip(procs, cpu0, strict=True)
            )
            print()
            print_table(
                ["measure", "value"],
                [
                    ["publish all (broker PUBACKs)", f"{publish_s[0]:.1f} s"],
                    ["publish -> last row committed", f"{elapsed:.1f} s"],
                    ["messages/s stored", f"{len(messages) / elapsed:,.0f}"],
                    ["samples/s stored", f"{total_samples / elapsed:,.0f}"],
                    ["worker CPU", f"{cpu:.1f} s ({cpu / elapsed * 100:.0f} % of a core)"],
                    ["worker CPU per 1,000 samples", f"{cpu / total_samples * 1000 * 1000:.1f} ms"],
                    ["device-uploads/s (60 s each)", f"{len(messages) / elapsed:,.0f}"],
                    ["devices sustained at 1 upload/min", f"{len(messages) / elapsed * 60:,.0f}"],
                ],
            )
            if rules:
                with psycopg.connect(url) as conn:
                    counts = conn.execute(
                        "SELECT (SELECT count(*) FROM alarm), (SELECT count(*) FROM rule_state),"
                        " (SELECT count(*) FROM geofence_assignment)"
                    ).fetchone()
                print(f"   rules: {counts[0]} alarms, {counts[1]} machines away from rest,"
                      f" {counts[2]} fence assignments")  # fmt: skip
            return {"rate": total_samples / elapsed, "cpu_ms": cpu / total_samples * 1e6}
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(20)


def add_fences(url: str, devices: list[str], count: int) -> None:
    """``count`` 300 m circles on a grid over Shenzhen; each device gets the one around the
    positions it reports (it stays inside) and one far away (it is outside of)."""
    with psycopg.connect(url) as conn:
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY geofence (name, kind, circle_lat, circle_lon, circle_radius_m) FROM STDIN"
            ) as copy,
        ):
            copy.write_row(("home", "keep_in", 22.5303, 113.93, 300.0))
            n = 0
            while n < count - 1:
                lat, lon = 22.30 + (n // 100) * 0.004, 113.80 + (n % 100) * 0.004
                if abs(lat - 22.53) < 0.01 and abs(lon - 113.93) < 0.01:
                    count += 1  # not next to home: devices are outside of every grid fence
                else:
                    copy.write_row((f"grid {n}", "keep_out", lat, lon, 300.0))
                n += 1
        ids = [r[0] for r in conn.execute("SELECT id FROM geofence ORDER BY id")]
        with (
            conn.cursor() as cur,
            cur.copy("COPY geofence_assignment (geofence_id, device_id) FROM STDIN") as copy,
        ):
            for i, device_id in enumerate(devices):
                copy.write_row((ids[0], device_id))
                copy.write_row((ids[1 + i % (len(ids) - 1)], device_id))


if __name__ == "__main__":
    main()
