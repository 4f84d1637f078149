"""JBD EEPROM parameters: the table, the factory-mode session, range checks, round trips."""

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.jbd import (
    PARAMETERS,
    JbdPayloadError,
    JbdStatusError,
    JbdUnknownRegisterError,
    Request,
    Response,
    check_answer,
    decode_parameter_response,
    decode_parameter_write,
    describe,
    enter_factory_mode_request,
    exit_factory_mode_request,
    get_parameter,
    parameter_read_request,
    parameter_write_request,
    read_parameters_requests,
    write_parameters_requests,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# name, value in our units, write request frame, the BMS's answer to a read of it
PARAMETER_CASES = [
    ("cell_over_voltage_v", 3.65, "DD 5A 24 02 0E 42 FF 8A 77", "DD 24 00 02 0E 42 FF AE 77"),
    ("discharge_over_current_a", 100.0, "DD 5A 29 02 D8 F0 FE 0D 77", "DD 29 00 02 D8 F0 FE 36 77"),
    ("charge_over_temperature_c", 55.0, "DD 5A 18 02 0C D1 FF 09 77", "DD 18 00 02 0C D1 FF 21 77"),
    (
        "charge_under_temperature_c",
        -5.0,
        "DD 5A 1A 02 0A 79 FF 61 77",
        "DD 1A 00 02 0A 79 FF 7B 77",
    ),
    ("pack_over_voltage_v", 58.4, "DD 5A 20 02 16 D0 FE F8 77", "DD 20 00 02 16 D0 FF 18 77"),
    ("design_capacity_ah", 100.0, "DD 5A 10 02 27 10 FF B7 77", "DD 10 00 02 27 10 FF C7 77"),
]


@pytest.mark.parametrize(("name", "value", "write", "answer"), PARAMETER_CASES)
def test_parameter_table(name, value, write, answer):
    assert parameter_write_request(name, value) == h(write)
    assert decode_parameter_write(h(write)) == (name, value)
    assert decode_parameter_response(Response.from_bytes(h(answer))) == (name, value)
    register = Request.from_bytes(h(write)).register
    assert parameter_read_request(name) == Request.read(register).to_bytes()
    assert describe(h(write))["payload"] == {
        "parameter": name,
        "value": value,
        "unit": get_parameter(name).unit,
    }


def test_table_names_and_registers():
    expected = {
        "design_capacity_ah": 0x10,
        "cycle_capacity_ah": 0x11,
        "charge_over_temperature_c": 0x18,
        "charge_over_temperature_release_c": 0x19,
        "charge_under_temperature_c": 0x1A,
        "charge_under_temperature_release_c": 0x1B,
        "discharge_over_temperature_c": 0x1C,
        "discharge_over_temperature_release_c": 0x1D,
        "discharge_under_temperature_c": 0x1E,
        "discharge_under_temperature_release_c": 0x1F,
        "pack_over_voltage_v": 0x20,
        "pack_over_voltage_release_v": 0x21,
        "pack_under_voltage_v": 0x22,
        "pack_under_voltage_release_v": 0x23,
        "cell_over_voltage_v": 0x24,
        "cell_over_voltage_release_v": 0x25,
        "cell_under_voltage_v": 0x26,
        "cell_under_voltage_release_v": 0x27,
        "charge_over_current_a": 0x28,
        "discharge_over_current_a": 0x29,
    }
    assert {name: p.register for name, p in PARAMETERS.items()} == expected


def test_factory_mode_requests():
    assert enter_factory_mode_request() == h("DD 5A 00 02 56 78 FF 30 77")
    assert exit_factory_mode_request(save=True) == h("DD 5A 01 02 28 28 FF AD 77")
    assert exit_factory_mode_request(save=False) == h("DD 5A 01 02 00 00 FF FD 77")


def test_write_sequence():
    sequence = write_parameters_requests({"cell_over_voltage_v": 3.65, "pack_over_voltage_v": 58.4})
    assert list(sequence) == [
        h("DD 5A 00 02 56 78 FF 30 77"),
        h("DD 5A 24 02 0E 42 FF 8A 77"),
        h("DD 5A 20 02 16 D0 FE F8 77"),
        h("DD 5A 01 02 28 28 FF AD 77"),
    ]


def test_write_sequence_checks_every_value_first():
    with pytest.raises(
        JbdPayloadError, match=re.escape("cell_under_voltage_v: 99 V is outside 0..65.535 V")
    ):
        write_parameters_requests({"cell_over_voltage_v": 3.65, "cell_under_voltage_v": 99})


def test_read_sequence_leaves_without_saving():
    sequence = read_parameters_requests(["cell_over_voltage_v", "design_capacity_ah"])
    assert [Request.from_bytes(frame) for frame in sequence] == [
        Request.write(0x00, h("56 78")),
        Request.read(0x24),
        Request.read(0x10),
        Request.write(0x01, h("00 00")),
    ]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("discharge_over_current_a", -5.0, "-5.0 A is outside 0..327.68 A"),
        ("charge_over_current_a", 400.0, "400.0 A is outside 0..327.67 A"),
        ("charge_over_temperature_c", -300.0, "-300.0 °C is outside -273.1..6280.4 °C"),
        ("design_capacity_ah", math.inf, "inf Ah is outside 0..655.35 Ah"),
    ],
)
def test_range_errors(name, value, message):
    with pytest.raises(JbdPayloadError, match=re.escape(message)):
        parameter_write_request(name, value)


def test_unknown_names_and_registers():
    with pytest.raises(JbdUnknownRegisterError, match="unknown name 'cell_over_volts'; known: "):
        parameter_write_request("cell_over_volts", 3.6)
    with pytest.raises(KeyError):  # also a KeyError, as a lookup miss should be
        get_parameter("nope")
    with pytest.raises(JbdUnknownRegisterError, match="register 0x03 is not in the parameter"):
        decode_parameter_response(Response(0x03, data=h("00 00")))


def test_answers_checked():
    read = parameter_read_request("cell_over_voltage_v")
    assert check_answer(read, Response(0x24, data=h("0E 42"))) == h("0E 42")
    assert check_answer(Request.from_bytes(read), Response(0x24, data=h("0E 42"))) == h("0E 42")
    with pytest.raises(JbdStatusError, match="register 0x24 answered with error status 0x80"):
        check_answer(read, Response(0x24, 0x80))
    with pytest.raises(JbdPayloadError, match="register 0x25, expected 0x24"):
        check_answer(read, Response(0x25))
    with pytest.raises(JbdPayloadError, match="cell_over_voltage_v: 3 data bytes, expected 2"):
        decode_parameter_response(Response(0x24, data=h("0E 42 00")))


@given(st.sampled_from(sorted(PARAMETERS)), st.data())
def test_parameter_round_trip(name, data):
    parameter = PARAMETERS[name]
    raw = data.draw(st.integers(parameter.raw_low, parameter.raw_high))
    value = parameter.from_raw(raw & 0xFFFF)
    low, high = parameter.value_range
    assert low <= value <= high
    request = Request.from_bytes(parameter_write_request(name, value))
    assert int.from_bytes(request.data, "big") == raw & 0xFFFF
    assert decode_parameter_write(request) == (name, value)
    answer = Response(parameter.register, data=request.data)
    assert decode_parameter_response(Response.from_bytes(answer.to_bytes())) == (name, value)
