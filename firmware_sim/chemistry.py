"""Cell chemistries for the simulated pack: open-circuit voltage curves and BMS defaults.

The tables are typical published shapes, not one manufacturer's datasheet. LFP has the long
flat plateau (about 3.20-3.34 V between 10 and 90 % SOC) with steep knees at both ends;
NMC slopes steadily from 3.0 V empty to 4.2 V full. The points below 0 % and above 100 %
model over-discharge and over-charge, where the voltage runs away: that is what a BMS
trips on, so the simulated cells keep going a little past the ends instead of stopping.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OcvCurve:
    """Open-circuit voltage against state of charge, linearly interpolated.

    ``points`` are ``(soc_percent, volts)`` pairs, strictly increasing in both.
    """

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if len(self.points) < 2:
            raise ValueError(f"OCV curve: need at least 2 points, got {len(self.points)}")
        for (soc_a, volts_a), (soc_b, volts_b) in zip(self.points, self.points[1:], strict=False):
            if not (soc_b > soc_a and volts_b > volts_a):
                raise ValueError(
                    f"OCV curve: points must rise in SOC and voltage, got "
                    f"({soc_a} %, {volts_a} V) then ({soc_b} %, {volts_b} V)"
                )

    @property
    def soc_range(self) -> tuple[float, float]:
        """The lowest and highest SOC the table covers, percent."""
        return self.points[0][0], self.points[-1][0]

    def voltage(self, soc_percent: float) -> float:
        """Open-circuit voltage at ``soc_percent`` (held at the table's ends outside it)."""
        return _interpolate(self.points, soc_percent)

    def soc(self, volts: float) -> float:
        """The SOC whose open-circuit voltage is ``volts`` (the inverse of ``voltage``)."""
        return _interpolate(tuple((v, s) for s, v in self.points), volts)


def _interpolate(points: tuple[tuple[float, float], ...], x: float) -> float:
    xs = [point[0] for point in points]
    if x <= xs[0]:
        return points[0][1]
    if x >= xs[-1]:
        return points[-1][1]
    index = bisect.bisect_right(xs, x)
    (x0, y0), (x1, y1) = points[index - 1], points[index]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


@dataclass(frozen=True, slots=True)
class Chemistry:
    """What the pack model needs to know about one cell chemistry.

    Voltages are per cell; the pack-level protection defaults are these times the number
    of cells in series.
    """

    name: str
    ocv: OcvCurve
    nominal_cell_v: float
    cell_internal_resistance_ohm: float
    cell_over_voltage_v: float
    cell_over_voltage_release_v: float
    cell_under_voltage_v: float
    cell_under_voltage_release_v: float
    pack_over_voltage_per_cell_v: float
    pack_over_voltage_release_per_cell_v: float
    pack_under_voltage_per_cell_v: float
    pack_under_voltage_release_per_cell_v: float
    balance_start_v: float


# (SOC percent, open-circuit volts)
_LFP_OCV_POINTS = (
    (-2.0, 2.00), (0.0, 2.50), (2.0, 2.85), (5.0, 3.05), (10.0, 3.200),
    (15.0, 3.225), (20.0, 3.245), (30.0, 3.265), (40.0, 3.280), (50.0, 3.290),
    (60.0, 3.300), (70.0, 3.315), (80.0, 3.330), (90.0, 3.340), (95.0, 3.355),
    (98.0, 3.400), (99.0, 3.450), (100.0, 3.600), (101.5, 3.800), (103.0, 4.100),
)  # fmt: skip
_NMC_OCV_POINTS = (
    (-2.0, 2.50), (0.0, 3.00), (3.0, 3.25), (5.0, 3.35), (10.0, 3.45),
    (20.0, 3.56), (30.0, 3.63), (40.0, 3.68), (50.0, 3.73), (60.0, 3.80),
    (70.0, 3.88), (80.0, 3.96), (90.0, 4.06), (100.0, 4.18), (101.5, 4.30),
    (103.0, 4.45),
)  # fmt: skip

LFP = Chemistry(
    name="LFP",
    ocv=OcvCurve(_LFP_OCV_POINTS),
    nominal_cell_v=3.2,
    # a 30 Ah prismatic cell is about 1.5 mOhm; busbars and welds add the rest
    cell_internal_resistance_ohm=0.0025,
    cell_over_voltage_v=3.65,
    cell_over_voltage_release_v=3.45,
    cell_under_voltage_v=2.50,
    cell_under_voltage_release_v=2.90,
    pack_over_voltage_per_cell_v=3.625,
    pack_over_voltage_release_per_cell_v=3.40,
    pack_under_voltage_per_cell_v=2.60,
    pack_under_voltage_release_per_cell_v=2.90,
    balance_start_v=3.40,
)

NMC = Chemistry(
    name="NMC",
    ocv=OcvCurve(_NMC_OCV_POINTS),
    nominal_cell_v=3.7,
    cell_internal_resistance_ohm=0.0030,
    cell_over_voltage_v=4.25,
    cell_over_voltage_release_v=4.10,
    cell_under_voltage_v=2.90,
    cell_under_voltage_release_v=3.20,
    pack_over_voltage_per_cell_v=4.20,
    pack_over_voltage_release_per_cell_v=4.05,
    pack_under_voltage_per_cell_v=3.00,
    pack_under_voltage_release_per_cell_v=3.30,
    balance_start_v=4.00,
)

CHEMISTRIES: dict[str, Chemistry] = {LFP.name: LFP, NMC.name: NMC}


def get_chemistry(name: str) -> Chemistry:
    """The chemistry called ``name`` ("LFP" or "NMC"); ValueError names the known ones."""
    try:
        return CHEMISTRIES[name]
    except KeyError:
        raise ValueError(f"unknown chemistry {name!r}; known: {', '.join(CHEMISTRIES)}") from None


def default_parameters(
    chemistry: Chemistry, cells_in_series: int, capacity_ah: float
) -> dict[str, float]:
    """JBD-style protection parameters for a pack, in volts, degrees C, amperes, Ah.

    Currents scale with capacity (charge 1 C, discharge 2 C); temperatures are the usual
    lithium limits: no charging below 0 C or above 50 C, no discharging outside -20..60 C.
    """
    cells = cells_in_series
    return {
        "cell_over_voltage_v": chemistry.cell_over_voltage_v,
        "cell_over_voltage_release_v": chemistry.cell_over_voltage_release_v,
        "cell_under_voltage_v": chemistry.cell_under_voltage_v,
        "cell_under_voltage_release_v": chemistry.cell_under_voltage_release_v,
        "pack_over_voltage_v": round(cells * chemistry.pack_over_voltage_per_cell_v, 2),
        "pack_over_voltage_release_v": round(
            cells * chemistry.pack_over_voltage_release_per_cell_v, 2
        ),
        "pack_under_voltage_v": round(cells * chemistry.pack_under_voltage_per_cell_v, 2),
        "pack_under_voltage_release_v": round(
            cells * chemistry.pack_under_voltage_release_per_cell_v, 2
        ),
        "charge_over_temperature_c": 50.0,
        "charge_over_temperature_release_c": 45.0,
        "charge_under_temperature_c": 0.0,
        "charge_under_temperature_release_c": 5.0,
        "discharge_over_temperature_c": 60.0,
        "discharge_over_temperature_release_c": 55.0,
        "discharge_under_temperature_c": -20.0,
        "discharge_under_temperature_release_c": -15.0,
        "charge_over_current_a": round(1.0 * capacity_ah, 2),
        "discharge_over_current_a": round(2.0 * capacity_ah, 2),
        "design_capacity_ah": capacity_ah,
        "cycle_capacity_ah": capacity_ah,
    }
