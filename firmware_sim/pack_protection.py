"""The protection state machine of a JBD-style BMS, apart from the cells it watches.

Voltage and temperature protections trip when their limit has held for a delay and
release at a separate threshold (hysteresis), so a pack that sags back under the limit the
moment its current stops does not chatter. Over-current and short circuit have no release
threshold: like a JBD board, the BMS retries after a fixed wait.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

CHARGE_BLOCKING = frozenset(
    {
        "cell_over_voltage",
        "pack_over_voltage",
        "charge_over_temperature",
        "charge_under_temperature",
        "charge_over_current",
    }
)
DISCHARGE_BLOCKING = frozenset(
    {
        "cell_under_voltage",
        "pack_under_voltage",
        "discharge_over_temperature",
        "discharge_under_temperature",
        "discharge_over_current",
        "short_circuit",
    }
)
PROTECTION_NAMES = CHARGE_BLOCKING | DISCHARGE_BLOCKING
_TIMED_RELEASE = ("charge_over_current", "discharge_over_current", "short_circuit")


class Protection:
    """Which protections are active, and when each one trips and releases."""

    def __init__(
        self, level_delay_s: float, over_current_delay_s: float, over_current_release_s: float
    ) -> None:
        self.level_delay_s = level_delay_s
        self.over_current_delay_s = over_current_delay_s
        self.over_current_release_s = over_current_release_s
        self.active: set[str] = set()
        self._held_s: dict[str, float] = {}  # how long each trip condition has held
        self._tripped_at_s: dict[str, float] = {}
        self._clock_s = 0.0

    @property
    def blocks_charge(self) -> bool:
        return bool(self.active & CHARGE_BLOCKING)

    @property
    def blocks_discharge(self) -> bool:
        return bool(self.active & DISCHARGE_BLOCKING)

    def trip(self, name: str) -> None:
        """Trip ``name`` now, without waiting for its delay."""
        if name not in PROTECTION_NAMES:
            raise ValueError(f"protection: unknown name {name!r}")
        self.active.add(name)
        self._tripped_at_s[name] = self._clock_s
        self._held_s[name] = 0.0

    def update(
        self,
        dt_s: float,
        parameters: Mapping[str, float],
        cell_voltages_v: Sequence[float],
        temperatures_c: Sequence[float],
        current_a: float,
    ) -> None:
        """Trip and release after ``dt_s`` seconds in which the pack read as given."""
        self._clock_s += dt_s
        p = parameters
        highest, lowest = max(cell_voltages_v), min(cell_voltages_v)
        pack = sum(cell_voltages_v)
        hottest, coldest = max(temperatures_c), min(temperatures_c)
        levels = (  # name, trip condition, release condition
            ("cell_over_voltage", highest >= p["cell_over_voltage_v"],
             highest <= p["cell_over_voltage_release_v"]),
            ("cell_under_voltage", lowest <= p["cell_under_voltage_v"],
             lowest >= p["cell_under_voltage_release_v"]),
            ("pack_over_voltage", pack >= p["pack_over_voltage_v"],
             pack <= p["pack_over_voltage_release_v"]),
            ("pack_under_voltage", pack <= p["pack_under_voltage_v"],
             pack >= p["pack_under_voltage_release_v"]),
            ("charge_over_temperature", hottest >= p["charge_over_temperature_c"],
             hottest <= p["charge_over_temperature_release_c"]),
            ("charge_under_temperature", coldest <= p["charge_under_temperature_c"],
             coldest >= p["charge_under_temperature_release_c"]),
            ("discharge_over_temperature", hottest >= p["discharge_over_temperature_c"],
             hottest <= p["discharge_over_temperature_release_c"]),
            ("discharge_under_temperature", coldest <= p["discharge_under_temperature_c"],
             coldest >= p["discharge_under_temperature_release_c"]),
        )  # fmt: skip
        for name, trips, releases in levels:
            if name in self.active:
                if releases:
                    self.active.discard(name)
            else:
                self._hold(name, trips, dt_s, self.level_delay_s)
        self._hold(
            "charge_over_current",
            current_a > p["charge_over_current_a"],
            dt_s,
            self.over_current_delay_s,
        )
        self._hold(
            "discharge_over_current",
            -current_a > p["discharge_over_current_a"],
            dt_s,
            self.over_current_delay_s,
        )
        for name in _TIMED_RELEASE:
            since = self._clock_s - self._tripped_at_s.get(name, self._clock_s)
            if name in self.active and since >= self.over_current_release_s:
                self.active.discard(name)

    def _hold(self, name: str, condition: bool, dt_s: float, delay_s: float) -> None:
        if name in self.active or not condition:
            self._held_s[name] = 0.0
            return
        self._held_s[name] = self._held_s.get(name, 0.0) + dt_s
        if self._held_s[name] >= delay_s:
            self.trip(name)
