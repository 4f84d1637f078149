"""CAN codec: the shipped DBC, a user DBC, captured frames, candump text, round trips."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.canbus import (
    DEFAULT_DBC,
    CanCodec,
    CanDbcError,
    CanFrameError,
    CanMessage,
    CanSignalError,
    UnknownCanIdError,
    UnknownCanMessageError,
    describe,
    parse_candump,
)
from protocols.errors import FrameError, PayloadError, UnknownMessageError

DATA = Path(__file__).parent.parent / "data" / "can"
LEV = CanCodec()
SCOOTER = CanCodec(DATA / "escooter.dbc")

# captured frames (tests/data/can/lev_ride.log) and what they mean, written out by hand
FRAMES = {
    "101#300C920967FF5407": (
        "MotorStatus",
        {
            "motor_rpm": 3120,
            "vehicle_speed": 24.5,
            "phase_current": -15.3,
            "throttle": 42.0,
            "message_counter": 7,
        },
    ),
    "102#5566060288FF0200": (
        "ControllerStatus",
        {
            "controller_temperature": 45,
            "motor_temperature": 62,
            "bus_voltage": 51.8,
            "bus_current": -12.0,
            "drive_mode": 2,
            "reverse": 0,
        },
    ),
    "103#2001": (
        "MotorFaults",
        {
            "over_current": 0,
            "over_voltage": 0,
            "under_voltage": 0,
            "controller_over_temperature": 0,
            "motor_over_temperature": 0,
            "hall_sensor_fault": 1,
            "throttle_fault": 0,
            "motor_stalled": 0,
            "brake_active": 1,
        },
    ),
    "201#72148AFF9903C200": (
        "BmsStatus",
        {
            "pack_voltage": 52.34,
            "pack_current": -11.8,
            "soc": 76.5,
            "charge_mosfet_on": 1,
            "discharge_mosfet_on": 1,
            "charger_connected": 0,
            "balancing_active": 0,
            "soh": 97.0,
        },
    ),
    "202#9E0E720E4743050C": (
        "BmsCellStatus",
        {
            "max_cell_voltage": 3.742,
            "min_cell_voltage": 3.698,
            "max_temperature": 31,
            "min_temperature": 27,
            "max_cell_number": 5,
            "min_cell_number": 12,
        },
    ),
    "203#2000": (
        "BmsProtection",
        {
            "cell_over_voltage": 0,
            "cell_under_voltage": 0,
            "pack_over_voltage": 0,
            "pack_under_voltage": 0,
            "charge_over_current": 0,
            "discharge_over_current": 1,
            "short_circuit": 0,
            "charge_over_temperature": 0,
            "charge_under_temperature": 0,
            "discharge_over_temperature": 0,
            "discharge_under_temperature": 0,
            "mosfet_fault": 0,
        },
    ),
}


def assert_signals(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for name, value in expected.items():
        assert math.isclose(actual[name], value, abs_tol=1e-9), (name, actual[name], value)


def test_default_dbc_describes_the_light_ev_bus() -> None:
    assert DEFAULT_DBC.name == "voltrent_lev.dbc" and DEFAULT_DBC.is_file()
    names = {info.name for info in LEV.messages}
    assert names == {name for name, _ in FRAMES.values()}
    assert all(not info.is_extended and info.arbitration_id <= 0x7FF for info in LEV.messages)
    frames_per_second = sum(1000 / info.cycle_time_ms for info in LEV.messages)
    assert 90 <= frames_per_second <= 110
    for info in LEV.messages:
        for signal in info.signals:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", signal.name), signal.name
    all_names = [s.name for info in LEV.messages for s in info.signals]
    assert len(all_names) == len(set(all_names))  # unique bus-wide: the agent flattens them
    units = {s.name: s.unit for info in LEV.messages for s in info.signals}
    assert units["vehicle_speed"] == "km/h" and units["pack_current"] == "A"
    assert units["soc"] == "%" and units["motor_temperature"] == "degC"


# -- one table, both directions; excess bytes (a DLC above the DBC length) are ignored
@pytest.mark.parametrize("text", FRAMES)
def test_captured_frames_decode(text: str) -> None:
    name, signals = FRAMES[text]
    arbitration_id, data, is_extended = parse_candump(text)
    decoded = LEV.decode(arbitration_id, data, is_extended)
    assert (decoded.name, decoded.arbitration_id) == (name, arbitration_id)
    assert_signals(decoded.signals, signals)
    padded = LEV.decode(arbitration_id, data + b"\xaa" * (8 - len(data)), is_extended)
    assert_signals(padded.signals, signals)


@pytest.mark.parametrize("text", FRAMES)
def test_encoder_from_the_same_table(text: str) -> None:
    name, signals = FRAMES[text]
    arbitration_id, data, _ = parse_candump(text)
    assert LEV.encode(name, signals) == (arbitration_id, data)


def test_capture_log_decodes_with_explained_failures() -> None:
    outcomes = []
    for line in (DATA / "lev_ride.log").read_text().splitlines():
        arbitration_id, data, is_extended = parse_candump(line.split()[2])
        try:
            outcomes.append(LEV.decode(arbitration_id, data, is_extended).name)
        except (UnknownCanIdError, CanFrameError) as err:
            outcomes.append(str(err))
    assert outcomes == [
        "MotorStatus",
        "BmsStatus",
        "MotorStatus",
        "ControllerStatus",
        "MotorFaults",
        "BmsCellStatus",
        "CAN 0x7DF: not in voltrent_lev.dbc",
        "CAN 0x101 MotorStatus: 3 data bytes, DBC says 8",
        "BmsProtection",
    ]


def signal_values(codec: CanCodec, name: str):
    """Any physical value each signal of ``name`` can carry: a raw integer in range."""
    message = codec.database.get_message_by_name(name)
    values = {}
    for signal in message.signals:
        scale, offset = signal.conversion.scale, signal.conversion.offset
        low = math.ceil((signal.minimum - offset) / scale - 1e-9)
        high = math.floor((signal.maximum - offset) / scale + 1e-9)
        values[signal.name] = st.integers(low, high).map(lambda raw, s=scale, o=offset: raw * s + o)
    return st.fixed_dictionaries(values)


@pytest.mark.parametrize("codec", [LEV, SCOOTER], ids=["lev", "escooter"])
@given(data=st.data())
def test_every_message_round_trips(codec: CanCodec, data) -> None:
    for info in codec.messages:
        signals = data.draw(signal_values(codec, info.name))
        arbitration_id, payload = codec.encode(info.name, signals)
        assert len(payload) == info.length
        decoded = codec.decode(arbitration_id, payload, info.is_extended)
        assert decoded == CanMessage(info.name, arbitration_id, decoded.signals)
        for name, value in signals.items():
            assert math.isclose(decoded.signals[name], value, rel_tol=1e-9, abs_tol=1e-9)


def test_user_dbc_with_extended_ids_and_big_endian_signals() -> None:
    charger = SCOOTER.message_info("ChargerStatus")
    assert (charger.arbitration_id, charger.is_extended, charger.cycle_time_ms) == (
        0x18FF50E5,
        True,
        None,
    )
    arbitration_id, data, is_extended = parse_candump("18FF50E5#0222002A01000000")
    assert is_extended
    decoded = SCOOTER.decode(arbitration_id, data, is_extended)
    assert_signals(
        decoded.signals, {"output_voltage": 54.6, "output_current": 4.2, "charger_state": 1}
    )
    with pytest.raises(UnknownCanIdError, match=r"0x18FF50E5: not in escooter\.dbc"):
        SCOOTER.decode(arbitration_id, data, is_extended=False)
    assert SCOOTER.encode("EscTelemetry", {"erpm": -20500, "duty": 0.42}) == (
        0x500,
        bytes.fromhex("ECAFFF2A"),
    )


def test_describe_for_the_cli() -> None:
    described = describe(None, "102#5566060288FF0200")
    assert described["name"] == "ControllerStatus"
    assert described["arbitration_id"] == "0x102" and described["is_extended"] is False
    assert described["units"]["bus_voltage"] == "V"
    assert described["labels"] == {"drive_mode": "normal"}
    assert described["signals"]["drive_mode"] == 2  # numbers stay numbers
    json.dumps(described)
    scooter = describe(DATA / "escooter.dbc", "18FF50E5#0222002A01000000")
    assert scooter["arbitration_id"] == "0x18FF50E5" and scooter["labels"] == {
        "charger_state": "charging"
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123#DEADBEEF", (0x123, bytes.fromhex("DEADBEEF"), False)),
        ("7ff#", (0x7FF, b"", False)),
        ("0CF11E05#11.22.33", (0x0CF11E05, b"\x11\x22\x33", True)),
        (" 101#0011223344556677 \n", (0x101, bytes.fromhex("0011223344556677"), False)),
    ],
)
def test_parse_candump(text, expected) -> None:
    assert parse_candump(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("123#R", "remote frames carry no data"),
        ("123##1DEADBEEF", "CAN FD frames are not supported"),
        ("1234#00", "expected ID#DATA with a 3 or 8 hex digit id"),
        ("800#00", "id 0x800 does not fit its id length"),
        ("3FFFFFFF#00", "does not fit its id length"),
        ("123#ABC", "is not whole hex bytes"),
        ("123#XY", "is not whole hex bytes"),
        ("123#000102030405060708", "9 data bytes, classic CAN carries 8"),
        ("DEADBEEF", "expected ID#DATA"),
    ],
)
def test_parse_candump_refuses(text, message) -> None:
    with pytest.raises(CanFrameError, match=message):
        parse_candump(text)


def test_decode_errors_explain() -> None:
    with pytest.raises(CanFrameError) as short:
        LEV.decode(0x101, b"\x01\x02\x03")
    assert str(short.value) == "CAN 0x101 MotorStatus: 3 data bytes, DBC says 8"
    assert isinstance(short.value, FrameError)
    with pytest.raises(UnknownCanIdError) as unknown:
        LEV.decode(0x555, bytes(8))
    assert str(unknown.value) == "CAN 0x555: not in voltrent_lev.dbc"
    assert isinstance(unknown.value, UnknownMessageError) and isinstance(unknown.value, KeyError)


@pytest.mark.parametrize(
    ("signals", "message"),
    [
        ({"motor_rpm": 1}, 'The signal "vehicle_speed" is required'),
        ({**FRAMES["101#300C920967FF5407"][1], "motor_rpm": 30000}, "smaller than or equal to"),
        ({**FRAMES["101#300C920967FF5407"][1], "throttle": -1}, "greater than or equal to 0"),
        ({**FRAMES["101#300C920967FF5407"][1], "torque": 1}, "torque"),
        ({**FRAMES["101#300C920967FF5407"][1], "throttle": "full"}, "throttle = 'full' is not"),
        ({**FRAMES["101#300C920967FF5407"][1], "throttle": float("nan")}, "CAN MotorStatus"),
    ],
)
def test_encode_errors_explain(signals, message) -> None:
    with pytest.raises(CanSignalError, match=message) as caught:
        LEV.encode("MotorStatus", signals)
    assert isinstance(caught.value, PayloadError)


def test_unknown_message_name() -> None:
    with pytest.raises(UnknownCanMessageError, match=r"'Horn': not in voltrent_lev\.dbc"):
        LEV.encode("Horn", {})


def test_dbc_errors_name_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(CanDbcError, match=r"broken\.dbc line 6, column \d+: invalid syntax"):
        CanCodec(DATA / "broken.dbc")
    with pytest.raises(CanDbcError, match=r"missing\.dbc: cannot read"):
        CanCodec(tmp_path / "missing.dbc")
