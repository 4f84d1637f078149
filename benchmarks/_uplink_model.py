"""The device-day of uplink bytes, modelled from the packets the proxy measured, and
what-if estimates from the run's own samples (nothing here is product code)."""

from __future__ import annotations

import json
import math
import statistics
import zlib
from collections import Counter, defaultdict
from typing import Any

from _common import print_table
from _mqtt_proxy import CountingProxy

from edge_agent.config import MqttConfig, ReportingConfig
from protocols.contract.codec import PRESET_DICTIONARY_ID, preset_dictionary

TARGET_BYTES_PER_DAY = 1_000_000
SPEEDUP = 10  # the run's intervals are the defaults divided by this
_REPORTING = ReportingConfig()
DEFAULTS = {
    "report_interval_s": _REPORTING.report_interval_s,
    "upload_interval_s": _REPORTING.upload_interval_s,
    "status_interval_s": _REPORTING.status_interval_s,
}
DEFAULT_KEEPALIVE_S = MqttConfig().keepalive_s
SHIPPED_DICTIONARY = preset_dictionary(PRESET_DICTIONARY_ID)
DAY_S = 86_400
BATCHES_PER_DAY = DAY_S / DEFAULTS["upload_interval_s"]
STATUS_PER_DAY = DAY_S / DEFAULTS["status_interval_s"]
# TCP/IP estimate, not a measurement of a real link: IPv4 20 + TCP 20 + timestamps 12
HEADER_BYTES_PER_SEGMENT = 52
MSS = 1448  # a 1500-byte MTU with TCP timestamps


def telemetry_batches(proxy: CountingProxy) -> list[dict[str, Any]]:
    batches = []
    for packet in proxy.uplink.packets:
        if packet.kind != "PUBLISH up/telemetry":
            continue
        raw = packet.payload
        text = inflate(raw)
        samples = json.loads(text)["samples"]
        batches.append(
            {
                "size": packet.size,
                "payload": len(raw),
                "json": len(text),
                "samples": len(samples),
                "by_type": Counter(s["type"] for s in samples),
                "json_by_type": _json_by_type(samples),
            }
        )
    return batches


def _json_by_type(samples: list[dict[str, Any]]) -> Counter[str]:
    out: Counter[str] = Counter()
    for sample in samples:
        out[sample["type"]] += len(json.dumps(sample, separators=(",", ":"))) + 1
    return out


def full_batches(batches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Batches of the steady state: the first (sent at connect, partial) and any batch
    carrying far fewer samples than the typical one are left out."""
    if len(batches) <= 2:
        return batches
    typical = statistics.median(b["samples"] for b in batches[1:])
    return [b for b in batches[1:] if b["samples"] >= 0.75 * typical]


def segments_for(size: int) -> int:
    return max(1, math.ceil(size / MSS))


def model_day(run: dict[str, Any]) -> dict[str, Any]:
    proxy: CountingProxy = run["proxy"]
    batches = full_batches(telemetry_batches(proxy))
    if not batches:
        raise RuntimeError("no telemetry batch reached the broker: run longer")
    mean = {k: statistics.mean(b[k] for b in batches) for k in ("size", "payload", "json")}
    samples_per_batch = statistics.mean(b["samples"] for b in batches)
    # the default's batch: 6 samples per source, 3 sources
    scale = 18 / samples_per_batch
    up_sizes = defaultdict(list)
    for packet in proxy.uplink.packets:
        up_sizes[packet.kind].append(packet.size)
    down_sizes = defaultdict(list)
    for packet in proxy.downlink.packets:
        down_sizes[packet.kind].append(packet.size)
    status = max(up_sizes.get("PUBLISH up/status", [0]))
    uplink_cycles = len([p for p in proxy.uplink.packets if p.kind == "PUBLISH up/telemetry"])
    pings_seen = len(up_sizes.get("PINGREQ", []))
    pings_per_day = DAY_S / DEFAULT_KEEPALIVE_S  # paho pings when nothing went out for keepalive
    puback = 4
    telemetry_day = mean["size"] * scale * BATCHES_PER_DAY
    payload_day = mean["payload"] * scale * BATCHES_PER_DAY
    status_day = status * STATUS_PER_DAY
    ping_day = 2 * pings_per_day
    connect_day = sum(sum(up_sizes.get(k, [])) for k in ("CONNECT", "SUBSCRIBE"))
    uplink_day = telemetry_day + status_day + ping_day + connect_day
    status_payload = max(
        (len(p.payload) for p in proxy.uplink.packets if p.kind == "PUBLISH up/status"), default=0
    )
    mqtt_overhead_day = uplink_day - payload_day - status_payload * STATUS_PER_DAY
    downlink_day = (
        puback * (BATCHES_PER_DAY + STATUS_PER_DAY)
        + 2 * pings_per_day
        + sum(sum(down_sizes.get(k, [])) for k in ("CONNACK", "SUBACK"))
    )
    # TCP/IP headers, estimated. Data segments: each MQTT packet in its own segment(s).
    # The broker's PUBACK/PINGRESP carries its ACK of the device's data; the device answers
    # each downlink segment with a pure ACK; a publish of n segments gets (n - 1) // 2
    # further pure ACKs (ACK every second segment).
    batch_segments = segments_for(mean["size"] * scale)
    status_segments = segments_for(status)
    up_data = batch_segments * BATCHES_PER_DAY + status_segments * STATUS_PER_DAY + pings_per_day
    down_data = BATCHES_PER_DAY + STATUS_PER_DAY + pings_per_day
    down_pure_acks = (batch_segments - 1) // 2 * BATCHES_PER_DAY + (
        status_segments - 1
    ) // 2 * STATUS_PER_DAY
    tcp_up = HEADER_BYTES_PER_SEGMENT * (up_data + down_data)
    tcp_down = HEADER_BYTES_PER_SEGMENT * (down_data + down_pure_acks)
    return {
        "batches_used": len(batches),
        "samples_per_batch": samples_per_batch,
        "by_type": sum((b["by_type"] for b in batches), Counter()),
        "json_by_type": sum((b["json_by_type"] for b in batches), Counter()),
        "mean": mean,
        "status": status,
        "status_payload": status_payload,
        "pings_seen": pings_seen,
        "uplink_cycles": uplink_cycles,
        "telemetry_day": telemetry_day,
        "payload_day": payload_day,
        "status_day": status_day,
        "ping_day": ping_day,
        "connect_day": connect_day,
        "uplink_day": uplink_day,
        "mqtt_overhead_day": mqtt_overhead_day,
        "downlink_day": downlink_day,
        "tcp_up_day": tcp_up,
        "tcp_down_day": tcp_down,
        "up_sizes": up_sizes,
        "down_sizes": down_sizes,
    }


def measured_day(run: dict[str, Any]) -> tuple[float, float, float, float]:
    """The run's own totals scaled to a day (the run is SPEEDUP times faster), startup and
    all: a cross-check of the model."""
    proxy: CountingProxy = run["proxy"]
    factor = DAY_S / (run["seconds"] * SPEEDUP)
    segments = proxy.segments
    return (
        proxy.uplink.bytes_seen * factor,
        proxy.downlink.bytes_seen * factor,
        segments.get("agent_sent", 0) * factor,
        segments.get("agent_received", 0) * factor,
    )


def kb(value: float) -> str:
    return f"{value / 1000:,.1f}"


def captured_samples(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Every sample of the run in seq order, as it was on the wire (inflated)."""
    samples = []
    for packet in run["proxy"].uplink.packets:
        if packet.kind == "PUBLISH up/telemetry":
            raw = packet.payload
            samples += json.loads(inflate(raw))["samples"]
    return sorted(samples, key=lambda sample: sample["seq"])


def inflate(raw: bytes) -> bytes:
    """A payload as JSON bytes: plain, plain zlib, or zlib with the preset dictionary."""
    if raw[:1] != b"\x78":
        return raw
    if raw[1] & 0x20:  # FDICT: the dictionary's Adler-32 follows the header
        inflater = zlib.decompressobj(zdict=preset_dictionary(int.from_bytes(raw[2:6], "big")))
        return inflater.decompress(raw) + inflater.flush()
    return zlib.decompress(raw)


def deflate(samples: list[dict[str, Any]], zdict: bytes | None = SHIPPED_DICTIONARY) -> int:
    """Compressed size as the agent sends it (with the shipped dictionary by default)."""
    text = json.dumps({"samples": samples}, separators=(",", ":")).encode()
    if zdict is None:
        return len(zlib.compress(text, 9))
    compressor = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
    return len(compressor.compress(text) + compressor.flush())


def windows(samples: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [samples[i : i + size] for i in range(0, len(samples) - size + 1, size)]


def without_clear_flags(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Vehicle samples without the 0/1 fault and status flags that are 0, as the BMS sample
    already leaves out an empty ``protection``."""
    from protocols.canbus import CanCodec

    flags = {
        signal.name
        for info in CanCodec().messages
        for signal in info.signals
        if (signal.minimum, signal.maximum) == (0, 1)
    }
    out = []
    for sample in samples:
        if sample["type"] == "vehicle":
            signals = {k: v for k, v in sample["signals"].items() if not (k in flags and v == 0)}
            sample = {**sample, "signals": signals}
        out.append(sample)
    return out


def what_if(run: dict[str, Any], model: dict[str, Any]) -> None:
    """Telemetry bytes per day if the same samples were sent another way (estimates from
    this run's samples; nothing here is implemented in the product)."""
    samples = captured_samples(run)
    overhead = model["mean"]["size"] - model["mean"]["payload"]  # fixed header, topic, id
    rest_of_day = model["status_day"] + model["ping_day"] + model["connect_day"]
    rounds_per_day = DAY_S / DEFAULTS["report_interval_s"]
    rows: list[list[str]] = []

    def row(label: str, batches: list[list[dict[str, Any]]], sizes: list[int], status_day: float):
        if not batches:
            rows.append([label, "-", "-", "not enough samples in this run", "-", "-"])
            return
        samples_in = sum(len(b) for b in batches)
        per_sample = (sum(sizes) + overhead * len(sizes)) / samples_in
        telemetry_day = per_sample * rounds_per_day * 3
        total = telemetry_day + rest_of_day - model["status_day"] + status_day
        rows.append(
            [
                label,
                str(len(batches)),
                f"{statistics.mean(len(b) for b in batches):.0f}",
                kb(telemetry_day),
                kb(total),
                "yes" if total <= TARGET_BYTES_PER_DAY else "no",
            ]
        )

    status_day = model["status_day"]
    six = windows(samples, 18)
    row("as now: upload 60 s (18 samples), zlib 9 + dictionary v1", six,
        [deflate(b) for b in six], status_day)  # fmt: skip
    row("upload 60 s, plain zlib 9 (before the dictionary)", six,
        [deflate(b, None) for b in six], status_day)  # fmt: skip
    spaced = [s for i, s in enumerate(samples) if (i // 3) % SPEEDUP == 0]  # rounds 10 s apart
    spaced_six = windows(spaced, 18)
    row(
        "as now, samples really 10 s apart (every 10th round)",
        spaced_six,
        [deflate(b) for b in spaced_six],
        status_day,
    )
    for upload_s in (120, 300, 600):
        group = windows(samples, 3 * int(upload_s / DEFAULTS["report_interval_s"]))
        row(f"upload {upload_s} s, dictionary v1", group, [deflate(b) for b in group], status_day)
    lean = windows(without_clear_flags(samples), 18)
    row(
        "upload 60 s, vehicle flags that are 0 left out",
        lean,
        [deflate(b) for b in lean],
        status_day,
    )
    lean_300 = windows(without_clear_flags(samples), 90)
    row(
        "upload 300 s + 0-flags left out",
        lean_300,
        [deflate(b) for b in lean_300],
        status_day,
    )
    print_table(
        [
            "variant (estimate from this run's samples)",
            "batches",
            "samples/batch",
            "telemetry kB/day",
            "uplink MQTT kB/day",
            "<= 1 MB",
        ],
        rows,
    )
    print(
        "   the run's samples are 1 s apart where the defaults space them 10 s: consecutive"
        " samples differ less, so deflate does a little better here than on a real day; the"
        " 'every 10th round' row shows the size with the real spacing"
    )
