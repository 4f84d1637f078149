"""Every alarm type the cloud raises, its default settings, and per-model profiles.

An alarm type is evaluated in one of five ways (``Spec.source``):

- ``bms``: a threshold on a signal of each BMS sample, with a deadband: the condition is
  raised when the value is beyond ``raise`` for ``dwell_s`` of device time, and clears once it
  is back beyond ``clear`` for as long (``clear`` lies on the normal side of ``raise``);
- ``protection``: a protection flag the BMS reports itself; one alarm per flag (its subject);
- ``event``: a device event (``vibration``, ``tamper``); each event is one occurrence;
- ``offline``: no status "online" and nothing heard for ``raise`` seconds (a periodic sweep);
- ``geofence``: confirmed outside a fence (its subject is the fence id), see ``geofence``.

Defaults depend on the cell chemistry, since an LFP cell at 3.7 V is over-charged and an NMC
cell at 3.7 V is half full. A profile (table ``alarm_profile``) per device model names the
chemistry and overrides any field of any type; model ``''`` is the profile of devices whose
model has none. ``settings_for`` merges them; ``check_profile`` validates what the API stores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from cloud.errors import CloudError

SEVERITIES = ("info", "warning", "critical")
CHEMISTRIES = ("LFP", "NMC")
DEFAULT_CHEMISTRY = "LFP"
CHARGING_MIN_A = 0.5  # a pack is charging above this current (positive = charging)


class ProfileError(CloudError, ValueError):
    """An alarm profile that cannot be used; ``field`` names the offending JSON path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


@dataclass(frozen=True)
class Spec:
    """One alarm type's settings. ``raise_`` / ``clear`` are in ``unit``."""

    type: str
    source: str  # bms | protection | event | offline | geofence
    severity: str
    auto_clear: bool
    enabled: bool = True
    signal: str | None = None  # bms: what is compared (see SIGNALS); the curve shows it
    high: bool = True  # bms: raised above ``raise_`` (True) or below it (False)
    raise_: float | None = None
    clear: float | None = None
    dwell_s: float = 0.0
    when: str | None = None  # bms: only while "charging" / "discharging" (else it is normal)
    unit: str = ""
    description: str = ""


# Signals of a BMS sample a threshold can compare, as SQL over a ``bms_sample`` row (the curve
# endpoint reads them so). ``pack_v_per_cell`` is the pack voltage over the number of cells,
# so one default fits every pack size; the C rates are the current over the full capacity.
SIGNALS = {
    "cell_max_v": "cell_max_v",
    "cell_min_v": "cell_min_v",
    "pack_v_per_cell": "pack_voltage_v / greatest(cardinality(cell_voltages_v), 1)",
    "temperature_max_c": "temperature_max_c",
    "temperature_min_c": "temperature_min_c",
    "charge_c_rate": "current_a / nullif(full_capacity_ah, 0)",
    "discharge_c_rate": "-current_a / nullif(full_capacity_ah, 0)",
    "soc_percent": "soc_percent",
    "cell_spread_v": "cell_max_v - cell_min_v",
}


def _bms(type_: str, signal: str, high: bool, raise_: float, clear: float, unit: str,
         severity: str, auto_clear: bool, description: str, *, dwell_s: float = 0.0,
         when: str | None = None) -> Spec:  # fmt: skip
    return Spec(type_, "bms", severity, auto_clear, signal=signal, high=high, raise_=raise_,
                clear=clear, dwell_s=dwell_s, when=when, unit=unit,
                description=description)  # fmt: skip


_COMMON = [
    _bms("charge_over_temperature", "temperature_max_c", True, 45.0, 40.0, "°C", "critical",
         False, "hottest sensor while charging", when="charging"),
    _bms("charge_under_temperature", "temperature_min_c", False, 2.0, 5.0, "°C", "warning",
         True, "coldest sensor while charging (lithium plating below 0 °C)", when="charging"),
    _bms("discharge_over_temperature", "temperature_max_c", True, 55.0, 50.0, "°C", "critical",
         False, "hottest sensor while not charging", when="discharging"),
    _bms("discharge_under_temperature", "temperature_min_c", False, -15.0, -10.0, "°C",
         "warning", True, "coldest sensor while not charging", when="discharging"),
    _bms("charge_over_current", "charge_c_rate", True, 1.0, 0.8, "C", "warning", True,
         "charge current over the full capacity", dwell_s=2.0),
    _bms("discharge_over_current", "discharge_c_rate", True, 2.0, 1.6, "C", "warning", True,
         "discharge current over the full capacity", dwell_s=2.0),
    _bms("low_soc", "soc_percent", False, 10.0, 15.0, "%", "warning", True,
         "state of charge"),
    _bms("cell_imbalance", "cell_spread_v", True, 0.30, 0.15, "V", "warning", True,
         "highest minus lowest cell voltage"),
    Spec("bms_protection", "protection", "warning", False,
         description="a protection the BMS reports itself (one alarm per protection)"),
    Spec("vibration", "event", "warning", False, description="vibration event from the device"),
    Spec("tamper", "event", "critical", False, description="tamper event from the device"),
    Spec("offline", "offline", "warning", True, raise_=900.0, unit="s",
         description="offline, nothing heard for this many seconds"),
    Spec("outside_geofence", "geofence", "warning", True,
         description="confirmed outside a fence it is assigned to (one alarm per fence)"),
]  # fmt: skip
_VOLTAGES = {
    # (cell over, clear), (cell under, clear), (pack over per cell, clear), (pack under, clear)
    "LFP": ((3.60, 3.45), (2.70, 2.95), (3.58, 3.40), (2.80, 3.00)),
    "NMC": ((4.22, 4.10), (3.00, 3.25), (4.18, 4.05), (3.10, 3.30)),
}


def _voltage_specs(chemistry: str) -> list[Spec]:
    cell_over, cell_under, pack_over, pack_under = _VOLTAGES[chemistry]
    return [
        _bms("cell_over_voltage", "cell_max_v", True, *cell_over, "V", "critical", False,
             "highest cell voltage"),
        _bms("cell_under_voltage", "cell_min_v", False, *cell_under, "V", "critical", False,
             "lowest cell voltage"),
        _bms("pack_over_voltage", "pack_v_per_cell", True, *pack_over, "V/cell", "critical",
             False, "pack voltage divided by the number of cells"),
        _bms("pack_under_voltage", "pack_v_per_cell", False, *pack_under, "V/cell", "warning",
             True, "pack voltage divided by the number of cells"),
    ]  # fmt: skip


DEFAULTS: dict[str, dict[str, Spec]] = {
    chemistry: {s.type: s for s in [*_voltage_specs(chemistry), *_COMMON]}
    for chemistry in CHEMISTRIES
}
TYPES = tuple(DEFAULTS[DEFAULT_CHEMISTRY])
# what a profile may override, with the JSON type it must have
_OVERRIDABLE = {"enabled": bool, "severity": str, "auto_clear": bool, "raise": float,
                "clear": float, "dwell_s": float}  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """The effective settings of one device model: its chemistry and a Spec per type."""

    chemistry: str
    specs: Mapping[str, Spec]

    def enabled(self, source: str) -> list[Spec]:
        return [s for s in self.specs.values() if s.source == source and s.enabled]


def settings_for(profile: Mapping[str, Any] | None) -> Settings:
    """Defaults of the profile's chemistry with its overrides (a checked profile)."""
    profile = profile or {}
    chemistry = profile.get("chemistry") or DEFAULT_CHEMISTRY
    specs = dict(DEFAULTS[chemistry])
    for type_, override in (profile.get("rules") or {}).items():
        changes = {("raise_" if k == "raise" else k): v for k, v in override.items()}
        specs[type_] = replace(specs[type_], **changes)
    return Settings(chemistry, specs)


def check_profile(document: Any) -> dict[str, Any]:
    """A profile document, validated and normalised; ProfileError names what is wrong."""
    if not isinstance(document, Mapping):
        raise ProfileError("$", "a profile is an object with 'chemistry' and 'rules'")
    unknown = sorted(set(document) - {"chemistry", "rules"})
    if unknown:
        raise ProfileError(unknown[0], "unknown field; a profile has 'chemistry' and 'rules'")
    chemistry = document.get("chemistry", DEFAULT_CHEMISTRY)
    if chemistry not in CHEMISTRIES:
        raise ProfileError("chemistry", f"must be one of {list(CHEMISTRIES)}, got {chemistry!r}")
    rules = document.get("rules", {})
    if not isinstance(rules, Mapping):
        raise ProfileError("rules", "must be an object of alarm type -> settings")
    checked: dict[str, dict[str, Any]] = {}
    for type_, override in rules.items():
        where = f"rules.{type_}"
        if type_ not in DEFAULTS[chemistry]:
            raise ProfileError(where, f"unknown alarm type; known: {', '.join(TYPES)}")
        if not isinstance(override, Mapping):
            raise ProfileError(where, "must be an object of settings")
        checked[type_] = _check_override(where, DEFAULTS[chemistry][type_], override)
    result = {"chemistry": chemistry, "rules": checked}
    # the merged thresholds must still make sense
    for spec in settings_for(result).specs.values():
        if spec.source == "bms" and spec.raise_ is not None and spec.clear is not None:
            wrong = spec.clear > spec.raise_ if spec.high else spec.clear < spec.raise_
            if wrong:
                side = "at or below" if spec.high else "at or above"
                raise ProfileError(
                    f"rules.{spec.type}.clear",
                    f"must be {side} raise ({spec.raise_} {spec.unit}), got {spec.clear}",
                )
    return result


def _check_override(where: str, spec: Spec, override: Mapping[str, Any]) -> dict[str, Any]:
    allowed = set(_OVERRIDABLE)
    if spec.source != "bms":
        allowed -= {"clear", "dwell_s"}
        if spec.source != "offline":
            allowed -= {"raise"}
    out: dict[str, Any] = {}
    for key, value in override.items():
        field = f"{where}.{key}"
        if key not in allowed:
            raise ProfileError(field, f"not a setting of this type; it has {sorted(allowed)}")
        kind = _OVERRIDABLE[key]
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ProfileError(field, f"must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ProfileError(field, "must be finite")
            if key in ("dwell_s",) and not 0 <= value <= 86400:
                raise ProfileError(field, f"must be 0..86400 s, got {value}")
            if spec.source == "offline" and key == "raise" and not 60 <= value <= 30 * 86400:
                raise ProfileError(field, f"must be 60..2592000 s, got {value}")
            value = float(value)
        elif not isinstance(value, kind):
            raise ProfileError(field, f"must be a {kind.__name__}, got {value!r}")
        if key == "severity" and value not in SEVERITIES:
            raise ProfileError(field, f"must be one of {list(SEVERITIES)}, got {value!r}")
        out[key] = value
    return out


def describe(spec: Spec) -> dict[str, Any]:
    """A Spec as the API shows it."""
    return {f.name.rstrip("_"): getattr(spec, f.name) for f in fields(spec)}
