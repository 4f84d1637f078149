"""EEPROM protection parameters and the factory-mode session that reads or writes them.

Parameter registers answer only inside factory mode: write 0x56 0x78 to register 0x00 to
enter; write register 0x01 to leave, with 0x28 0x28 to store the edited values in EEPROM
(which also clears the protection counters) or 0x00 0x00 to leave without storing. Outside
factory mode the BMS answers parameter reads and writes with status 0x80.

Every parameter is one 16-bit big-endian word. Temperatures are stored in 0.1 K;
currents are signed 10 mA, the discharge over-current threshold as a negative number
(our API takes and gives its magnitude). JBD has no remaining-capacity alarm in EEPROM:
its capacity registers (0x12, 0x13, 0x32..0x35) are open-circuit voltages for the SOC
estimate, so a low-SOC alarm belongs to the host.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from protocols.jbd.errors import JbdPayloadError, JbdUnknownRegisterError
from protocols.jbd.frame import Request, Response
from protocols.jbd.registers import KELVIN_OFFSET, Register, payload_of

FACTORY_MODE_KEY = b"\x56\x78"
EXIT_AND_SAVE = b"\x28\x28"
EXIT_WITHOUT_SAVING = b"\x00\x00"


@dataclass(frozen=True, slots=True)
class Parameter:
    """One EEPROM parameter: ``value = sign * (raw - offset) / divisor`` in ``unit``.

    ``raw_low..raw_high`` is what we agree to write (as a signed number when ``signed``).
    """

    name: str
    register: int
    unit: str
    divisor: int
    signed: bool = False
    negated: bool = False
    offset: int = 0
    raw_low: int = 0
    raw_high: int = 0xFFFF

    @property
    def value_range(self) -> tuple[float, float]:
        """The lowest and highest value ``to_raw`` accepts, in ``unit``."""
        ends = sorted((self._value(self.raw_low), self._value(self.raw_high)))
        return ends[0], ends[1]

    def _value(self, raw: int) -> float:
        # + 0.0 turns the -0.0 of a negated zero into 0.0
        return (-1 if self.negated else 1) * (raw - self.offset) / self.divisor + 0.0

    def from_raw(self, word: int) -> float:
        """Our units from the 16-bit word the BMS stores."""
        raw = word - 0x10000 if self.signed and word & 0x8000 else word
        return self._value(raw)

    def to_raw(self, value: float) -> int:
        """The 16-bit word for ``value``; raises JbdPayloadError when out of range."""
        low, high = self.value_range
        if not math.isfinite(value) or not low <= value <= high:
            raise JbdPayloadError(
                f"JBD parameter {self.name}: {value} {self.unit} is outside "
                f"{low:g}..{high:g} {self.unit}"
            )
        raw = (-1 if self.negated else 1) * round(value * self.divisor) + self.offset
        raw = min(max(raw, self.raw_low), self.raw_high)  # a rounding hair over an end
        return raw & 0xFFFF

    def encode(self, value: float) -> bytes:
        """The two data bytes of a write."""
        return self.to_raw(value).to_bytes(2, "big")

    def decode(self, data: bytes) -> float:
        """Our units from the two data bytes of a read answer or a write."""
        if len(data) != 2:
            raise JbdPayloadError(f"JBD parameter {self.name}: {len(data)} data bytes, expected 2")
        return self.from_raw(int.from_bytes(data, "big"))


def _volts(name: str, register: int, millivolts_per_count: int) -> Parameter:
    return Parameter(name, register, "V", 1000 // millivolts_per_count)


def _celsius(name: str, register: int) -> Parameter:
    return Parameter(name, register, "°C", 10, offset=KELVIN_OFFSET)


_TABLE = (
    Parameter("design_capacity_ah", 0x10, "Ah", 100),
    Parameter("cycle_capacity_ah", 0x11, "Ah", 100),
    _celsius("charge_over_temperature_c", 0x18),
    _celsius("charge_over_temperature_release_c", 0x19),
    _celsius("charge_under_temperature_c", 0x1A),
    _celsius("charge_under_temperature_release_c", 0x1B),
    _celsius("discharge_over_temperature_c", 0x1C),
    _celsius("discharge_over_temperature_release_c", 0x1D),
    _celsius("discharge_under_temperature_c", 0x1E),
    _celsius("discharge_under_temperature_release_c", 0x1F),
    _volts("pack_over_voltage_v", 0x20, 10),
    _volts("pack_over_voltage_release_v", 0x21, 10),
    _volts("pack_under_voltage_v", 0x22, 10),
    _volts("pack_under_voltage_release_v", 0x23, 10),
    _volts("cell_over_voltage_v", 0x24, 1),
    _volts("cell_over_voltage_release_v", 0x25, 1),
    _volts("cell_under_voltage_v", 0x26, 1),
    _volts("cell_under_voltage_release_v", 0x27, 1),
    Parameter("charge_over_current_a", 0x28, "A", 100, signed=True, raw_high=0x7FFF),
    Parameter(
        "discharge_over_current_a",
        0x29,
        "A",
        100,
        signed=True,
        negated=True,
        raw_low=-0x8000,
        raw_high=0,
    ),
)
PARAMETERS: dict[str, Parameter] = {parameter.name: parameter for parameter in _TABLE}
PARAMETERS_BY_REGISTER: dict[int, Parameter] = {p.register: p for p in _TABLE}


def get_parameter(name: str) -> Parameter:
    """The parameter called ``name``; JbdUnknownRegisterError lists the known names."""
    try:
        return PARAMETERS[name]
    except KeyError:
        raise JbdUnknownRegisterError(
            f"JBD parameter: unknown name {name!r}; known: {', '.join(PARAMETERS)}"
        ) from None


def parameter_at(register: int) -> Parameter:
    """The parameter stored in ``register``."""
    try:
        return PARAMETERS_BY_REGISTER[register]
    except KeyError:
        raise JbdUnknownRegisterError(
            f"JBD parameter: register 0x{register:02X} is not in the parameter table"
        ) from None


def enter_factory_mode_request() -> bytes:
    """``DD 5A 00 02 56 78 FF 30 77``: opens the parameter registers."""
    return Request.write(Register.ENTER_FACTORY_MODE, FACTORY_MODE_KEY).to_bytes()


def exit_factory_mode_request(save: bool) -> bytes:
    """The frame leaving factory mode, storing the edited parameters in EEPROM when
    ``save`` (``DD 5A 01 02 28 28 FF AD 77``)."""
    data = EXIT_AND_SAVE if save else EXIT_WITHOUT_SAVING
    return Request.write(Register.EXIT_FACTORY_MODE, data).to_bytes()


def parameter_read_request(name: str) -> bytes:
    """The frame reading one parameter (inside factory mode)."""
    return Request.read(get_parameter(name).register).to_bytes()


def parameter_write_request(name: str, value: float) -> bytes:
    """The frame writing one parameter (inside factory mode), ``value`` in our units,
    range-checked."""
    parameter = get_parameter(name)
    return Request.write(parameter.register, parameter.encode(value)).to_bytes()


def _as_request(request: bytes | Request) -> Request:
    return request if isinstance(request, Request) else Request.from_bytes(request)


def decode_parameter_response(response: Response) -> tuple[str, float]:
    """``(name, value)`` from the ok answer to a parameter read."""
    parameter = parameter_at(response.register)
    return parameter.name, parameter.decode(payload_of(response, parameter.register))


def decode_parameter_write(request: bytes | Request) -> tuple[str, float]:
    """``(name, value)`` a parameter write request (a frame or a Request) carries."""
    request = _as_request(request)
    parameter = parameter_at(request.register)
    return parameter.name, parameter.decode(request.data)


def write_parameters_requests(values: Mapping[str, float]) -> tuple[bytes, ...]:
    """The frames to send, in order: enter factory mode, write each value, leave saving.
    Every value is checked before any frame is returned, so a bad one never leaves the
    BMS half-configured."""
    writes = [parameter_write_request(name, value) for name, value in values.items()]
    return (enter_factory_mode_request(), *writes, exit_factory_mode_request(save=True))


def read_parameters_requests(names: Iterable[str]) -> tuple[bytes, ...]:
    """The frames to send, in order: enter factory mode, read each parameter, leave
    without saving."""
    reads = [parameter_read_request(name) for name in names]
    return (enter_factory_mode_request(), *reads, exit_factory_mode_request(save=False))


def check_answer(request: bytes | Request, response: Response) -> bytes:
    """The data of the answer to ``request`` (a frame or a Request): raises JbdStatusError
    when the BMS refused it (status 0x80) and JbdPayloadError when the answer is from
    another register."""
    return payload_of(response, _as_request(request).register)
