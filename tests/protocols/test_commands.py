"""The command catalogue: every type's arguments, normalised or refused with the field."""

from __future__ import annotations

import pytest

from protocols.contract.commands import COMMAND_TYPES, CommandError, check_command

GOOD = [
    ("set_discharge", {"on": False}, {"on": False, "emergency": False}),
    ("set_discharge", {"on": False, "emergency": True}, {"on": False, "emergency": True}),
    ("set_charge", {"on": True}, {"on": True}),
    ("set_cutoff_when_not_leased", {"enabled": True}, {"enabled": True}),
    ("read_bms_parameters", {"names": ["cell_over_voltage_v"]}, {"names": ["cell_over_voltage_v"]}),
    (
        "write_bms_parameters",
        {"values": {"cell_over_voltage_v": 3.65, "remaining_capacity_alarm_percent": 10}},
        {"values": {"cell_over_voltage_v": 3.65, "remaining_capacity_alarm_percent": 10.0}},
    ),
    ("reboot_bms", {}, {}),
    ("locate", {}, {}),
    ("set_reporting", {"report_interval_s": 5}, {"report_interval_s": 5.0}),
]

BAD = [
    ("self_destruct", {}, "type", "unknown command type 'self_destruct'"),
    ("set_discharge", {}, "args.on", "on: expected true or false, missing"),
    ("set_discharge", {"on": "off"}, "args.on", "got 'off'"),
    ("set_discharge", {"on": False, "force": 1}, "args.force", "unknown argument 'force'"),
    ("read_bms_parameters", {"names": []}, "args.names", "non-empty list"),
    ("read_bms_parameters", {"names": ["colour"]}, "args.names", "unknown BMS parameter 'colour'"),
    ("write_bms_parameters", {}, "args.values", "expected an object"),
    (
        "write_bms_parameters",
        {"values": {"cell_over_voltage_v": 99}},
        "args.values.cell_over_voltage_v",
        "99 is outside",
    ),
    (
        "write_bms_parameters",
        {"values": {"cell_over_voltage_v": True}},
        "args.values.cell_over_voltage_v",
        "expected a number",
    ),
    ("set_reporting", {}, "args", "at least one"),
    ("set_reporting", {"report_interval_s": 0}, "args.report_interval_s", "expected 1..3600"),
    ("locate", {"now": True}, "args.now", "allowed: none"),
]


@pytest.mark.parametrize(("command_type", "args", "expected"), GOOD)
def test_valid_commands_are_normalised(command_type, args, expected):
    assert check_command(command_type, args) == expected


@pytest.mark.parametrize(("command_type", "args", "field", "message"), BAD)
def test_invalid_commands_name_the_field(command_type, args, field, message):
    with pytest.raises(CommandError, match=message) as caught:
        check_command(command_type, args)
    assert caught.value.field == field


def test_every_type_has_a_summary():
    assert all(spec.summary for spec in COMMAND_TYPES.values())
