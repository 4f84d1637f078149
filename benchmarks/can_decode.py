"""Benchmark 2: CAN decode throughput on one core.

Part 1: ``protocols.canbus.CanCodec.decode`` in a tight loop over a realistic frame mix: the
bundled light-EV DBC's messages in proportion to their cycle times (MotorStatus every 20 ms,
BmsStatus every 50 ms, ...: 102 frames per second of bus), with varied signal values.
Part 2: the edge path a frame takes in the agent: python-can bus (virtual, or slcan on a
pty) -> Notifier -> ``CanSource._read_once`` (decode) -> ``Recorder.on_reading``, fed at
fixed rates by a sender thread whose own CPU time is measured and subtracted; and, as a
what-if, a batched slcan reader (see ``_can_paths.BatchedSlcanReader``).

Target: a full 500 kbit/s bus (about 4,000 frames/s) in under half a core, i.e.
>= 8,000 frames/s on one core.

    .venv/bin/python benchmarks/can_decode.py          # ~2.5 min
    .venv/bin/python benchmarks/can_decode.py --quick  # ~25 s
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter

from _can_paths import WIRES, Frame, source_path
from _common import base_parser, print_header, print_table, work_directory

from protocols.canbus import CanCodec, CanMessageInfo

TARGET_FRAMES_PER_S = 8000
FULL_BUS_FRAMES_PER_S = 4000
FAULT_BIT_PROBABILITY = 0.02  # fault and protection flags are almost always clear


def signal_value(rng: random.Random, info: CanMessageInfo, name: str) -> float:
    signal = next(s for s in info.signals if s.name == name)
    low, high = signal.minimum or 0.0, signal.maximum or 0.0
    if (low, high) == (0, 1):
        return float(rng.random() < FAULT_BIT_PROBABILITY)
    return rng.uniform(low, high)


def frame_mix(codec: CanCodec, seconds: int, seed: int = 1) -> list[Frame]:
    """``seconds`` of bus traffic: every message at its cycle time, in time order, each
    frame with fresh signal values."""
    rng = random.Random(seed)
    timed: list[tuple[int, int, Frame]] = []
    for order, info in enumerate(codec.messages):
        cycle = info.cycle_time_ms or 100
        for at_ms in range(0, seconds * 1000, cycle):
            values = {s.name: signal_value(rng, info, s.name) for s in info.signals}
            arbitration_id, data = codec.encode(info.name, values)
            timed.append((at_ms, order, (arbitration_id, data, info.is_extended)))
    timed.sort()
    return [frame for _, _, frame in timed]


def decode_rate(codec: CanCodec, frames: list[Frame], minimum_s: float) -> tuple[float, float]:
    """(frames per CPU second, frames per wall second) over at least ``minimum_s``."""
    decode = codec.decode
    count = 0
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    while time.process_time() - cpu_start < minimum_s:
        for arbitration_id, data, is_extended in frames:
            decode(arbitration_id, data, is_extended)
        count += len(frames)
    cpu = time.process_time() - cpu_start
    wall = time.perf_counter() - wall_start
    return count / cpu, count / wall


def cantools_rate(codec: CanCodec, frames: list[Frame], minimum_s: float) -> float:
    """The same frames through cantools alone (dict lookup + Message.decode), for scale."""
    by_id = {(m.frame_id, m.is_extended_frame): m for m in codec.database.messages}
    count, start = 0, time.process_time()
    while time.process_time() - start < minimum_s:
        for arbitration_id, data, is_extended in frames:
            by_id[(arbitration_id, is_extended)].decode(data, decode_choices=False)
        count += len(frames)
    return count / (time.process_time() - start)


def per_message(codec: CanCodec, frames: list[Frame], minimum_s: float) -> list[list[str]]:
    names = {(i.arbitration_id, i.is_extended): i.name for i in codec.messages}
    share = Counter(names[(a, e)] for a, _, e in frames)
    rows = []
    for (arbitration_id, is_extended), name in names.items():
        only = [f for f in frames if (f[0], f[2]) == (arbitration_id, is_extended)]
        rate, _ = decode_rate(codec, only, minimum_s)
        signals = len(codec.message_info(name).signals)
        rows.append(
            [
                name,
                f"0x{arbitration_id:03X}",
                signals,
                f"{100 * share[name] / len(frames):.1f}",
                f"{rate:,.0f}",
                f"{1e6 / rate:.1f}",
            ]
        )
    return rows


def main() -> None:
    parser = base_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of the codec loop")
    args = parser.parse_args()
    print_header("CAN decode: frames/s on one core", args)
    round_s = 0.5 if args.quick else 4.0
    rounds = 3 if args.quick else args.rounds
    source_s = 2.0 if args.quick else 8.0
    codec = CanCodec()
    frames = frame_mix(codec, seconds=30)
    mix = Counter(codec.decode(a, d, e).name for a, d, e in frames[:102])
    print(
        f"   frame mix: {len(frames)} distinct frames = 30 s of the bundled DBC's traffic"
        f" ({len(frames) // 30} frames/s): " + ", ".join(f"{n} {c}" for n, c in mix.items())
    )
    print()
    codec.decode(*frames[0])  # warm
    results = [decode_rate(codec, frames, round_s) for _ in range(rounds)]
    cpu_rates = [cpu for cpu, _ in results]
    median = statistics.median(cpu_rates)
    plain = cantools_rate(codec, frames, round_s)
    print("Part 1: CanCodec.decode in a loop (one thread)")
    print_table(
        ["measure", "frames/s (CPU time)", "us per frame", "full bus (4,000/s) costs"],
        [
            [
                "CanCodec.decode, median of rounds",
                f"{median:,.0f}",
                f"{1e6 / median:.1f}",
                f"{100 * FULL_BUS_FRAMES_PER_S / median:.1f} % of a core",
            ],
            [
                "CanCodec.decode, best round",
                f"{max(cpu_rates):,.0f}",
                f"{1e6 / max(cpu_rates):.1f}",
                f"{100 * FULL_BUS_FRAMES_PER_S / max(cpu_rates):.1f} % of a core",
            ],
            [
                "cantools Message.decode alone",
                f"{plain:,.0f}",
                f"{1e6 / plain:.1f}",
                f"{100 * FULL_BUS_FRAMES_PER_S / plain:.1f} % of a core",
            ],
        ],
    )
    print(f"   rounds (frames/s): {', '.join(f'{r:,.0f}' for r in cpu_rates)}")
    print()
    print("   by message (each alone):")
    print_table(
        ["message", "id", "signals", "share of mix %", "frames/s", "us per frame"],
        per_message(codec, frames, round_s / 2),
    )
    print()
    print(
        f"   target >= {TARGET_FRAMES_PER_S:,} frames/s on one core: median {median:,.0f}"
        f" -> {'met' if median >= TARGET_FRAMES_PER_S else 'MISSED'}"
    )
    print()
    rows = []
    with work_directory(args.keep) as work:
        plan = (
            (("virtual", (102,)), ("slcan", (102, 4000)), ("batched", (102, 4000)))
            if args.quick
            else (
                ("virtual", (0, 102, 4000, 8000)),
                ("slcan", (0, 102, 1000, 4000)),
                ("batched", (102, 4000)),
            )
        )
        for transport, rates in plan:
            for rate in rates:
                seconds = source_s if rate > 102 else 1.5 * source_s
                result = asyncio.run(source_path(frames, rate, seconds, work, transport))
                rows.append(
                    [
                        WIRES[transport],
                        f"{rate:,}" if rate else "0 (idle)",
                        f"{result['wall']:.1f}",
                        f"{result['sent']:,}",
                        f"{result['decoded']:,}",
                        f"{result['overruns']:,}",
                        f"{result['bytes_dropped']:,}",
                        f"{result['callback_errors']:,}"
                        + (
                            f" ({result['callback_error_types']})"
                            if result["callback_errors"]
                            else ""
                        ),
                        result["reopens"],
                        result["bad_records"],
                        f"{result['decoded_per_s']:,.0f}",
                        f"{result['receive_cpu_percent']:.1f}",
                        f"{result['frames_per_cpu_s']:,.0f}" if rate else "-",
                        f"{result['sender_cpu_percent']:.1f}",
                    ]
                )
    print("Part 2: bus -> Notifier -> CanSource._read_once (decode) -> Recorder.on_reading")
    print_table(
        [
            "wire",
            "offered frames/s",
            "s",
            "sent",
            "decoded",
            "inbox overruns",
            "pty bytes dropped",
            "errors escaping to asyncio",
            "bus reopens",
            "bad records",
            "decoded/s",
            "receive path CPU % of a core",
            "frames per CPU s",
            "sender thread CPU % (excluded)",
        ],
        rows,
    )
    print(
        "   receive path = this process's CPU minus the sender thread's: python-can's Notifier"
        " thread, the event loop, decode and Recorder.on_reading. slcan: 500 kbit/s, python-can's"
        " SlcanBus on a pty, default options (the agent's config cannot pass others). 'what-if"
        " batched reader': not product code, see BatchedSlcanReader. 'errors escaping to"
        " asyncio': exceptions in callbacks on the loop, which no source sees"
    )


if __name__ == "__main__":
    main()
