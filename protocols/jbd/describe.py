"""One frame, explained: what ``voltrent decode jbd HEX`` prints."""

from __future__ import annotations

from typing import Any

from protocols.jbd.errors import JbdPayloadError
from protocols.jbd.frame import Mode, Request, Response, parse_frame
from protocols.jbd.parameters import (
    EXIT_AND_SAVE,
    EXIT_WITHOUT_SAVING,
    PARAMETERS_BY_REGISTER,
)
from protocols.jbd.payloads import PAYLOAD_TYPES
from protocols.jbd.registers import Register, decode_mosfet_control


def register_name(register: int) -> str | None:
    """Our name for a register: ``basic_info``, ``cell_over_voltage_v``, ... or None."""
    if register in Register._value2member_map_:
        return Register(register).name.lower()
    parameter = PARAMETERS_BY_REGISTER.get(register)
    return parameter.name if parameter is not None else None


def _parameter(register: int, data: bytes) -> dict[str, Any]:
    parameter = PARAMETERS_BY_REGISTER[register]
    return {"parameter": parameter.name, "value": parameter.decode(data), "unit": parameter.unit}


def _request_payload(request: Request) -> dict[str, Any] | None:
    if request.mode == Mode.READ:
        return None
    register, data = request.register, request.data
    if register == Register.MOSFET_CONTROL:
        charge_on, discharge_on = decode_mosfet_control(data)
        return {"charge_on": charge_on, "discharge_on": discharge_on}
    if register == Register.ENTER_FACTORY_MODE:
        return {"factory_mode": "enter", "key": data.hex()}
    if register == Register.EXIT_FACTORY_MODE:
        if data not in (EXIT_AND_SAVE, EXIT_WITHOUT_SAVING):
            raise JbdPayloadError(
                f"JBD exit factory mode: data {data.hex(' ').upper() or 'empty'}, "
                f"expected 28 28 (save) or 00 00 (leave without saving)"
            )
        return {"factory_mode": "exit", "save": data == EXIT_AND_SAVE}
    if register in PARAMETERS_BY_REGISTER:
        return _parameter(register, data)
    return None


def _response_payload(response: Response) -> dict[str, Any] | None:
    if not response.ok:
        return None
    payload_type = PAYLOAD_TYPES.get(response.register)
    if payload_type is not None:
        return payload_type.from_bytes(response.data).to_dict()
    if response.register in PARAMETERS_BY_REGISTER and response.data:
        return _parameter(response.register, response.data)
    return None  # write acknowledgements carry no data


def describe(frame: bytes) -> dict[str, Any]:
    """Decode one complete frame, request or response (told apart by byte 1 being 0xA5 or
    0x5A), into a JSON-ready dict with the register's payload decoded where known.

    Raises the codec's errors, each saying what is wrong with the bytes.
    """
    parsed = parse_frame(frame)
    document = parsed.to_dict()
    document["register_name"] = register_name(parsed.register)
    document["length"] = len(parsed.data)
    document["checksum"] = f"0x{int.from_bytes(bytes(frame[-3:-1]), 'big'):04X}"
    if isinstance(parsed, Request):
        document["payload"] = _request_payload(parsed)
    else:
        document["payload"] = _response_payload(parsed)
    return document
