"""Benchmark 3: draining 24 hours of backlog after reconnecting.

86,400 samples (24 h offline at 1 Hz: BMS and GNSS samples taking turns, 16 cells, values
drifting as a ridden pack's would) are put in an outbox file the way the recorder stores
them (``edge_agent.recorder.stored_body``). Then the real daemon (``voltrent-edge``, its
own process, no sources) starts on that outbox with a throwaway Mosquitto, and a subscriber
here counts distinct seqs until all of them arrived.

Target: < 60 s from reconnect to the last sample at the subscriber.

    .venv/bin/python benchmarks/outbox_drain.py          # ~25 s
    .venv/bin/python benchmarks/outbox_drain.py --quick  # 14,400 samples (4 h), ~6 s
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from pathlib import Path
from typing import Any

import psutil
from _common import (
    AgentProcess,
    UplinkCounter,
    agent_document,
    base_parser,
    mib,
    print_header,
    print_table,
    work_directory,
)
from _diagnostics import profiled

from edge_agent.outbox import Outbox, RecordKind
from edge_agent.outbox_files import files_size
from edge_agent.recorder import stored_body
from launcher.broker import MosquittoBroker
from protocols.contract import BmsSample, PositionSample

DEVICE_ID = "bench-0001"
TARGET_S = 60.0
FILL_CHUNK = 1000  # records per put_many transaction while filling (setup, not measured)


class Pack:
    """Just enough of a ridden 16S LFP pack and a GNSS track for plausible samples."""

    def __init__(self, seed: int = 3) -> None:
        self.rng = random.Random(seed)
        self.soc = 92.0
        self.current = -8.0
        self.lat, self.lon, self.course = 22.5329, 113.9305, 45.0
        self.offsets = [self.rng.gauss(0, 0.004) for _ in range(16)]

    def bms(self, ts: int) -> BmsSample:
        rng = self.rng
        self.current = max(-40.0, min(5.0, self.current + rng.gauss(0, 1.5)))
        self.soc = max(5.0, self.soc + self.current / 30 / 3600 * 2 * 100)
        cell = 3.20 + 0.15 * self.soc / 100
        cells = tuple(round(cell + o + rng.gauss(0, 0.0015), 3) for o in self.offsets)
        return BmsSample(
            seq=0,
            ts=ts,
            pack_voltage_v=round(sum(cells), 2),
            current_a=round(self.current, 2),
            soc_percent=float(round(self.soc)),
            cell_voltages_v=cells,
            temperatures_c=(round(28 + rng.gauss(0, 0.3), 1), round(29 + rng.gauss(0, 0.3), 1)),
            charge_mos=True,
            discharge_mos=True,
            remaining_ah=round(30 * self.soc / 100, 2),
            full_capacity_ah=30.0,
            cycles=187,
        )

    def position(self, ts: int) -> PositionSample:
        rng = self.rng
        self.course = (self.course + rng.gauss(0, 8)) % 360
        speed = max(0.0, 18 + rng.gauss(0, 4))
        step_deg = speed / 3.6 * 2 / 111_320  # two seconds between fixes of one source
        self.lat += step_deg * math.cos(math.radians(self.course))
        self.lon += step_deg * math.sin(math.radians(self.course))
        return PositionSample(
            seq=0,
            ts=ts,
            lat=round(self.lat, 6),
            lon=round(self.lon, 6),
            valid=True,
            speed_kmh=round(speed, 1),
            course_deg=round(self.course, 1),
            altitude_m=round(12 + rng.gauss(0, 1), 1),
            hdop=round(0.8 + abs(rng.gauss(0, 0.2)), 1),
            satellites=rng.randint(9, 14),
        )


def fill(path: Path, count: int) -> dict[str, Any]:
    """The offline day: ``count`` samples, one per second, ending now."""
    pack = Pack()
    start_ms = int(time.time() * 1000) - count * 1000
    body_bytes = 0
    started = time.monotonic()
    with Outbox(path, max_records=500_000) as outbox:
        first = outbox.next_seq
        for chunk_start in range(0, count, FILL_CHUNK):
            items = []
            for index in range(chunk_start, min(count, chunk_start + FILL_CHUNK)):
                ts = start_ms + index * 1000
                sample = pack.bms(ts) if index % 2 == 0 else pack.position(ts)
                body = stored_body(sample)
                body_bytes += len(body)
                items.append((RecordKind.TELEMETRY, body, ts))
            outbox.put_many(items)
        size_open = files_size(path)
        wal_open = _wal_size(path)
        last = outbox.next_seq - 1
    return {
        "seqs": (first, last),
        "fill_s": time.monotonic() - started,
        "body_bytes": body_bytes,
        "size_open": size_open,
        "wal_open": wal_open,
        "size_closed": files_size(path),
    }


def _wal_size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


async def drain(work: Path, outbox_path: Path, count: int, args: Any) -> dict[str, Any]:
    reporting: dict[str, Any] = {"batch_size": args.batch_size}
    if args.no_compress:
        reporting["compress"] = False
    with MosquittoBroker(data_dir=work / "broker") as broker:
        counter = UplinkCounter("127.0.0.1", broker.port, DEVICE_ID)
        subscriber = asyncio.create_task(counter.run())
        agent = AgentProcess(
            work, agent_document(DEVICE_ID, broker.url, outbox_path, reporting=reporting)
        )
        result: dict[str, Any] = {}
        try:
            await asyncio.wait_for(counter.ready.wait(), 10)
            all_arrived = counter.wait_for_samples(count)
            agent.start(
                command=profiled(work / "agent.prof")(agent.config_path) if args.profile else None
            )
            process = psutil.Process(agent.pid)
            spawned = agent.started
            peak_rss = 0
            while not all_arrived.done():
                agent.check_alive()
                if time.monotonic() - spawned > args.timeout:
                    raise TimeoutError(
                        f"{len(counter.seqs)} of {count} samples after {args.timeout:.0f} s"
                    )
                with contextlib.suppress(psutil.Error):
                    peak_rss = max(peak_rss, process.memory_info().rss)
                await asyncio.wait({all_arrived}, timeout=0.1)
            done = all_arrived.result()
            times = process.cpu_times()
            result = {
                "connected_after_s": (counter.first_status_at or spawned) - spawned,
                "drain_s": done - (counter.first_status_at or spawned),
                "since_spawn_s": done - spawned,
                "first_to_last_s": done - (counter.first_telemetry_at or done),
                "agent_cpu_s": times.user + times.system,
                "agent_peak_rss": peak_rss,
                "counter": counter,
            }
            await asyncio.sleep(1.0)  # the last ack reaches the outbox
            result["size_drained_open"] = files_size(outbox_path)
            result["wal_drained_open"] = _wal_size(outbox_path)
        finally:
            agent.stop()
            subscriber.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await subscriber
        result["size_drained_closed"] = files_size(outbox_path)
        with Outbox(outbox_path) as outbox:
            result["left"] = len(outbox)
        return result


def main() -> None:
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=86_400, help="backlog size")
    parser.add_argument("--batch-size", type=int, default=200, help="reporting.batch_size")
    parser.add_argument("--no-compress", action="store_true", help="reporting.compress = false")
    parser.add_argument("--timeout", type=float, default=170.0, help="give up after this many s")
    parser.add_argument(
        "--profile", action="store_true", help="run the agent under cProfile (slower) and print it"
    )
    args = parser.parse_args()
    count = 14_400 if args.quick and args.samples == 86_400 else args.samples
    print_header(f"outbox drain: {count:,} buffered samples after reconnect", args)
    with work_directory(args.keep) as work:
        outbox_path = work / "outbox.db"
        filled = fill(outbox_path, count)
        print(
            f"   filled {count:,} samples (BMS 16S / GNSS alternating, mean stored body"
            f" {filled['body_bytes'] / count:.0f} B) in {filled['fill_s']:.1f} s with"
            f" put_many of {FILL_CHUNK}; seqs {filled['seqs'][0]}..{filled['seqs'][1]}"
        )
        result = asyncio.run(drain(work, outbox_path, count, args))
        if args.profile:
            import pstats

            print("   the agent under cProfile (times inflated), by own time:")
            pstats.Stats(str(work / "agent.prof")).sort_stats("tottime").print_stats(20)
    counter = result["counter"]
    messages = counter.messages["up/telemetry"]
    drain_s = result["drain_s"]
    print(
        f"   agent config: no sources, reporting.batch_size={args.batch_size},"
        f" compress={'false' if args.no_compress else 'true'} (default upload_interval_s 60:"
        " the backlog goes at connect)"
    )
    print()
    print_table(
        ["measure", "value"],
        [
            ["samples drained (distinct seqs at subscriber)", f"{len(counter.seqs):,}"],
            ["process start -> connected (status online)", f"{result['connected_after_s']:.2f} s"],
            ["connected -> last sample at subscriber (drain)", f"{drain_s:.2f} s"],
            ["process start -> last sample", f"{result['since_spawn_s']:.2f} s"],
            ["samples/s (drain)", f"{count / drain_s:,.0f}"],
            ["MQTT telemetry messages", f"{messages:,}"],
            ["samples per message", f"{count / max(messages, 1):.0f}"],
            [
                "telemetry payload bytes (as published)",
                f"{counter.payload_bytes['up/telemetry']:,}",
            ],
            ["payload bytes per sample", f"{counter.payload_bytes['up/telemetry'] / count:.1f}"],
            ["agent CPU time, start to drained", f"{result['agent_cpu_s']:.1f} s"],
            ["agent peak RSS while draining", f"{mib(result['agent_peak_rss'])} MiB"],
            [
                "outbox full, open (file + WAL)",
                f"{mib(filled['size_open'])} MiB (WAL {mib(filled['wal_open'])} MiB)",
            ],
            ["outbox full, closed (file + WAL)", f"{mib(filled['size_closed'])} MiB"],
            [
                "outbox drained, agent running (file + WAL)",
                f"{mib(result['size_drained_open'])} MiB"
                f" (WAL {mib(result['wal_drained_open'])} MiB)",
            ],
            [
                "outbox drained, agent stopped (file + WAL)",
                f"{mib(result['size_drained_closed'])} MiB",
            ],
            ["records left in outbox", f"{result['left']:,}"],
        ],
    )
    print()
    verdict = "met" if drain_s < TARGET_S else "MISSED"
    scaled = drain_s * 86_400 / count
    print(f"   target < {TARGET_S:.0f} s for 86,400 samples: {drain_s:.1f} s for {count:,}", end="")
    print(f" -> {verdict}" if count == 86_400 else f" (~{scaled:.0f} s scaled to 86,400)")


if __name__ == "__main__":
    main()
