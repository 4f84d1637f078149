"""Register numbers, protection bit names, unit conversions shared by the payloads and
parameters, and the requests for the data registers and MOSFET control (0xE1)."""

from __future__ import annotations

import math
from enum import IntEnum

from protocols.jbd.errors import JbdPayloadError, JbdStatusError
from protocols.jbd.frame import Request, Response


class Register(IntEnum):
    """Registers with a fixed meaning (parameter registers live in parameters.py)."""

    ENTER_FACTORY_MODE = 0x00
    EXIT_FACTORY_MODE = 0x01
    BASIC_INFO = 0x03
    CELL_VOLTAGES = 0x04
    HARDWARE_VERSION = 0x05
    MOSFET_CONTROL = 0xE1


# Bit 0 upward of the protection word in basic info.
PROTECTION_NAMES: tuple[str, ...] = (
    "cell_over_voltage",
    "cell_under_voltage",
    "pack_over_voltage",
    "pack_under_voltage",
    "charge_over_temperature",
    "charge_under_temperature",
    "discharge_over_temperature",
    "discharge_under_temperature",
    "charge_over_current",
    "discharge_over_current",
    "short_circuit",
    "front_end_ic_error",
    "mosfet_software_lock",
)
# Undocumented bits keep a name so nothing the BMS reports is lost.
PROTECTION_BITS: dict[str, int] = {
    **{f"protection_bit_{bit}": bit for bit in range(len(PROTECTION_NAMES), 16)},
    **{name: bit for bit, name in enumerate(PROTECTION_NAMES)},
}
KELVIN_OFFSET = 2731  # temperatures travel in 0.1 K


def payload_of(response: Response, register: int) -> bytes:
    """The data of an ok response from ``register``; explains an error status or a
    response from another register."""
    if response.register != register:
        raise JbdPayloadError(
            f"JBD response: register 0x{response.register:02X}, expected 0x{register:02X}"
        )
    if not response.ok:
        raise JbdStatusError(
            f"JBD response: register 0x{register:02X} answered with error status "
            f"0x{response.status:02X}"
        )
    return response.data


def scaled_to_raw(what: str, value: float, divisor: int, low: int, high: int) -> int:
    """``round(value * divisor)`` checked against ``low..high``, with an explaining error."""
    if not math.isfinite(value):
        raise JbdPayloadError(f"JBD {what}: {value} is not a finite number")
    raw = round(value * divisor)
    if not low <= raw <= high:
        raise JbdPayloadError(
            f"JBD {what}: {value} is outside {low / divisor:g}..{high / divisor:g}"
        )
    return raw


def temperature_to_raw(what: str, celsius: float) -> int:
    """Degrees Celsius to JBD's 0.1 K, checked against the 16-bit range."""
    low, high = -KELVIN_OFFSET, 0xFFFF - KELVIN_OFFSET
    return scaled_to_raw(what, celsius, 10, low, high) + KELVIN_OFFSET


def temperature_from_raw(raw: int) -> float:
    """JBD's 0.1 K to degrees Celsius."""
    return (raw - KELVIN_OFFSET) / 10


def read_request(register: int) -> bytes:
    """The frame reading a register (0x03, 0x04, 0x05 or a parameter register)."""
    return Request.read(register).to_bytes()


def basic_info_request() -> bytes:
    """``DD A5 03 00 FF FD 77``."""
    return read_request(Register.BASIC_INFO)


def cell_voltages_request() -> bytes:
    """``DD A5 04 00 FF FC 77``."""
    return read_request(Register.CELL_VOLTAGES)


def hardware_version_request() -> bytes:
    """``DD A5 05 00 FF FB 77``."""
    return read_request(Register.HARDWARE_VERSION)


def mosfet_control_request(charge_on: bool, discharge_on: bool) -> bytes:
    """The frame writing 0xE1: data ``00 X``, bit 0 of X switches charge OFF, bit 1
    discharge OFF."""
    off_bits = (0 if charge_on else 0x01) | (0 if discharge_on else 0x02)
    return Request.write(Register.MOSFET_CONTROL, bytes((0x00, off_bits))).to_bytes()


def decode_mosfet_control(data: bytes) -> tuple[bool, bool]:
    """``(charge_on, discharge_on)`` from the data of a 0xE1 write."""
    if len(data) != 2 or data[0] != 0 or data[1] > 0x03:
        raise JbdPayloadError(
            f"JBD MOSFET control: data {bytes(data).hex(' ').upper() or 'empty'}, "
            f"expected 00 00..00 03"
        )
    return not data[1] & 0x01, not data[1] & 0x02
