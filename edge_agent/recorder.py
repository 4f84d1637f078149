"""From readings to records: the latest state of every source, sampled into the outbox.

Sources deliver readings as fast as they come (BMS and GNSS at 1 Hz, CAN at 100 frames/s);
the recorder keeps the latest of each and, every report interval, puts one sample per
source that has something new into the outbox. Events (a BMS protection trip, a source
lost) go into the outbox at once and wake the uplink.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from edge_agent.clock import Clock
from edge_agent.outbox import Outbox, RecordKind
from edge_agent.sources.jbd import BmsReading
from protocols import nmea
from protocols.canbus_message import CanMessage
from protocols.contract import BmsSample, PositionSample, VehicleSample, validate
from protocols.errors import PayloadError

log = logging.getLogger(__name__)


def bms_sample(reading: BmsReading, ts: int) -> BmsSample:
    basic = reading.basic
    return BmsSample(
        seq=0,
        ts=ts,
        pack_voltage_v=basic.pack_voltage_v,
        current_a=basic.current_a,
        soc_percent=float(basic.rsoc_percent),
        cell_voltages_v=tuple(reading.cells.voltages_v),
        temperatures_c=tuple(basic.temperatures_c),
        charge_mos=basic.charge_mos,
        discharge_mos=basic.discharge_mos,
        remaining_ah=basic.remaining_ah,
        full_capacity_ah=basic.nominal_ah,
        cycles=basic.cycles,
        protection=frozenset(basic.protection),
        balancing=frozenset(basic.balancing),
    )


def position_sample(fix: nmea.PositionFix, ts: int) -> PositionSample:
    return PositionSample(
        seq=0,
        ts=ts,
        lat=fix.lat,
        lon=fix.lon,
        valid=fix.valid,
        speed_kmh=fix.speed_kmh,
        course_deg=fix.course_deg,
        altitude_m=fix.altitude_m,
        hdop=fix.hdop,
        satellites=fix.satellites,
    )


def stored_body(sample: BmsSample | PositionSample | VehicleSample) -> bytes:
    """The outbox payload of a sample: its wire form without seq (the outbox assigns it),
    checked against the schema now so that a bad sample can never block the uplink."""
    document = sample.to_wire()
    validate("telemetry", {"samples": [document]})
    del document["seq"]
    return json.dumps(document, separators=(",", ":")).encode()


class Recorder:
    """Holds the latest readings and writes samples and events to the outbox."""

    def __init__(self, outbox: Outbox, clock: Clock, wake_uplink: Callable[[bool], None]):
        self.outbox = outbox
        self.clock = clock
        self._wake = wake_uplink  # argument: urgent (events) or not
        self.bms: BmsReading | None = None
        self.position: nmea.PositionFix | None = None
        self.signals: dict[str, float] = {}
        self._fresh: set[str] = set()
        self.rejected_samples = 0

    # -- readings in -----------------------------------------------------------------
    def on_reading(self, source: str, reading: Any) -> None:
        if isinstance(reading, BmsReading):
            self._watch_bms(reading)
            self.bms = reading
            self._fresh.add("bms")
        elif isinstance(reading, nmea.PositionFix):
            self.position = reading
            self._fresh.add("position")
            if reading.valid and reading.timestamp_ms is not None:
                offset = self.clock.observe_gnss(reading.timestamp_ms)
                if offset is not None:
                    self.record_event("clock_corrected", {"offset_ms": offset}, "warning")
        elif isinstance(reading, CanMessage):
            self.signals.update(reading.signals)
            self._fresh.add("vehicle")
        else:
            raise TypeError(f"{source}: unexpected reading {type(reading).__name__}")

    def _watch_bms(self, reading: BmsReading) -> None:
        previous = self.bms
        now, before = (
            set(reading.basic.protection),
            set(previous.basic.protection if previous else ()),
        )
        if now != before:
            self.record_event(
                "bms_protection",
                {"protection": sorted(now), "cleared": sorted(before - now)},
                "critical" if now - before else "info",
            )
        mos = (reading.basic.charge_mos, reading.basic.discharge_mos)
        if previous is None or mos != (previous.basic.charge_mos, previous.basic.discharge_mos):
            self.record_event(
                "mosfet_changed", {"charge_mos": mos[0], "discharge_mos": mos[1]}, "info"
            )

    # -- records out -----------------------------------------------------------------
    def record_event(self, kind: str, detail: dict[str, Any], severity: str = "info") -> int:
        """Put one event in the outbox now and wake the uplink; returns its seq."""
        now = self.clock.now_ms()
        body = {"ts": now, "type": kind, "severity": severity, "detail": detail}
        validate("event", {"events": [{**body, "seq": 0}]})
        seq = self.outbox.put(
            RecordKind.EVENT,
            json.dumps(body, separators=(",", ":")).encode(),
            captured_ms=now,
            captured_monotonic_ns=time.monotonic_ns(),
        )
        self._wake(True)
        return seq

    def record_position_now(self) -> dict[str, Any] | None:
        """``locate``: one position sample of the latest fix, recorded now and sent at once
        (urgent, like an event); returns what it recorded, None before the first fix."""
        if self.position is None:
            return None
        ts = self.clock.now_ms()
        sample = position_sample(self.position, ts)
        self.outbox.put(RecordKind.TELEMETRY, stored_body(sample), captured_ms=ts)
        self._wake(True)
        return {
            "ts": ts,
            "lat": sample.lat,
            "lon": sample.lon,
            "valid": sample.valid,
            "speed_kmh": sample.speed_kmh,
        }

    def record_samples(self) -> list[int]:
        """One sample per source with news since the last call; returns their seqs."""
        ts = self.clock.now_ms()
        samples: list[BmsSample | PositionSample | VehicleSample] = []
        if "bms" in self._fresh and self.bms is not None:
            samples.append(bms_sample(self.bms, ts))
        if "position" in self._fresh and self.position is not None:
            samples.append(position_sample(self.position, ts))
        if "vehicle" in self._fresh and self.signals:
            samples.append(VehicleSample(seq=0, ts=ts, signals=dict(self.signals)))
        self._fresh.clear()
        items = []
        for sample in samples:
            try:
                items.append((RecordKind.TELEMETRY, stored_body(sample), ts))
            except PayloadError as err:
                self.rejected_samples += 1
                log.error("sample not recorded, it breaks the contract: %s", err)
        if not items:
            return []
        seqs = self.outbox.put_many(items)
        self._wake(False)
        return seqs
