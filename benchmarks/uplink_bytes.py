"""Benchmark 4: uplink bytes per device-day at the default reporting settings.

A real agent (``voltrent-edge``, its own process) reads a simulated 16S pack, GNSS and CAN
(slcan on ptys, as in edge_resources) and publishes through a counting TCP proxy (asyncio,
loopback) to a throwaway Mosquitto. The proxy parses the MQTT stream in both directions,
so every byte is put down to a packet type and, for PUBLISH, to payload or overhead.

The defaults (edge_agent.config; at this writing report 10 s, upload 60 s, status 900 s,
keepalive 60 s) give a day of 1,440 telemetry batches of 6 samples per source. The run is
the same configuration ten times faster, so every batch has the default's shape; the day
is then modelled from measured packet sizes:
bytes per batch x batches/day + status x statuses/day + PINGREQ/PINGRESP + PUBACKs.
It runs twice: reporting.compress = true (the default) and false.

Target: <= 1 MB per device-day uplink.

    .venv/bin/python benchmarks/uplink_bytes.py          # ~2.5 min
    .venv/bin/python benchmarks/uplink_bytes.py --quick  # ~20 s, compressed run only
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from _common import (
    AgentProcess,
    SimulatedHardware,
    UplinkCounter,
    agent_document,
    base_parser,
    print_header,
    print_table,
    work_directory,
)
from _mqtt_proxy import CountingProxy
from _uplink_model import (
    BATCHES_PER_DAY,
    DAY_S,
    DEFAULT_KEEPALIVE_S,
    DEFAULTS,
    HEADER_BYTES_PER_SEGMENT,
    MSS,
    SPEEDUP,
    STATUS_PER_DAY,
    TARGET_BYTES_PER_DAY,
    kb,
    measured_day,
    model_day,
    what_if,
)

from launcher.broker import MosquittoBroker

DEVICE_ID = "bench-0001"


# -- one run -------------------------------------------------------------------------------
async def run_once(work: Path, compress: bool, seconds: float) -> dict[str, Any]:
    work.mkdir(parents=True)
    with MosquittoBroker(data_dir=work / "broker") as broker:
        proxy = CountingProxy(broker.port)
        await proxy.start()
        hardware = SimulatedHardware(work, DEVICE_ID)
        counter = UplinkCounter("127.0.0.1", broker.port, DEVICE_ID)
        reporting = {k: v / SPEEDUP for k, v in DEFAULTS.items()}
        reporting["compress"] = compress
        document = agent_document(
            DEVICE_ID,
            f"mqtt://127.0.0.1:{proxy.port}",
            work / "outbox.db",
            reporting=reporting,
            sources=hardware.sources(),
            keepalive_s=DEFAULT_KEEPALIVE_S // SPEEDUP,
        )
        agent = AgentProcess(work, document)
        tasks = [asyncio.create_task(hardware.run()), asyncio.create_task(counter.run())]
        try:
            await asyncio.wait_for(counter.ready.wait(), 10)
            agent.start()
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                agent.check_alive()
                await asyncio.sleep(0.5)
            proxy.read_segment_counters()
            ran_s = time.monotonic() - agent.started
        finally:
            agent.stop()
            await asyncio.sleep(0.3)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            hardware.close()
            await proxy.stop()
    return {"proxy": proxy, "counter": counter, "seconds": ran_s, "compress": compress}


def report(runs: list[dict[str, Any]]) -> None:
    models = [model_day(run) for run in runs]
    labels = ["compressed (default)" if r["compress"] else "not compressed" for r in runs]
    print("Packets the proxy saw (whole run, both directions)")
    rows = []
    for label, run in zip(labels, runs, strict=True):
        proxy = run["proxy"]
        for direction, stream in (("up", proxy.uplink), ("down", proxy.downlink)):
            kinds: dict[str, list[int]] = defaultdict(list)
            for packet in stream.packets:
                kinds[packet.kind].append(packet.size)
            for kind, sizes in sorted(kinds.items()):
                rows.append(
                    [
                        label,
                        direction,
                        kind,
                        len(sizes),
                        sum(sizes),
                        f"{statistics.mean(sizes):.0f}",
                    ]
                )
    print_table(["run", "dir", "packet", "count", "bytes", "mean bytes"], rows)
    print()
    print("One telemetry batch at the default shape (steady-state batches of the run)")
    rows = []
    for label, model in zip(labels, models, strict=True):
        mean = model["mean"]
        rows.append(
            [
                label,
                model["batches_used"],
                f"{model['samples_per_batch']:.1f}",
                ", ".join(f"{k} {v}" for k, v in sorted(model["by_type"].items())),
                f"{mean['json']:.0f}",
                f"{mean['payload']:.0f}",
                f"{mean['size'] - mean['payload']:.0f}",
                f"{mean['size']:.0f}",
                f"{mean['json'] / mean['payload']:.2f}",
            ]
        )
    print_table(
        [
            "run",
            "batches",
            "samples/batch",
            "samples by type",
            "JSON bytes",
            "payload bytes",
            "MQTT overhead bytes",
            "packet bytes",
            "compression ratio",
        ],
        rows,
    )
    json_by_type = models[0]["json_by_type"]
    counts = models[0]["by_type"]
    print(
        "   JSON bytes per sample by type: "
        + ", ".join(f"{k} {json_by_type[k] / counts[k]:.0f}" for k in sorted(counts))
    )
    print()
    defaults = (
        "report {report_interval_s:g} s, upload {upload_interval_s:g} s, "
        "status {status_interval_s:g} s, keepalive {keepalive:g} s"
    ).format(**DEFAULTS, keepalive=DEFAULT_KEEPALIVE_S)
    print(f"A device-day at the defaults ({defaults})")
    rows = []
    for label, model, run in zip(labels, models, runs, strict=True):
        up_measured, down_measured, segs_up, segs_down = measured_day(run)
        rows.append(
            [
                label,
                kb(model["telemetry_day"]),
                kb(model["payload_day"]),
                kb(model["status_day"]),
                kb(model["ping_day"] + model["connect_day"]),
                kb(model["mqtt_overhead_day"]),
                f"**{kb(model['uplink_day'])}**",
                kb(model["downlink_day"]),
                kb(model["tcp_up_day"]),
                kb(model["tcp_down_day"]),
                kb(model["uplink_day"] + model["tcp_up_day"]),
                f"{kb(up_measured)} / {kb(down_measured)}",
                f"{kb(segs_up * HEADER_BYTES_PER_SEGMENT)} /"
                f" {kb(segs_down * HEADER_BYTES_PER_SEGMENT)}",
            ]
        )
    print_table(
        [
            "run",
            "telemetry kB",
            "of which payload kB",
            "status kB",
            "ping + connect kB",
            "MQTT overhead kB",
            "uplink MQTT kB/day",
            "downlink MQTT kB/day",
            "est. TCP/IP hdrs up kB",
            "est. TCP/IP hdrs down kB",
            "uplink incl. est. TCP/IP kB",
            "cross-check: run totals x day, up / down kB",
            "cross-check: loopback segments x day x 52 B, up / down kB",
        ],
        rows,
    )
    print(
        f"   model: batches/day {BATCHES_PER_DAY:.0f} (each scaled to 18 samples), status/day"
        f" {STATUS_PER_DAY:.0f}, PINGREQ/day {DAY_S / DEFAULT_KEEPALIVE_S:.0f} (worst case: the"
        " 60 s upload cycle never beats the 60 s keepalive), one connection/day"
    )
    print(
        f"   TCP/IP: an ESTIMATE at {HEADER_BYTES_PER_SEGMENT} B/segment (IPv4 20 + TCP 20 +"
        f" timestamps 12), MSS {MSS}; each MQTT packet its own segment(s), the device sends a"
        " pure ACK per downlink segment, the broker's ACK rides on its PUBACK; no TLS (mqtts"
        " adds ~22-29 B per record and a few kB of handshake per connect)"
    )
    model = models[0]
    print()
    print("What would get there (compressed run)")
    what_if(runs[0], model)
    up = model["uplink_day"]
    verdict = "met" if up <= TARGET_BYTES_PER_DAY else "MISSED"
    print()
    print(
        f"   target <= 1 MB/day uplink: {up / 1e6:.2f} MB/day at MQTT level"
        f" ({(up + model['tcp_up_day']) / 1e6:.2f} MB with estimated TCP/IP headers) -> {verdict}"
        + (f", {up / TARGET_BYTES_PER_DAY:.1f}x the target" if up > TARGET_BYTES_PER_DAY else "")
    )


async def main_async(args: Any, work: Path) -> list[dict[str, Any]]:
    seconds = 15.0 if args.quick else args.seconds
    runs = [await run_once(work / "compressed", True, seconds)]
    if not (args.compressed_only or args.quick):
        # uncompressed size is linear in samples: a shorter run is enough
        runs.append(await run_once(work / "plain", False, max(20.0, seconds / 2.5)))
    return runs


def main() -> None:
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=100.0, help="length of the compressed run")
    parser.add_argument(
        "--compressed-only", action="store_true", help="skip the compress = false run"
    )
    args = parser.parse_args()
    print_header("uplink bytes per device-day, 16S pack + GNSS + CAN", args)
    pace = ", ".join(
        f"{k.removesuffix('_interval_s')} {v / SPEEDUP:g} s" for k, v in DEFAULTS.items()
    )
    print(
        f"   runs at {SPEEDUP}x the default pace: {pace}, keepalive "
        f"{DEFAULT_KEEPALIVE_S // SPEEDUP} s (same batch shape as the defaults)"
    )
    with work_directory(args.keep) as work:
        runs = asyncio.run(main_async(args, work))
    print()
    report(runs)


if __name__ == "__main__":
    main()
