"""JBD frames: the envelope around every request and response, and a streaming decoder.

A request is ``DD mode register length data.. checksum(2) 77`` with mode 0xA5 (read) or
0x5A (write); a response is ``DD register status length data.. checksum(2) 77`` with
status 0x00 (ok) or 0x80 (error). The checksum is ``(0x10000 - sum) & 0xFFFF`` over the
bytes between the second header byte and the checksum: register, length and data for a
request; status, length and data for a response. So byte 1 is never covered, which is why
a decoder must be told which direction it listens to.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Literal, cast

from protocols.jbd.errors import JbdChecksumError, JbdFrameError

START = 0xDD
END = 0x77
HEADER_SIZE = 4  # start, mode or register, register or status, length
TRAILER_SIZE = 3  # checksum (2), end
MIN_FRAME_SIZE = HEADER_SIZE + TRAILER_SIZE
MAX_DATA_SIZE = 255
MAX_FRAME_SIZE = MIN_FRAME_SIZE + MAX_DATA_SIZE

Direction = Literal["request", "response"]
DIRECTIONS: tuple[Direction, ...] = ("request", "response")


class Mode(IntEnum):
    """Byte 1 of a request."""

    READ = 0xA5
    WRITE = 0x5A


class Status(IntEnum):
    """Byte 2 of a response."""

    OK = 0x00
    ERROR = 0x80


def checksum(covered: bytes) -> int:
    """The JBD checksum of the covered bytes (see the module docstring for which)."""
    return (0x10000 - sum(covered)) & 0xFFFF


def _hex(data: bytes, limit: int = 16) -> str:
    shown = data[:limit].hex(" ").upper()
    return shown + (" .." if len(data) > limit else "")


def _check_byte(name: str, value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise JbdFrameError(f"JBD frame: {name} {value} does not fit one byte")


def _check_data(data: bytes) -> bytes:
    data = bytes(data)
    if len(data) > MAX_DATA_SIZE:
        raise JbdFrameError(f"JBD frame: {len(data)} data bytes, at most {MAX_DATA_SIZE} fit")
    return data


def _build(second: int, third: int, data: bytes) -> bytes:
    covered = bytes((third, len(data))) + data
    return bytes((START, second)) + covered + checksum(covered).to_bytes(2, "big") + bytes((END,))


@dataclass(frozen=True, slots=True)
class Request:
    """A frame from the host to the BMS: read or write one register."""

    mode: Mode
    register: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if self.mode not in (Mode.READ, Mode.WRITE):
            raise JbdFrameError(f"JBD frame: request mode {self.mode!r}, expected 0xA5 or 0x5A")
        object.__setattr__(self, "mode", Mode(self.mode))
        _check_byte("register", self.register)
        object.__setattr__(self, "data", _check_data(self.data))

    @classmethod
    def read(cls, register: int) -> Request:
        """A read request (no data) for one register."""
        return cls(Mode.READ, register)

    @classmethod
    def write(cls, register: int, data: bytes) -> Request:
        """A write request carrying ``data`` for one register."""
        return cls(Mode.WRITE, register, data)

    @classmethod
    def from_bytes(cls, frame: bytes) -> Request:
        """Parse exactly one complete request frame; raises a JbdFrameError otherwise."""
        return cast(Request, parse_frame(frame, "request"))

    def to_bytes(self) -> bytes:
        """The whole frame, start byte to end byte."""
        return _build(self.mode, self.register, self.data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields of the envelope (data as hex)."""
        return {
            "direction": "request",
            "mode": self.mode.name.lower(),
            "register": self.register,
            "data": self.data.hex(),
        }


@dataclass(frozen=True, slots=True)
class Response:
    """A frame from the BMS to the host: a register's data, or an error status."""

    register: int
    status: int = Status.OK
    data: bytes = b""

    def __post_init__(self) -> None:
        _check_byte("register", self.register)
        _check_byte("status", self.status)
        object.__setattr__(self, "data", _check_data(self.data))

    @property
    def ok(self) -> bool:
        """The BMS accepted the request (status 0x00)."""
        return self.status == Status.OK

    @classmethod
    def from_bytes(cls, frame: bytes) -> Response:
        """Parse exactly one complete response frame; raises a JbdFrameError otherwise."""
        return cast(Response, parse_frame(frame, "response"))

    def to_bytes(self) -> bytes:
        """The whole frame, start byte to end byte."""
        return _build(self.register, self.status, self.data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields of the envelope (data as hex)."""
        return {
            "direction": "response",
            "register": self.register,
            "status": "ok" if self.ok else f"error 0x{self.status:02X}",
            "data": self.data.hex(),
        }


def _check_header(buffer: bytes | bytearray, direction: Direction) -> None:
    """Refuse a candidate as soon as the bytes present show it cannot be a frame."""
    if buffer[0] != START:
        raise JbdFrameError(f"JBD frame: starts with 0x{buffer[0]:02X}, expected 0xDD")
    if direction == "request" and len(buffer) > 1 and buffer[1] not in (Mode.READ, Mode.WRITE):
        raise JbdFrameError(
            f"JBD frame: request mode byte 0x{buffer[1]:02X}, expected 0xA5 (read) or 0x5A (write)"
        )
    if direction == "response" and len(buffer) > 2 and buffer[2] not in (Status.OK, Status.ERROR):
        raise JbdFrameError(
            f"JBD frame: response status byte 0x{buffer[2]:02X}, expected 0x00 or 0x80"
        )


def inspect_frame(buffer: bytes | bytearray, direction: Direction) -> int:
    """How long the frame at the start of ``buffer`` is: 0 when more bytes are needed.

    Raises JbdFrameError or JbdChecksumError when the bytes present cannot begin a frame.
    """
    if not buffer:
        return 0
    _check_header(buffer, direction)
    if len(buffer) < HEADER_SIZE:
        return 0
    size = MIN_FRAME_SIZE + buffer[3]
    if len(buffer) < size:
        return 0
    if buffer[size - 1] != END:
        raise JbdFrameError(
            f"JBD frame: byte {size - 1} is 0x{buffer[size - 1]:02X}, expected the end byte "
            f"0x77 (length byte says {buffer[3]} data bytes): {_hex(bytes(buffer[:size]), 40)}"
        )
    received = int.from_bytes(buffer[size - 3 : size - 1], "big")
    computed = checksum(bytes(buffer[2 : size - 3]))
    if received != computed:
        raise JbdChecksumError(
            f"JBD frame: checksum 0x{received:04X}, computed 0x{computed:04X}: "
            f"{_hex(bytes(buffer[:size]), 40)}"
        )
    return size


def _to_frame(frame: bytes | bytearray, direction: Direction) -> Request | Response:
    data = bytes(frame[HEADER_SIZE : HEADER_SIZE + frame[3]])
    if direction == "request":
        return Request(Mode(frame[1]), frame[2], data)
    return Response(frame[1], frame[2], data)


def detect_direction(frame: bytes) -> Direction:
    """Guess the direction of one frame: byte 1 of a request is 0xA5 or 0x5A."""
    if len(frame) < 2:
        raise JbdFrameError(f"JBD frame: {len(frame)} bytes, a frame is at least 7")
    return "request" if frame[1] in (Mode.READ, Mode.WRITE) else "response"


def parse_frame(frame: bytes, direction: Direction | None = None) -> Request | Response:
    """Parse exactly one complete frame (direction guessed from byte 1 when not given)."""
    frame = bytes(frame)
    if direction is None:
        direction = detect_direction(frame)
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'request' or 'response', not {direction!r}")
    size = inspect_frame(frame, direction)
    if size == 0:
        wanted = f"{MIN_FRAME_SIZE + frame[3]}-byte frame" if len(frame) >= 4 else "frame"
        raise JbdFrameError(
            f"JBD frame: truncated, {len(frame)} bytes of a {wanted}: {_hex(frame, 40)}"
        )
    if size < len(frame):
        raise JbdFrameError(
            f"JBD frame: {len(frame) - size} bytes after the end byte: {_hex(frame[size:])}"
        )
    return _to_frame(frame, direction)


class FrameDecoder:
    """Frames out of a byte stream, in the manner of h11: feed bytes, ask for frames.

    ``next_frame()`` returns a Request or Response, or None when it needs more bytes. On
    garbage or a bad frame it raises a JbdFrameError (or JbdChecksumError) after dropping
    the offending bytes up to the next 0xDD, so the caller can count the error and call
    again. A 0xDD inside data does not confuse it: a candidate frame is accepted only when
    its header, length, end byte and checksum agree. Garbage that arrives in pieces raises
    once per piece.

    A partial frame followed by a complete valid one is reported as truncated at once
    instead of waiting for its announced length: a BMS that cut an answer short sends
    nothing more until asked. (The price: a valid frame embedded in the data of a frame
    still arriving would be taken for the real one; JBD data is not framed like that.)
    """

    def __init__(self, direction: Direction = "response") -> None:
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'request' or 'response', not {direction!r}")
        self.direction: Direction = direction
        self._buffer = bytearray()
        self.discarded_bytes = 0  # bytes dropped as garbage or as parts of bad frames

    def feed(self, data: bytes) -> None:
        """Append bytes received from the line."""
        self._buffer += data

    @property
    def pending_bytes(self) -> int:
        """Bytes buffered that are not yet a frame (a partial frame, typically)."""
        return len(self._buffer)

    def clear(self) -> int:
        """Drop a partial frame (after a response timeout, say); returns bytes dropped."""
        dropped = len(self._buffer)
        self.discarded_bytes += dropped
        self._buffer.clear()
        return dropped

    def _discard(self, count: int) -> bytes:
        dropped = bytes(self._buffer[:count])
        del self._buffer[:count]
        self.discarded_bytes += count
        return dropped

    def _next_start(self, after: int) -> int:
        found = self._buffer.find(START, after)
        return len(self._buffer) if found < 0 else found

    def _complete_frame_after_start(self) -> int | None:
        """Offset of a later complete, valid frame; it proves the frame at 0 was cut short
        (a truncated answer), so the decoder need not wait for bytes that will not come."""
        position = self._buffer.find(START, 1)
        while position > 0:
            try:
                if inspect_frame(self._buffer[position:], self.direction):
                    return position
            except JbdFrameError:
                pass  # not a frame start either: keep looking
            position = self._buffer.find(START, position + 1)
        return None

    def next_frame(self) -> Request | Response | None:
        """The next complete frame, or None when more bytes are needed."""
        if not self._buffer:
            return None
        if self._buffer[0] != START:
            dropped = self._discard(self._next_start(0))
            raise JbdFrameError(f"JBD frame: {len(dropped)} bytes of garbage: {_hex(dropped)}")
        try:
            size = inspect_frame(self._buffer, self.direction)
        except JbdFrameError as err:
            dropped = self._discard(self._next_start(1))
            raise type(err)(f"{err} ({len(dropped)} bytes dropped)") from None
        if size == 0:
            later = self._complete_frame_after_start()
            if later is None:
                return None
            dropped = self._discard(later)
            raise JbdFrameError(
                f"JBD frame: truncated frame cut off by the next one, "
                f"{len(dropped)} bytes dropped: {_hex(dropped)}"
            )
        frame = _to_frame(self._buffer, self.direction)
        del self._buffer[:size]
        return frame
