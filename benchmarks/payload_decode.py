"""Benchmark 10: what the nesting bound costs a payload's decode, and what a poison costs.

Every payload from outside is parsed through ``protocols.json_bounds.loads``, which refuses a
document nested deeper than 32 levels before the parser recurses into it (a 200 kB message
of nested arrays stopped the ingest worker for good). This prints, per payload, the time of
``codec.decode`` (inflate, bounded parse, schema check, dataclasses), of the parse alone with
and without the bound, and of the bound's own check, each the median of several rounds on
one core:

- the gateway's usual upload (18 samples, zlib with the preset dictionary, as in benchmark 5);
- a backlog batch of 200 BMS samples, uncompressed (the largest honest message);
- the probe's poison (100,000 ``[`` then as many ``]``), refused.

    .venv/bin/python benchmarks/payload_decode.py          # ~20 s
    .venv/bin/python benchmarks/payload_decode.py --quick  # ~3 s
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

from _common import base_parser, print_header, print_table
from ingest_throughput import upload

from protocols import json_bounds
from protocols.contract import payloads
from protocols.contract.codec import _inflate, decode, encode
from protocols.contract.topics import Channel
from protocols.errors import PayloadError


def backlog_batch() -> bytes:
    samples = tuple(
        payloads.BmsSample(
            seq=n, ts=1_796_000_000_000 + n * 10_000, pack_voltage_v=52.3, current_a=-8.2,
            soc_percent=71.5, cell_voltages_v=tuple(3.27 + i / 1e3 for i in range(16)),
            temperatures_c=(24.5, 25.0, 26.1), charge_mos=True, discharge_mos=True,
        )
        for n in range(1, 201)
    )  # fmt: skip
    return encode(payloads.TelemetryBatch(samples))


def per_call_us(action: Callable[[], object], rounds: int, seconds: float) -> float:
    """The median over ``rounds`` of the mean time per call, calling for ``seconds`` each."""
    means = []
    for _ in range(rounds):
        calls, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            action()
            calls += 1
        means.append(elapsed / calls * 1e6)
    return statistics.median(means)


def refused(payload: bytes) -> Callable[[], None]:
    def decode_poison() -> None:
        try:
            decode(Channel.TELEMETRY, payload)
        except PayloadError:
            return
        raise AssertionError("the poison was decoded")

    return decode_poison


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    args = parser.parse_args()
    print_header("Benchmark 10: payload decode with the nesting bound", args)
    rounds, seconds = (3, 0.2) if args.quick else (7, 1.0)
    gateway = upload(1, 1_796_000_000_000)
    cases = [
        ("gateway upload, 18 samples, zlib", gateway, _inflate(Channel.TELEMETRY, gateway)),
        ("backlog, 200 BMS samples, plain", backlog_batch(), backlog_batch()),
    ]
    rows = []
    for name, payload, text in cases:
        full = per_call_us(lambda p=payload: decode(Channel.TELEMETRY, p), rounds, seconds)
        plain = per_call_us(lambda t=text: json.loads(t), rounds, seconds)
        bounded = per_call_us(lambda t=text: json_bounds.loads(t), rounds, seconds)
        check = per_call_us(lambda t=text: json_bounds.check_depth(t), rounds, seconds)
        rows.append([
            name, f"{len(payload):,} B", f"{full:.1f}", f"{plain:.1f}", f"{bounded:.1f}",
            f"{check:.1f}", f"{check / full * 100:.1f} %",
        ])  # fmt: skip
    poison = b"[" * 100_000 + b"]" * 100_000
    refusal = per_call_us(refused(poison), rounds, seconds)
    rows.append(["poison, 100,000 deep, refused", f"{len(poison):,} B", f"{refusal:.1f}",
                 "RecursionError", "-", f"{refusal:.1f}", "-"])  # fmt: skip
    print_table(
        ["payload", "size", "decode us", "json.loads us", "bounded loads us", "bound check us",
         "check / decode"],
        rows,
    )  # fmt: skip


if __name__ == "__main__":
    main()
