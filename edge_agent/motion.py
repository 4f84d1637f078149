"""Is the vehicle standing still? The question every discharge cut-off asks first.

A cut-off on a moving vehicle takes the power from under a rider in traffic, so "still"
needs positive evidence, held for ``standstill_hold_s``:

- speed below ``standstill_speed_kmh`` from every speed source that reported within
  ``readings_stale_s`` (GNSS fix speed, CAN ``vehicle_speed``); when the box has a speed
  source, a speed that is unknown or stale counts as moving;
- the discharge current below ``standstill_current_a`` (BMS, or CAN ``pack_current``), and
  a stale or missing current counts as moving. Charging current does not count: a pack on a
  charger is parked, and a cut-off must not wait for the charge to end.

A box without GNSS and CAN decides on the current alone (a coasting vehicle draws none:
that box cannot do better, and says so in its config).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge_agent.config import ControlConfig
from edge_agent.sources.jbd import BmsReading
from protocols import nmea
from protocols.canbus_message import CanMessage

CAN_SPEED = "vehicle_speed"
CAN_CURRENT = "pack_current"


@dataclass(frozen=True, slots=True)
class MotionSnapshot:
    """What the monitor believes now (None: unknown or stale)."""

    speed_kmh: float | None
    current_a: float | None
    still: bool  # still now (not yet held for the hold time)
    still_for_s: float  # how long it has been still, 0 when moving

    def detail(self) -> dict[str, Any]:
        """For events: speed and current, rounded, None when unknown."""
        speed = None if self.speed_kmh is None else round(self.speed_kmh, 1)
        current = None if self.current_a is None else round(self.current_a, 2)
        return {"speed_kmh": speed, "current_a": current}


class MotionMonitor:
    """Fed with every reading; answers whether the vehicle has stood still long enough."""

    def __init__(self, config: ControlConfig, *, has_speed_source: bool) -> None:
        self.config = config
        self.has_speed_source = has_speed_source
        self._speeds: dict[str, tuple[float, float]] = {}  # source -> (km/h, monotonic)
        self._current: tuple[float, float] | None = None  # (A, monotonic)
        self._still_since: float | None = None

    def observe(self, reading: Any) -> None:
        """Take a reading of any source (others than BMS, GNSS, CAN are ignored)."""
        now = time.monotonic()
        if isinstance(reading, BmsReading):
            self._current = (reading.basic.current_a, now)
        elif isinstance(reading, nmea.PositionFix):
            if reading.valid and reading.speed_kmh is not None:
                self._speeds["gnss"] = (reading.speed_kmh, now)
        elif isinstance(reading, CanMessage):
            if CAN_SPEED in reading.signals:
                self._speeds["can"] = (float(reading.signals[CAN_SPEED]), now)
            if CAN_CURRENT in reading.signals:
                self._current = (float(reading.signals[CAN_CURRENT]), now)
        else:
            return
        self.snapshot(now)

    def _fresh(self, value: tuple[float, float] | None, now: float) -> float | None:
        if value is None or now - value[1] > self.config.readings_stale_s:
            return None
        return value[0]

    def snapshot(self, now: float | None = None) -> MotionSnapshot:
        """The current belief; also advances the standstill timer."""
        now = time.monotonic() if now is None else now
        speeds = [s for v in self._speeds.values() if (s := self._fresh(v, now)) is not None]
        speed = max(speeds) if speeds else None
        current = self._fresh(self._current, now)
        config = self.config
        if speed is None:
            speed_ok = not self.has_speed_source
        else:
            speed_ok = speed < config.standstill_speed_kmh
        # positive current is charging: a parked pack on a charger is still
        current_ok = current is not None and -current < config.standstill_current_a
        still = speed_ok and current_ok
        if not still:
            self._still_since = None
        elif self._still_since is None:
            self._still_since = now
        still_for = now - self._still_since if self._still_since is not None else 0.0
        return MotionSnapshot(speed, current, still, still_for)

    def stood_still(self) -> bool:
        """Still for at least ``standstill_hold_s``: a cut-off may go ahead."""
        snapshot = self.snapshot()
        return snapshot.still and snapshot.still_for_s >= self.config.standstill_hold_s


async def wait_for_standstill(
    monitor: MotionMonitor,
    report: Callable[[MotionSnapshot, float], None],
    *,
    limit_s: float | None,
    poll_s: float = 0.2,
) -> bool:
    """Wait until the vehicle has stood still; True then, False when ``limit_s`` passed
    first (None: no limit). ``report(snapshot, waited_s)`` is called when the wait starts
    and every ``waiting_report_interval_s`` while it lasts, never when no wait is needed."""
    started = time.monotonic()
    next_report = started
    while not monitor.stood_still():
        now = time.monotonic()
        waited = now - started
        if limit_s is not None and waited >= limit_s:
            return False
        if now >= next_report:
            report(monitor.snapshot(now), waited)
            next_report = now + monitor.config.waiting_report_interval_s
        await asyncio.sleep(poll_s)
    return True
