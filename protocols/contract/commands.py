"""The command catalogue of contract v1: which ``down/cmd`` types exist and their ``args``.

The cloud checks a command with ``check_command()`` before it queues it (so the API answers
422 naming the argument), and the edge checks it again before executing (so a forged or
malformed command is rejected with the same reason). The JSON Schema of ``down/cmd`` keeps
``args`` open; this module is where each type's arguments are defined.

BMS parameter names are the contract's canonical names (those of protocols/jbd, which are
the JBD EEPROM's protection parameters) plus ``remaining_capacity_alarm_percent``, which a
JBD BMS has no register for: a device whose BMS cannot take a parameter rejects the
command, naming it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from protocols.errors import PayloadError
from protocols.jbd.parameters import PARAMETERS as JBD_PARAMETERS

SET_DISCHARGE = "set_discharge"
SET_CHARGE = "set_charge"
SET_CUTOFF_WHEN_NOT_LEASED = "set_cutoff_when_not_leased"
READ_BMS_PARAMETERS = "read_bms_parameters"
WRITE_BMS_PARAMETERS = "write_bms_parameters"
REBOOT_BMS = "reboot_bms"
LOCATE = "locate"
SET_REPORTING = "set_reporting"

BMS_PARAMETER_NAMES = (*JBD_PARAMETERS, "remaining_capacity_alarm_percent")
REPORTING_LIMITS_S = {
    "report_interval_s": (1.0, 3600.0),
    "upload_interval_s": (0.0, 3600.0),
    "status_interval_s": (10.0, 86_400.0),
}


class CommandError(PayloadError):
    """A command the catalogue does not allow; ``field`` names the offending argument."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CommandType:
    """One command type: what it does and how its arguments are checked."""

    name: str
    summary: str
    check: Callable[[Mapping[str, Any]], dict[str, Any]]


def _only(args: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(args) - allowed)
    if extra:
        known = ", ".join(sorted(allowed)) or "none"
        raise CommandError(f"unknown argument {extra[0]!r} (allowed: {known})", f"args.{extra[0]}")


def _bool(args: Mapping[str, Any], name: str, default: bool | None = None) -> bool:
    value = args.get(name, default)
    if not isinstance(value, bool):
        what = "missing" if name not in args else f"got {value!r}"
        raise CommandError(f"{name}: expected true or false, {what}", f"args.{name}")
    return value


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CommandError(f"{name}: expected a number, got {value!r}", f"args.{name}")
    return float(value)


def _switch(
    flag: str, extra: tuple[str, ...] = ()
) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    def check(args: Mapping[str, Any]) -> dict[str, Any]:
        _only(args, {flag, *extra})
        out: dict[str, Any] = {flag: _bool(args, flag)}
        for name in extra:
            out[name] = _bool(args, name, False)
        return out

    return check


def _no_args(args: Mapping[str, Any]) -> dict[str, Any]:
    _only(args, set())
    return {}


def _read_parameters(args: Mapping[str, Any]) -> dict[str, Any]:
    _only(args, {"names"})
    names = args.get("names", list(BMS_PARAMETER_NAMES))
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise CommandError("names: expected a non-empty list of parameter names", "args.names")
    for name in names:
        _known_parameter(name, "args.names")
    return {"names": list(dict.fromkeys(names))}


def _write_parameters(args: Mapping[str, Any]) -> dict[str, Any]:
    _only(args, {"values"})
    values = args.get("values")
    if not isinstance(values, Mapping) or not values:
        raise CommandError("values: expected an object of parameter name -> value", "args.values")
    out = {}
    for name, value in values.items():
        _known_parameter(name, f"args.values.{name}")
        number = _number(f"values.{name}", value)
        if name in JBD_PARAMETERS:
            low, high = JBD_PARAMETERS[name].value_range
            if not low <= number <= high:
                raise CommandError(
                    f"values.{name}: {number:g} is outside {low:g}..{high:g}", f"args.values.{name}"
                )
        elif not 0 <= number <= 100:
            raise CommandError(
                f"values.{name}: expected 0..100, got {number:g}", f"args.values.{name}"
            )
        out[name] = number
    return {"values": out}


def _known_parameter(name: str, field: str) -> None:
    if name not in BMS_PARAMETER_NAMES:
        raise CommandError(
            f"unknown BMS parameter {name!r} (known: {', '.join(BMS_PARAMETER_NAMES)})", field
        )


def _reporting(args: Mapping[str, Any]) -> dict[str, Any]:
    _only(args, set(REPORTING_LIMITS_S))
    if not args:
        raise CommandError(f"expected at least one of {', '.join(REPORTING_LIMITS_S)}", "args")
    out = {}
    for name, value in args.items():
        number = _number(name, value)
        low, high = REPORTING_LIMITS_S[name]
        if not low <= number <= high:
            raise CommandError(
                f"{name}: expected {low:g}..{high:g} s, got {number:g}", f"args.{name}"
            )
        out[name] = number
    return out


COMMAND_TYPES: dict[str, CommandType] = {
    spec.name: spec
    for spec in (
        CommandType(
            SET_DISCHARGE,
            "Switch the discharge MOSFET on or off. Off waits until the vehicle stands still"
            " unless emergency is true.",
            _switch("on", ("emergency",)),
        ),
        CommandType(SET_CHARGE, "Switch the charge MOSFET on or off.", _switch("on")),
        CommandType(
            SET_CUTOFF_WHEN_NOT_LEASED,
            "Enable or disable the device's own cut-off when the pack is not leased.",
            _switch("enabled"),
        ),
        CommandType(READ_BMS_PARAMETERS, "Read BMS protection parameters.", _read_parameters),
        CommandType(
            WRITE_BMS_PARAMETERS,
            "Write BMS protection parameters (read back after writing).",
            _write_parameters,
        ),
        CommandType(REBOOT_BMS, "Restart the BMS.", _no_args),
        CommandType(LOCATE, "Report the position now.", _no_args),
        CommandType(SET_REPORTING, "Change the reporting intervals.", _reporting),
    )
}


def check_command(command_type: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The normalised ``args`` of a valid command; CommandError says what is wrong."""
    spec = COMMAND_TYPES.get(command_type)
    if spec is None:
        known = ", ".join(COMMAND_TYPES)
        raise CommandError(f"unknown command type {command_type!r} (known: {known})", "type")
    if not isinstance(args, Mapping):
        raise CommandError(f"args: expected an object, got {args!r}", "args")
    return spec.check(args)
