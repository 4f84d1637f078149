"""Threshold zones for a batch of BMS samples, computed in numpy, one column per alarm type.

For every enabled ``bms`` alarm type each sample gets a zone, the same three-valued input the
fence hysteresis uses (``cloud.rules.hysteresis``): -1 beyond ``raise`` (the alarm side), +1
back beyond ``clear`` (the normal side), 0 in the deadband between, or when the signal is
unknown (no cells reported, no full capacity for a C rate). Outside its ``when`` (a charge
temperature limit while discharging) a type is on the normal side.

Protection flags need no numbers: a flag present is -1, absent +1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cloud.ingest.rows import BmsRow, EventRow, PositionRow
from cloud.rules.catalogue import CHARGING_MIN_A, Settings

ALARM = -1
DEADBAND = 0
NORMAL = 1


@dataclass(frozen=True)
class Zones:
    """One type's zone, value and raise threshold per sample (parallel to the batch's rows)."""

    zone: np.ndarray  # int8
    value: np.ndarray  # float, NaN when unknown
    threshold: np.ndarray  # float


class Signals:
    """The batch's signals as arrays, computed once and shared by every type."""

    def __init__(self, rows: Sequence[BmsRow]) -> None:
        self.pack_v = np.array([r.pack_voltage_v for r in rows], dtype=float)
        self.current = np.array([r.current_a for r in rows], dtype=float)
        self.soc = np.array([r.soc_percent for r in rows], dtype=float)
        capacity = [r.full_capacity_ah for r in rows]
        self.capacity = np.array([np.nan if c is None else c for c in capacity], dtype=float)
        cells = [r.cell_voltages_v for r in rows]
        self.cell_count = np.array([len(c) for c in cells], dtype=float)
        self.cell_max, self.cell_min = _ragged_max_min(cells)
        self.temp_max, self.temp_min = _ragged_max_min([r.temperatures_c for r in rows])
        self.charging = self.current > CHARGING_MIN_A

    def signal(self, name: str) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            if name == "cell_max_v":
                return self.cell_max
            if name == "cell_min_v":
                return self.cell_min
            if name == "pack_v_per_cell":
                return np.where(self.cell_count > 0, self.pack_v / self.cell_count, np.nan)
            if name == "temperature_max_c":
                return self.temp_max
            if name == "temperature_min_c":
                return self.temp_min
            if name == "charge_c_rate":
                return np.where(self.capacity > 0, self.current / self.capacity, np.nan)
            if name == "discharge_c_rate":
                return np.where(self.capacity > 0, -self.current / self.capacity, np.nan)
            if name == "soc_percent":
                return self.soc
            if name == "cell_spread_v":
                return self.cell_max - self.cell_min
        raise ValueError(f"unknown BMS signal {name!r}")


def zones(
    rows: Sequence[BmsRow],
    settings_by_row: Sequence[Settings],
) -> dict[str, Zones]:
    """Every enabled ``bms`` type's zones over the batch (a type enabled for some rows only
    is normal on the others)."""
    signals = Signals(rows)
    distinct = {id(s): s for s in settings_by_row}
    which = np.array([id(s) for s in settings_by_row])
    types = {spec.type for s in distinct.values() for spec in s.enabled("bms")}
    out: dict[str, Zones] = {}
    n = len(rows)
    for type_ in sorted(types):
        zone = np.full(n, NORMAL, dtype=np.int8)
        threshold = np.full(n, np.nan)
        value = np.full(n, np.nan)
        for key, settings in distinct.items():
            spec = settings.specs[type_]
            mask = which == key
            if not spec.enabled:
                continue
            assert spec.signal is not None and spec.raise_ is not None and spec.clear is not None
            v = signals.signal(spec.signal)
            if spec.high:
                beyond, back = v > spec.raise_, v <= spec.clear
            else:
                beyond, back = v < spec.raise_, v >= spec.clear
            z = np.where(beyond, ALARM, np.where(back, NORMAL, DEADBAND)).astype(np.int8)
            if spec.when is not None:
                applies = signals.charging if spec.when == "charging" else ~signals.charging
                z = np.where(applies, z, NORMAL).astype(np.int8)
            zone[mask] = z[mask]
            value[mask] = v[mask]
            threshold[mask] = spec.raise_
        out[type_] = Zones(zone, value, threshold)
    return out


def protections(rows: Sequence[BmsRow]) -> list[frozenset[str]]:
    """The protection flags of each sample."""
    return [frozenset(r.protection) for r in rows]


def sample_document(row: BmsRow | PositionRow | EventRow) -> dict[str, Any]:
    """A stored row as a JSON-able object (for an occurrence's ``sample``)."""
    out: dict[str, Any] = {}
    for name, value in row._asdict().items():
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "obj"):  # Jsonb
            value = value.obj
        out[name] = value
    return out


def _ragged_max_min(lists: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Per-list max and min (NaN for an empty list), without a Python loop over values."""
    lengths = np.array([len(x) for x in lists], dtype=np.int64)
    n = len(lists)
    high = np.full(n, np.nan)
    low = np.full(n, np.nan)
    filled = np.flatnonzero(lengths > 0)
    if len(filled):
        flat = np.fromiter((v for x in lists for v in x), dtype=float, count=int(lengths.sum()))
        starts = (np.cumsum(lengths) - lengths)[filled]
        high[filled] = np.maximum.reduceat(flat, starts)
        low[filled] = np.minimum.reduceat(flat, starts)
    return high, low
