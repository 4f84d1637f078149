"""Typed payloads of the fleet MQTT contract v1, one dataclass per message.

``to_wire()`` gives the compact JSON-ready dict (optional fields left out when empty,
floats rounded to what the sensor can resolve); ``from_wire()`` builds the dataclass from
a dict that already passed schema validation (see ``codec.decode``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from protocols.contract.acks import AckCode, AckResult, known_code


def _f(default: Any = dataclasses.MISSING, *, digits: int | None = None, load: Any = None) -> Any:
    """A field with wire metadata: ``digits`` to round floats to, ``load`` to convert
    from the JSON value (list -> tuple or frozenset)."""
    return field(default=default, metadata={"digits": digits, "load": load})


def _dump(value: Any, digits: int | None) -> Any:
    if isinstance(value, float) and digits is not None:
        return round(value, digits)
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return [_dump(v, digits) for v in value]
    return value


def _empty(value: Any) -> bool:
    """Optional values left off the wire: None, False, and empty collections (not 0)."""
    if value is None or value is False:
        return True
    return isinstance(value, (tuple, frozenset, dict, list)) and not value


class WireModel:
    """Mixin: generic to_wire/from_wire driven by the fields' metadata."""

    __slots__ = ()
    _always: ClassVar[frozenset[str]] = frozenset()

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict for this payload."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name not in self._always and _empty(value):
                continue
            out[f.name] = _dump(value, f.metadata.get("digits"))
        return out

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Self:
        """Build from a schema-valid dict; keys the dataclass does not know are ignored."""
        kwargs = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name in data:
                load = f.metadata.get("load")
                kwargs[f.name] = load(data[f.name]) if load else data[f.name]
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class BmsSample(WireModel):
    """One BMS reading: pack, cells, temperatures, MOSFETs and protections."""

    TYPE: ClassVar[str] = "bms"
    _always: ClassVar[frozenset[str]] = frozenset(
        {"charge_mos", "discharge_mos", "cell_voltages_v", "temperatures_c"}
    )
    seq: int
    ts: int
    pack_voltage_v: float = _f(digits=2)
    current_a: float = _f(digits=2)
    soc_percent: float = _f(digits=1)
    cell_voltages_v: tuple[float, ...] = _f(digits=3, load=tuple)
    temperatures_c: tuple[float, ...] = _f(digits=1, load=tuple)
    charge_mos: bool = _f()
    discharge_mos: bool = _f()
    remaining_ah: float | None = _f(None, digits=2)
    full_capacity_ah: float | None = _f(None, digits=2)
    cycles: int | None = _f(None)
    protection: frozenset[str] = _f(frozenset(), load=frozenset)
    balancing: frozenset[int] = _f(frozenset(), load=frozenset)
    resent: bool = _f(False)

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE, **WireModel.to_wire(self)}


@dataclass(frozen=True, slots=True)
class PositionSample(WireModel):
    """One GNSS fix."""

    TYPE: ClassVar[str] = "position"
    _always: ClassVar[frozenset[str]] = frozenset({"valid"})
    seq: int
    ts: int
    lat: float = _f(digits=6)
    lon: float = _f(digits=6)
    valid: bool = _f()
    speed_kmh: float | None = _f(None, digits=1)
    course_deg: float | None = _f(None, digits=1)
    altitude_m: float | None = _f(None, digits=1)
    hdop: float | None = _f(None, digits=1)
    satellites: int | None = _f(None)
    resent: bool = _f(False)

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.TYPE, **WireModel.to_wire(self)}


@dataclass(frozen=True, slots=True)
class VehicleSample(WireModel):
    """The latest value of each decoded vehicle CAN signal at ``ts``."""

    TYPE: ClassVar[str] = "vehicle"
    _always: ClassVar[frozenset[str]] = frozenset({"signals"})
    seq: int
    ts: int
    signals: Mapping[str, float] = _f(load=dict)
    resent: bool = _f(False)

    def to_wire(self) -> dict[str, Any]:
        signals = {k: round(v, 3) if isinstance(v, float) else v for k, v in self.signals.items()}
        out = {"type": self.TYPE, "seq": self.seq, "ts": self.ts, "signals": signals}
        if self.resent:
            out["resent"] = True
        return out


Sample = BmsSample | PositionSample | VehicleSample
SAMPLE_TYPES: dict[str, type[BmsSample | PositionSample | VehicleSample]] = {
    cls.TYPE: cls for cls in (BmsSample, PositionSample, VehicleSample)
}


def sample_from_wire(data: Mapping[str, Any]) -> Sample:
    """One schema-valid sample dict to its dataclass, by its ``type``."""
    return SAMPLE_TYPES[data["type"]].from_wire(data)


@dataclass(frozen=True, slots=True)
class TelemetryBatch:
    """``up/telemetry``: samples in seq order."""

    SCHEMA: ClassVar[str] = "telemetry"
    samples: tuple[Sample, ...]

    def to_wire(self) -> dict[str, Any]:
        return {"samples": [s.to_wire() for s in self.samples]}

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> TelemetryBatch:
        return cls(tuple(sample_from_wire(s) for s in data["samples"]))


@dataclass(frozen=True, slots=True)
class Event(WireModel):
    """A device-side event (see the known types in schemas/event.schema.json)."""

    seq: int
    ts: int
    type: str
    severity: str | None = _f(None)
    detail: Mapping[str, Any] | None = _f(None, load=dict)
    resent: bool = _f(False)


@dataclass(frozen=True, slots=True)
class EventBatch:
    """``up/event``: events in seq order."""

    SCHEMA: ClassVar[str] = "event"
    events: tuple[Event, ...]

    def to_wire(self) -> dict[str, Any]:
        return {"events": [e.to_wire() for e in self.events]}

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> EventBatch:
        return cls(tuple(Event.from_wire(e) for e in data["events"]))


@dataclass(frozen=True, slots=True)
class Ack(WireModel):
    """``up/ack``: the result of one command, once per cmd_id."""

    SCHEMA: ClassVar[str] = "ack"
    cmd_id: str
    ts: int
    result: AckResult = field(metadata={"load": AckResult})
    reason: str | None = _f(None)
    observed: Mapping[str, Any] | None = _f(None, load=dict)
    # why, for programs (contract 1.1): an AckCode's value, or a newer one kept as it came
    code: str | None = _f(None)

    def known_code(self) -> AckCode | None:
        """The code as an AckCode; None without one or for a code this side does not know."""
        return known_code(self.code)


@dataclass(frozen=True, slots=True)
class Status(WireModel):
    """``up/status`` (retained); the MQTT will is ``Status(online=False)``."""

    SCHEMA: ClassVar[str] = "status"
    _always: ClassVar[frozenset[str]] = frozenset({"online"})
    online: bool
    ts: int | None = _f(None)
    agent_version: str | None = _f(None)
    boot_id: str | None = _f(None)
    uptime_s: float | None = _f(None, digits=1)
    outbox: Mapping[str, int] | None = _f(None, load=dict)
    sources: Mapping[str, Any] | None = _f(None, load=dict)
    counters: Mapping[str, int] | None = _f(None, load=dict)


@dataclass(frozen=True, slots=True)
class Command(WireModel):
    """``down/cmd``: one command; refused once ``expires_at`` has passed."""

    SCHEMA: ClassVar[str] = "cmd"
    _always: ClassVar[frozenset[str]] = frozenset({"args"})
    cmd_id: str
    type: str
    args: Mapping[str, Any]
    issued_at: int
    expires_at: int
    # {"kid", "mac"}: proof of origin, see protocols.contract.signing
    sig: Mapping[str, str] | None = _f(None, load=dict)

    def expired(self, now_ms: int) -> bool:
        """True when the command must not be executed any more."""
        return now_ms >= self.expires_at


@dataclass(frozen=True, slots=True)
class LeaseTerm(WireModel):
    """``down/lease`` (retained): the term the device enforces, also offline."""

    SCHEMA: ClassVar[str] = "lease"
    _always: ClassVar[frozenset[str]] = frozenset({"leased", "cutoff_when_not_leased"})
    version: int
    leased: bool
    cutoff_when_not_leased: bool
    issued_at: int
    leased_until: int | None = _f(None)
    grace_s: int = _f(0)
    lease_id: str | None = _f(None)
    # {"kid", "mac"}: proof of origin, see protocols.contract.signing
    sig: Mapping[str, str] | None = _f(None, load=dict)


@dataclass(frozen=True, slots=True)
class DeviceConfig(WireModel):
    """``down/config`` (retained): reporting intervals and thresholds."""

    SCHEMA: ClassVar[str] = "config"
    version: int
    report_interval_s: float | None = _f(None)
    upload_interval_s: float | None = _f(None)
    status_interval_s: float | None = _f(None)
    thresholds: Mapping[str, float] | None = _f(None, load=dict)
    # {"kid", "mac"}: proof of origin, see protocols.contract.signing
    sig: Mapping[str, str] | None = _f(None, load=dict)
