"""A simulated lithium battery pack with a JBD-style BMS: cells, heat and protection.

The pack is a series string of cells that differ a little (capacity, starting charge,
resistance), so their voltages spread by a few millivolts as in a real pack. The BMS counts
coulombs per cell, reads its NTCs and trips the protections a JBD board trips, with release
hysteresis; a trip switches off the MOSFET for one direction and the current in that
direction really stops, while the other direction still flows (as through the body diode
of the FET that is still on).

Sign convention: positive current charges the pack. ``step()`` takes the current the load
or charger asks for; ``current_a`` is what flowed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date

from firmware_sim.chemistry import default_parameters, get_chemistry
from firmware_sim.pack_protection import (
    CHARGE_BLOCKING,
    DISCHARGE_BLOCKING,
    PROTECTION_NAMES,
    Protection,
)

__all__ = [
    "CHARGE_BLOCKING",
    "DISCHARGE_BLOCKING",
    "NTC_OPEN_CIRCUIT_C",
    "PROTECTION_NAMES",
    "BatteryPack",
    "PackSpec",
]

# What a JBD board reports for an NTC whose wire is broken: the open thermistor reads as
# the coldest point of its table. Owners of JBD packs report a fixed -30 C on an unplugged
# second NTC (smagicld/xiaoxiangBMS issue #75), so that is the value used here. Being far
# below 0 C, it trips the under-temperature protections, as it does on the real board.
NTC_OPEN_CIRCUIT_C = -30.0

_CELL_HEAT_CAPACITY_J_PER_K_PER_AH = 23.0  # a 30 Ah prismatic cell: ~0.7 kg at ~1 J/(g K)


@dataclass(frozen=True, slots=True)
class PackSpec:
    """How a simulated pack is built. Spreads are standard deviations, in percent."""

    chemistry: str = "LFP"
    cells_in_series: int = 16
    capacity_ah: float = 30.0
    cell_internal_resistance_ohm: float | None = None  # None: the chemistry's typical value
    ntc_count: int = 2
    initial_soc_percent: float = 80.0
    cell_capacity_spread_percent: float = 0.8
    initial_soc_spread_percent: float = 1.0
    cell_resistance_spread_percent: float = 5.0
    initial_temperature_c: float = 25.0
    heat_capacity_j_per_k: float | None = None  # None: from cell count and capacity
    heat_transfer_w_per_k: float = 2.5  # to ambient, through the enclosure
    relaxation_time_constant_s: float = 30.0  # the RC branch behind the ohmic drop
    initial_cycles: int = 0
    production_date: date = date(2024, 3, 18)
    short_circuit_current_a: float | None = None  # None: 6 C
    protection_delay_s: float = 1.0  # how long a voltage or temperature limit must hold
    over_current_delay_s: float = 0.5
    over_current_release_s: float = 32.0  # JBD retries over-current after a fixed wait
    balance_start_v: float | None = None  # None: the chemistry's value
    balance_window_v: float = 0.015  # balance cells this far above the lowest cell
    balance_current_a: float = 0.05  # passive bleed resistor current
    seed: int = 0

    def __post_init__(self) -> None:
        get_chemistry(self.chemistry)
        if self.cells_in_series < 1:
            raise ValueError(f"pack: cells_in_series must be >= 1, got {self.cells_in_series}")
        if not self.capacity_ah > 0:
            raise ValueError(f"pack: capacity_ah must be > 0, got {self.capacity_ah}")
        if not 1 <= self.ntc_count <= 8:
            raise ValueError(f"pack: ntc_count must be 1..8, got {self.ntc_count}")
        if not 0 <= self.initial_soc_percent <= 100:
            raise ValueError(
                f"pack: initial_soc_percent must be 0..100, got {self.initial_soc_percent}"
            )


class BatteryPack:
    """A series string of cells behind a BMS; advance it with ``step()``."""

    def __init__(self, spec: PackSpec | None = None, rng: random.Random | None = None) -> None:
        self.spec = spec = spec if spec is not None else PackSpec()
        self._chemistry = chemistry = get_chemistry(spec.chemistry)
        rng = rng if rng is not None else random.Random(spec.seed)
        cells = spec.cells_in_series
        resistance = spec.cell_internal_resistance_ohm or chemistry.cell_internal_resistance_ohm
        low, high = chemistry.ocv.soc_range
        self._capacity_ah = [
            spec.capacity_ah * max(0.5, 1 + rng.gauss(0, spec.cell_capacity_spread_percent / 100))
            for _ in range(cells)
        ]
        soc_spread = spec.initial_soc_spread_percent
        self._soc = [
            min(100.0, max(0.0, rng.gauss(spec.initial_soc_percent, soc_spread)))
            for _ in range(cells)
        ]
        self._soc_bounds = (low, high)
        self._resistance_ohm = [
            resistance * max(0.5, 1 + rng.gauss(0, spec.cell_resistance_spread_percent / 100))
            for _ in range(cells)
        ]
        self._relaxation_v = [0.0] * cells
        # NTCs sit at different places: a fixed calibration offset each, and the ones nearer
        # the middle of the pack see more of the self-heating
        self._ntc_offset_c = [rng.gauss(0, 0.4) for _ in range(spec.ntc_count)]
        self._ntc_heating_share = [rng.uniform(0.0, 0.15) for _ in range(spec.ntc_count)]
        self._heat_capacity = spec.heat_capacity_j_per_k or (
            _CELL_HEAT_CAPACITY_J_PER_K_PER_AH * cells * spec.capacity_ah
        )
        self._short_circuit_a = spec.short_circuit_current_a or 6.0 * spec.capacity_ah
        self._balance_start_v = spec.balance_start_v or chemistry.balance_start_v

        self.parameters: dict[str, float] = default_parameters(chemistry, cells, spec.capacity_ah)
        self._temperature_c = spec.initial_temperature_c
        self._ambient_c = spec.initial_temperature_c
        self._current_a = 0.0
        self._discharged_ah = 0.0
        self._commanded_charge = True
        self._commanded_discharge = True
        self._protection = Protection(
            spec.protection_delay_s, spec.over_current_delay_s, spec.over_current_release_s
        )
        self._balancing: frozenset[int] = frozenset()
        self._forced_cell_v: dict[int, float] = {}
        self._forced_ntc_c: dict[int, float] = {}
        self._open_ntcs: set[int] = set()
        self._true_cell_v = self._cell_voltages_from_state()

    # -- simulation ------------------------------------------------------------------
    def step(self, dt_s: float, demand_current_a: float, ambient_c: float = 25.0) -> None:
        """Advance ``dt_s`` seconds with the load or charger asking for ``demand_current_a``."""
        if not dt_s >= 0 or not math.isfinite(dt_s):
            raise ValueError(f"pack step: dt_s must be a finite number >= 0, got {dt_s}")
        if dt_s == 0:
            return
        self._ambient_c = ambient_c
        current = self._admit(demand_current_a)
        self._current_a = current
        self._integrate_charge(dt_s, current)
        self._integrate_heat(dt_s, current, ambient_c)
        self._protection.update(
            dt_s, self.parameters, self.cell_voltages_v, self.temperatures_c, current
        )
        self._balancing = self._balance(dt_s, current)

    def set_mosfets(self, charge: bool | None = None, discharge: bool | None = None) -> None:
        """Command the MOSFETs as the host would (None leaves one as it is)."""
        if charge is not None:
            self._commanded_charge = charge
        if discharge is not None:
            self._commanded_discharge = discharge

    def _admit(self, demand_a: float) -> float:
        if demand_a > 0:
            return demand_a if self.charge_mos_on else 0.0
        if demand_a < 0 and self.discharge_mos_on:
            if -demand_a >= self._short_circuit_a:
                self._protection.trip("short_circuit")  # the BMS cuts within microseconds
                return 0.0
            return demand_a
        return 0.0

    def _integrate_charge(self, dt_s: float, current: float) -> None:
        ampere_hours = current * dt_s / 3600
        low, high = self._soc_bounds
        decay = math.exp(-dt_s / self.spec.relaxation_time_constant_s)
        warmth = self._resistance_factor()
        for index, capacity in enumerate(self._capacity_ah):
            soc = self._soc[index] + 100 * ampere_hours / capacity
            self._soc[index] = min(high, max(low, soc))
            target = current * 0.5 * self._resistance_ohm[index] * warmth
            self._relaxation_v[index] = target + (self._relaxation_v[index] - target) * decay
        if current < 0:
            self._discharged_ah -= ampere_hours
        self._true_cell_v = self._cell_voltages_from_state()

    def _integrate_heat(self, dt_s: float, current: float, ambient_c: float) -> None:
        # ohmic plus polarisation losses, solved exactly so any dt_s is stable
        heat_w = current**2 * sum(self._resistance_ohm) * 1.5 * self._resistance_factor()
        conductance = self.spec.heat_transfer_w_per_k
        equilibrium = ambient_c + heat_w / conductance
        decay = math.exp(-dt_s * conductance / self._heat_capacity)
        self._temperature_c = equilibrium + (self._temperature_c - equilibrium) * decay

    def _resistance_factor(self) -> float:
        # lithium cells roughly double their resistance every ~28 K colder
        return min(5.0, max(0.5, math.exp(0.025 * (25.0 - self._temperature_c))))

    def _cell_voltages_from_state(self) -> list[float]:
        ocv = self._chemistry.ocv
        warmth = self._resistance_factor()
        return [
            ocv.voltage(soc) + self._current_a * resistance * warmth + relaxation
            for soc, resistance, relaxation in zip(
                self._soc, self._resistance_ohm, self._relaxation_v, strict=True
            )
        ]

    def _balance(self, dt_s: float, current: float) -> frozenset[int]:
        cells = self.cell_voltages_v
        if current <= 0 or max(cells) < self._balance_start_v:
            return frozenset()
        floor = min(cells)
        chosen = frozenset(
            number
            for number, volts in enumerate(cells, start=1)
            if volts >= self._balance_start_v and volts - floor >= self.spec.balance_window_v
        )
        bled_ah = self.spec.balance_current_a * dt_s / 3600
        for number in chosen:
            self._soc[number - 1] -= 100 * bled_ah / self._capacity_ah[number - 1]
        return chosen

    # -- fault injection -----------------------------------------------------------------
    def inject_cell_voltage(self, cell: int, volts: float) -> None:
        """Force cell ``cell`` (1-based) to read ``volts`` until ``clear_faults()``."""
        self._check_number("cell", cell, self.spec.cells_in_series)
        if not 0 <= volts <= 6:
            raise ValueError(f"pack: injected cell voltage must be 0..6 V, got {volts}")
        self._forced_cell_v[cell - 1] = volts

    def inject_cell_over_voltage(self, cell: int, volts: float | None = None) -> None:
        """Force cell ``cell`` (1-based) high; by default 50 mV over its protection limit."""
        if volts is None:
            volts = self.parameters["cell_over_voltage_v"] + 0.05
        self.inject_cell_voltage(cell, volts)

    def inject_over_temperature(self, celsius: float, ntc: int | None = None) -> None:
        """Force NTC ``ntc`` (1-based; None: every NTC) to read ``celsius``."""
        if ntc is None:
            numbers = range(1, self.spec.ntc_count + 1)
        else:
            self._check_number("NTC", ntc, self.spec.ntc_count)
            numbers = range(ntc, ntc + 1)
        for number in numbers:
            self._forced_ntc_c[number - 1] = celsius

    def ntc_dropout(self, index: int) -> None:
        """Break the wire of NTC ``index`` (1-based): it reads ``NTC_OPEN_CIRCUIT_C``."""
        self._check_number("NTC", index, self.spec.ntc_count)
        self._open_ntcs.add(index - 1)

    def clear_faults(self) -> None:
        """Undo every injected fault; protections then release by their own hysteresis."""
        self._forced_cell_v.clear()
        self._forced_ntc_c.clear()
        self._open_ntcs.clear()

    @staticmethod
    def _check_number(what: str, number: int, count: int) -> None:
        if not 1 <= number <= count:
            raise ValueError(f"pack: {what} number must be 1..{count}, got {number}")

    # -- read-outs -----------------------------------------------------------------------
    @property
    def cell_voltages_v(self) -> tuple[float, ...]:
        """Cell voltages as the BMS reads them, cell 1 first."""
        forced = self._forced_cell_v
        return tuple(forced.get(index, volts) for index, volts in enumerate(self._true_cell_v))

    @property
    def pack_voltage_v(self) -> float:
        return sum(self.cell_voltages_v)

    @property
    def current_a(self) -> float:
        """The current that flowed in the last step, positive charging."""
        return self._current_a

    @property
    def cell_soc_percent(self) -> tuple[float, ...]:
        """Each cell's own state of charge (may run slightly past 0..100 when abused)."""
        return tuple(self._soc)

    @property
    def cell_capacity_ah(self) -> tuple[float, ...]:
        """Each cell's true capacity (they differ by the manufacturing spread)."""
        return tuple(self._capacity_ah)

    @property
    def remaining_ah(self) -> float:
        """Charge that can still be drawn before the emptiest cell is empty."""
        return max(0.0, min(s / 100 * c for s, c in zip(self._soc, self._capacity_ah, strict=True)))

    @property
    def full_capacity_ah(self) -> float:
        """Remaining charge plus what still fits before the fullest cell is full."""
        room = min((1 - s / 100) * c for s, c in zip(self._soc, self._capacity_ah, strict=True))
        return self.remaining_ah + max(0.0, room)

    @property
    def soc_percent(self) -> float:
        """Relative state of charge as a BMS reports it (RSOC), 0..100."""
        full = self.full_capacity_ah
        return 0.0 if full <= 0 else min(100.0, 100 * self.remaining_ah / full)

    @property
    def nominal_capacity_ah(self) -> float:
        return self.parameters["design_capacity_ah"]

    @property
    def cycles(self) -> int:
        per_cycle = self.parameters["cycle_capacity_ah"]
        counted = int(self._discharged_ah / per_cycle) if per_cycle > 0 else 0
        return self.spec.initial_cycles + counted

    @property
    def core_temperature_c(self) -> float:
        """The pack's true lumped temperature (what the NTCs try to read)."""
        return self._temperature_c

    @property
    def temperatures_c(self) -> tuple[float, ...]:
        """One reading per NTC, slightly different from each other."""
        rise = self._temperature_c - self._ambient_c
        readings = []
        for index, offset in enumerate(self._ntc_offset_c):
            if index in self._open_ntcs:
                readings.append(NTC_OPEN_CIRCUIT_C)
            elif index in self._forced_ntc_c:
                readings.append(self._forced_ntc_c[index])
            else:
                share = self._ntc_heating_share[index]
                readings.append(self._temperature_c + offset + share * rise)
        return tuple(readings)

    @property
    def commanded_charge_mos(self) -> bool:
        return self._commanded_charge

    @property
    def commanded_discharge_mos(self) -> bool:
        return self._commanded_discharge

    @property
    def charge_mos_on(self) -> bool:
        """Charge MOSFET conducting: commanded on and no protection holding it off."""
        return self._commanded_charge and not self._protection.blocks_charge

    @property
    def discharge_mos_on(self) -> bool:
        """Discharge MOSFET conducting: commanded on and no protection holding it off."""
        return self._commanded_discharge and not self._protection.blocks_discharge

    @property
    def protection(self) -> frozenset[str]:
        return frozenset(self._protection.active)

    @property
    def balancing(self) -> frozenset[int]:
        """Cells (1-based) being bled by the passive balancer."""
        return self._balancing

    @property
    def production_date(self) -> date:
        return self.spec.production_date
