"""From one MQTT message to the rows it becomes, or the reason it cannot be stored.

Pure functions, no I/O: the writer decides about devices and the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from psycopg.types.json import Jsonb

from protocols.contract import payloads
from protocols.contract.codec import Message, decode
from protocols.contract.topics import Channel, Topic
from protocols.errors import PayloadError

log = logging.getLogger(__name__)

DEAD_LETTER_PAYLOAD_BYTES = 64 * 1024


# The rows of the four time-series tables, fields in the tables' column order: the writer
# COPYs them as they are, the rules read them by name.


class BmsRow(NamedTuple):
    """One ``bms_sample`` row."""

    device_id: str
    time: datetime
    seq: int
    received_at: datetime
    pack_voltage_v: float
    current_a: float
    soc_percent: float
    cell_voltages_v: list[float]
    temperatures_c: list[float]
    charge_mos: bool
    discharge_mos: bool
    remaining_ah: float | None
    full_capacity_ah: float | None
    cycles: int | None
    protection: list[str]
    balancing: list[int]
    resent: bool


class PositionRow(NamedTuple):
    """One ``position`` row."""

    device_id: str
    time: datetime
    seq: int
    received_at: datetime
    lat: float
    lon: float
    valid: bool
    speed_kmh: float | None
    course_deg: float | None
    altitude_m: float | None
    hdop: float | None
    satellites: int | None
    resent: bool


class VehicleRow(NamedTuple):
    """One ``vehicle_sample`` row."""

    device_id: str
    time: datetime
    seq: int
    received_at: datetime
    signals: Jsonb
    resent: bool


class EventRow(NamedTuple):
    """One ``device_event`` row."""

    device_id: str
    time: datetime
    seq: int
    received_at: datetime
    type: str
    severity: str
    detail: Jsonb | None
    resent: bool


BMS_COLUMNS = BmsRow._fields
POSITION_COLUMNS = PositionRow._fields
VEHICLE_COLUMNS = VehicleRow._fields
EVENT_COLUMNS = EventRow._fields


@dataclass
class Parsed:
    """One message, decoded; ``reason`` is set when it must go to dead letters."""

    topic: str
    payload: bytes
    received_at: datetime
    device_id: str | None = None
    channel: Channel | None = None
    message: Message | None = None
    reason: str | None = None


def parse(topic: str, payload: bytes, received_at: datetime) -> Parsed:
    """Check the topic and decode the payload against its schema."""
    parsed = Parsed(topic, payload, received_at)
    try:
        where = Topic.parse(topic)
    except PayloadError as err:
        parsed.reason = str(err)
        return parsed
    parsed.device_id, parsed.channel = where.device_id, where.channel
    if not where.channel.uplink:
        parsed.reason = f"topic {topic!r}: {where.channel.value} is sent by the cloud, not ingested"
        return parsed
    try:
        parsed.message = decode(where.channel, payload)
    except PayloadError as err:
        parsed.reason = str(err)
    except Exception as err:  # a defect of ours this payload found: it must not stop ingest
        log.exception("decoding a message on %s failed", topic)
        parsed.reason = defect_reason("decoding", err)
    return parsed


def defect_reason(stage: str, err: BaseException) -> str:
    """The dead letter's reason for a message that made our own code fail at ``stage``."""
    return f"{stage} this message failed in the cloud ({type(err).__name__}: {err})"[:1000]


def device_time(ts_ms: int) -> datetime:
    """Wire time (Unix epoch ms, UTC) as an aware datetime."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC)


@dataclass
class Rows:
    """Everything a batch of good messages adds to the store."""

    bms: list[BmsRow] = field(default_factory=list)
    positions: list[PositionRow] = field(default_factory=list)
    vehicle: list[VehicleRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    acks: list[tuple[Any, ...]] = field(default_factory=list)
    # newest sample per device and kind, for device_state
    latest_bms: dict[str, payloads.BmsSample] = field(default_factory=dict)
    latest_position: dict[str, payloads.PositionSample] = field(default_factory=dict)
    latest_vehicle: dict[str, payloads.VehicleSample] = field(default_factory=dict)
    # per device: (newest receive time, highest seq)
    seen: dict[str, tuple[datetime, int | None]] = field(default_factory=dict)
    statuses: list[tuple[str, datetime, payloads.Status]] = field(default_factory=list)
    rejected: list[tuple[Parsed, str]] = field(default_factory=list)  # partly stored messages

    @property
    def sample_count(self) -> int:
        return len(self.bms) + len(self.positions) + len(self.vehicle)


@dataclass
class Stored:
    """What one batch really added to the store (a redelivered message adds nothing), with
    each device's model: what the rules evaluate."""

    bms: list[BmsRow] = field(default_factory=list)
    positions: list[PositionRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)  # device_id -> device.model


class TimeWindow:
    """Which device times are stored: not past retention, not too far ahead of receipt."""

    def __init__(self, oldest: datetime, max_ahead: timedelta) -> None:
        self.oldest = oldest
        self.max_ahead = max_ahead

    def accepts(self, time: datetime, received_at: datetime) -> bool:
        return self.oldest <= time <= received_at + self.max_ahead

    def describe(self, time: datetime, received_at: datetime) -> str:
        if time < self.oldest:
            return f"{time:%Y-%m-%dT%H:%M:%SZ} is older than retention ({self.oldest:%Y-%m-%d})"
        return (
            f"{time:%Y-%m-%dT%H:%M:%SZ} is more than {self.max_ahead} ahead of its receipt"
            f" ({received_at:%Y-%m-%dT%H:%M:%SZ}); is the device clock wrong?"
        )


def collect(messages: list[Parsed], window: TimeWindow) -> Rows:
    """The rows of good messages from registered devices (the caller filtered them)."""
    rows = Rows()
    for parsed in messages:
        device_id, received, message = parsed.device_id, parsed.received_at, parsed.message
        assert device_id is not None and message is not None
        top_seq: int | None = None
        if isinstance(message, payloads.TelemetryBatch):
            refused = []
            for sample in message.samples:
                time = device_time(sample.ts)
                if not window.accepts(time, received):
                    refused.append(window.describe(time, received))
                    continue
                top_seq = sample.seq if top_seq is None else max(top_seq, sample.seq)
                _add_sample(rows, device_id, time, received, sample)
            if refused:
                rows.rejected.append(
                    (parsed, f"{len(refused)} of {len(message.samples)} samples not stored:"
                             f" sample time {refused[0]}")
                )  # fmt: skip
        elif isinstance(message, payloads.EventBatch):
            refused = []
            for event in message.events:
                time = device_time(event.ts)
                if not window.accepts(time, received):
                    refused.append(window.describe(time, received))
                    continue
                top_seq = event.seq if top_seq is None else max(top_seq, event.seq)
                rows.events.append(
                    EventRow(device_id, time, event.seq, received, event.type, event.severity,
                     Jsonb(dict(event.detail)) if event.detail is not None else None, event.resent)
                )  # fmt: skip
            if refused:
                rows.rejected.append(
                    (parsed, f"{len(refused)} of {len(message.events)} events not stored:"
                             f" event time {refused[0]}")
                )  # fmt: skip
        elif isinstance(message, payloads.Ack):
            rows.acks.append(
                (device_id, message.cmd_id, device_time(message.ts), received, message.result,
                 message.reason, Jsonb(dict(message.observed)) if message.observed else None)
            )  # fmt: skip
        elif isinstance(message, payloads.Status):
            rows.statuses.append((device_id, received, message))
        seen = rows.seen.get(device_id)
        if seen is None:
            rows.seen[device_id] = (received, top_seq)
        else:
            seqs = [s for s in (seen[1], top_seq) if s is not None]
            rows.seen[device_id] = (max(seen[0], received), max(seqs) if seqs else None)
    return rows


def _add_sample(
    rows: Rows, device_id: str, time: datetime, received: datetime, sample: payloads.Sample
) -> None:
    if isinstance(sample, payloads.BmsSample):
        rows.bms.append(
            BmsRow(device_id, time, sample.seq, received, sample.pack_voltage_v, sample.current_a,
             sample.soc_percent, list(sample.cell_voltages_v), list(sample.temperatures_c),
             sample.charge_mos, sample.discharge_mos, sample.remaining_ah,
             sample.full_capacity_ah, sample.cycles, sorted(sample.protection),
             sorted(sample.balancing), sample.resent)
        )  # fmt: skip
        _keep_latest(rows.latest_bms, device_id, sample)
    elif isinstance(sample, payloads.PositionSample):
        rows.positions.append(
            PositionRow(device_id, time, sample.seq, received, sample.lat, sample.lon, sample.valid,
             sample.speed_kmh, sample.course_deg, sample.altitude_m, sample.hdop,
             sample.satellites, sample.resent)
        )  # fmt: skip
        if sample.valid:
            _keep_latest(rows.latest_position, device_id, sample)
    else:
        rows.vehicle.append(
            VehicleRow(device_id, time, sample.seq, received, Jsonb(dict(sample.signals)),
                       sample.resent)
        )  # fmt: skip
        _keep_latest(rows.latest_vehicle, device_id, sample)


def _keep_latest(latest: dict[str, Any], device_id: str, sample: Any) -> None:
    held = latest.get(device_id)
    if held is None or (sample.ts, sample.seq) > (held.ts, held.seq):
        latest[device_id] = sample


def dead_letter_row(parsed: Parsed, reason: str) -> tuple[Any, ...]:
    """(received_at, topic, device_id, reason, payload, payload_bytes), payload truncated."""
    return (
        parsed.received_at,
        parsed.topic,
        parsed.device_id,
        reason,
        parsed.payload[:DEAD_LETTER_PAYLOAD_BYTES],
        len(parsed.payload),
    )
