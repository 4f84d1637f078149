"""CAN frames <-> named signals in physical units, through a DBC file and cantools.

Sans-IO: ``CanCodec.decode(arbitration_id, data)`` takes what a CAN adapter received and
``encode(name, signals)`` gives the id and data to send. The default DBC describes the
light-EV bus VoltRent expects (motor controller and BMS broadcasts); any user DBC loads
the same way. Value tables (``VAL_``) are not applied: signals stay numbers, and
``describe`` adds their labels for people.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import cantools
import cantools.database
from cantools.database.errors import Error as CantoolsError
from cantools.database.errors import UnsupportedDatabaseFormatError

from protocols.canbus_message import CanMessage
from protocols.errors import FrameError, PayloadError, ProtocolError, UnknownMessageError

# schemas/ ships as package data; on disk in both a checkout and an installed wheel
DEFAULT_DBC = Path(str(resources.files("schemas").joinpath("dbc", "voltrent_lev.dbc")))
STANDARD_ID_MAX = 0x7FF
EXTENDED_ID_MAX = 0x1FFF_FFFF
_CANDUMP = re.compile(r"([0-9A-Fa-f]{3}|[0-9A-Fa-f]{8})#(.*)")


class CanError(ProtocolError):
    """A CAN frame or DBC the codec cannot accept."""


class CanDbcError(CanError):
    """A DBC file that cannot be read or parsed."""


class CanFrameError(CanError, FrameError):
    """A frame whose data does not fit its message (short data), or unparsable text."""


class CanSignalError(CanError, PayloadError):
    """Signal values that cannot be encoded: missing, unknown or out of range."""


class UnknownCanMessageError(CanError, UnknownMessageError):
    """A message name the DBC does not define."""


class UnknownCanIdError(UnknownCanMessageError):
    """An arbitration id the DBC does not define."""


@dataclass(frozen=True, slots=True)
class CanSignalInfo:
    """What the DBC says about one signal (unit, allowed physical range)."""

    name: str
    unit: str | None
    minimum: float | None
    maximum: float | None


@dataclass(frozen=True, slots=True)
class CanMessageInfo:
    """What the DBC says about one message; ``cycle_time_ms`` is None when not cyclic."""

    name: str
    arbitration_id: int
    is_extended: bool
    length: int
    cycle_time_ms: int | None
    signals: tuple[CanSignalInfo, ...]


def _load(path: Path) -> cantools.database.can.Database:
    try:
        database = cantools.database.load_file(path, database_format="dbc", strict=True)
    except OSError as err:
        raise CanDbcError(f"DBC {path}: cannot read: {err.strerror or err}") from err
    except UnsupportedDatabaseFormatError as err:
        # the DBC parser's error (textparser's ParseError) names the line, column and text
        cause = err.e_dbc
        line = getattr(cause, "line", None)
        where = f" line {line}, column {getattr(cause, 'column', '?')}" if line is not None else ""
        text = getattr(cause, "text", None)
        if line and isinstance(text, str):
            detail: object = f"invalid syntax near {text.splitlines()[line - 1].strip()!r}"
        else:
            detail = cause
        raise CanDbcError(f"DBC {path}{where}: {detail}") from err
    except (CantoolsError, ValueError) as err:
        raise CanDbcError(f"DBC {path}: {err}") from err
    if not isinstance(database, cantools.database.can.Database):
        raise CanDbcError(f"DBC {path}: not a CAN database")
    return database


class CanCodec:
    """Decode and encode the frames of one DBC (``None`` means ``DEFAULT_DBC``)."""

    def __init__(self, dbc: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(dbc) if dbc is not None else DEFAULT_DBC
        self.database = _load(self.path)
        # (id, extended) -> message: one dict lookup per frame on the hot path
        self._by_id = {
            (message.frame_id, message.is_extended_frame): message
            for message in self.database.messages
        }
        self._by_name = {message.name: message for message in self.database.messages}
        self.messages = [
            CanMessageInfo(
                name=message.name,
                arbitration_id=message.frame_id,
                is_extended=message.is_extended_frame,
                length=message.length,
                cycle_time_ms=message.cycle_time or None,
                signals=tuple(
                    CanSignalInfo(signal.name, signal.unit, signal.minimum, signal.maximum)
                    for signal in message.signals
                ),
            )
            for message in self.database.messages
        ]

    def decode(self, arbitration_id: int, data: bytes, is_extended: bool = False) -> CanMessage:
        """The message a received frame carries, its signals scaled to physical units."""
        message = self._by_id.get((arbitration_id, is_extended))
        if message is None:
            raise UnknownCanIdError(
                f"CAN {_format_id(arbitration_id, is_extended)}: not in {self.path.name}"
            )
        if len(data) < message.length:
            raise CanFrameError(
                f"CAN {_format_id(arbitration_id, is_extended)} {message.name}: "
                f"{len(data)} data bytes, DBC says {message.length}"
            )
        try:
            signals = message.decode(data, decode_choices=False)
        except cantools.database.DecodeError as err:
            raise CanFrameError(f"CAN {message.name}: {err}") from err
        return CanMessage(message.name, arbitration_id, signals)  # type: ignore[arg-type]

    def encode(self, name: str, signals: dict[str, float | int]) -> tuple[int, bytes]:
        """``(arbitration_id, data)`` of message ``name``; every signal must be given,
        within the DBC's range."""
        message = self._by_name.get(name)
        if message is None:
            raise UnknownCanMessageError(f"CAN message {name!r}: not in {self.path.name}")
        for signal, value in signals.items():
            # cantools would take a string as a VAL_ label; we keep values numeric
            if not isinstance(value, int | float):
                raise CanSignalError(f"CAN {name}: signal {signal} = {value!r} is not a number")
        try:
            data = message.encode(signals, strict=True)
        except (cantools.database.EncodeError, ValueError, OverflowError) as err:
            raise CanSignalError(f"CAN {name}: {err}") from err
        return message.frame_id, data

    def message_info(self, name: str) -> CanMessageInfo:
        """The DBC's description of one message."""
        for info in self.messages:
            if info.name == name:
                return info
        raise UnknownCanMessageError(f"CAN message {name!r}: not in {self.path.name}")

    def labels(self, name: str, signals: dict[str, float | int]) -> dict[str, str]:
        """The ``VAL_`` labels of those signal values that have one."""
        message = self._by_name[name]
        out = {}
        for signal in message.signals:
            choices = signal.conversion.choices
            value = signals.get(signal.name)
            if choices and value is not None and value in choices:
                out[signal.name] = str(choices[int(value)])  # a key equal to value is an int
        return out


def _format_id(arbitration_id: int, is_extended: bool) -> str:
    return f"0x{arbitration_id:08X}" if is_extended else f"0x{arbitration_id:03X}"


def parse_candump(text: str) -> tuple[int, bytes, bool]:
    """``"123#DEADBEEF"`` (3 hex digits: 11-bit id) or ``"0CF11E05#..."`` (8 digits:
    29-bit id) -> ``(arbitration_id, data, is_extended)``; remote and FD frames refused."""
    text = text.strip()
    match = _CANDUMP.fullmatch(text)
    if not match:
        raise CanFrameError(
            f"CAN frame {text!r}: expected ID#DATA with a 3 or 8 hex digit id, like 123#DEADBEEF"
        )
    id_text, data_text = match.groups()
    arbitration_id, is_extended = int(id_text, 16), len(id_text) == 8
    if arbitration_id > (EXTENDED_ID_MAX if is_extended else STANDARD_ID_MAX):
        raise CanFrameError(f"CAN frame {text!r}: id 0x{id_text} does not fit its id length")
    if data_text.upper().startswith("R"):
        raise CanFrameError(f"CAN frame {text!r}: remote frames carry no data to decode")
    if data_text.startswith("#"):
        raise CanFrameError(f"CAN frame {text!r}: CAN FD frames are not supported")
    hex_digits = data_text.replace(".", "")
    if len(hex_digits) % 2 or not re.fullmatch(r"[0-9A-Fa-f]*", hex_digits):
        raise CanFrameError(f"CAN frame {text!r}: data {data_text!r} is not whole hex bytes")
    data = bytes.fromhex(hex_digits)
    if len(data) > 8:
        raise CanFrameError(f"CAN frame {text!r}: {len(data)} data bytes, classic CAN carries 8")
    return arbitration_id, data, is_extended


def describe(dbc: str | os.PathLike[str] | CanCodec | None, text: str) -> dict[str, Any]:
    """One candump-style frame decoded against a DBC, as a JSON-ready dict
    (``voltrent decode can --dbc FILE ID#DATA``)."""
    codec = dbc if isinstance(dbc, CanCodec) else CanCodec(dbc)
    arbitration_id, data, is_extended = parse_candump(text)
    message = codec.decode(arbitration_id, data, is_extended)
    info = codec.message_info(message.name)
    return {
        "arbitration_id": _format_id(arbitration_id, is_extended),
        "is_extended": is_extended,
        "name": message.name,
        "data": data.hex().upper(),
        "signals": message.signals,
        "units": {signal.name: signal.unit for signal in info.signals if signal.unit},
        "labels": codec.labels(message.name, message.signals),
    }
