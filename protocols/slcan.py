"""LAWICEL (slcan) serial CAN adapters: text records <-> CAN frames, sans-IO.

A USB-CAN adapter in slcan mode speaks ASCII over a serial line. The host sends commands
ending in ``\\r`` (``S6`` for 500 kbit/s, ``O`` to open the channel, ``C`` to close it)
and the adapter answers ``\\r`` (OK) or ``\\a`` (BEL, error). While the channel is open,
every frame on the bus arrives as one record: ``t`` + 3 hex digits of 11-bit id, or ``T``
+ 8 digits of 29-bit id, then the DLC digit, the data bytes in hex and, when timestamps are
on (``Z1``), 4 hex digits of milliseconds modulo 60000; ``r``/``R`` are remote frames.

``SlcanDecoder`` takes bytes as the serial line delivers them (``feed``) and gives frames
and command answers (``next_event``/``next_frame``). A malformed record raises
``SlcanFrameError`` after it has been consumed, so the next call carries on at the next
record. The encoders give the bytes of the host's commands and of the adapter's records.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from protocols.errors import FrameError, ProtocolError

STANDARD_ID_MAX = 0x7FF
EXTENDED_ID_MAX = 0x1FFF_FFFF
TIMESTAMP_WRAP_MS = 60_000  # LAWICEL timestamps count milliseconds modulo one minute
# the longest record: T, 8 id digits, DLC, 16 data digits, 4 timestamp digits
MAX_RECORD = 1 + 8 + 1 + 16 + 4
BITRATE_COMMANDS = {
    10_000: "S0",
    20_000: "S1",
    50_000: "S2",
    100_000: "S3",
    125_000: "S4",
    250_000: "S5",
    500_000: "S6",
    750_000: "S7",
    1_000_000: "S8",
    83_300: "S9",  # not in the LAWICEL manual, but common adapters and python-can offer it
}
OPEN = b"O\r"
LISTEN_ONLY = b"L\r"
CLOSE = b"C\r"
VERSION = b"V\r"
SERIAL_NUMBER = b"N\r"
STATUS_FLAGS = b"F\r"
EMPTY = b"\r"  # the empty command: ends whatever partial command the adapter holds

_CR, _BELL = b"\r", b"\a"
_HEX = re.compile(r"[0-9A-Fa-f]*")
_VALUE_LETTERS = frozenset("VNF")  # version, serial number, status flags: answers with text


class SlcanError(ProtocolError):
    """Bytes or a command the slcan codec cannot accept."""


class SlcanFrameError(SlcanError, FrameError):
    """A record that is not LAWICEL: unknown letter, bad hex, DLC and data disagree, too long."""


@dataclass(frozen=True, slots=True)
class SlcanFrame:
    """One CAN frame as an adapter reports it (``timestamp_ms`` only with ``Z1``)."""

    arbitration_id: int
    data: bytes = b""
    is_extended: bool = False
    timestamp_ms: int | None = None
    is_remote: bool = False
    remote_length: int = 0  # the DLC a remote frame asks for (it carries no data)


class SlcanReplyKind(enum.Enum):
    OK = "ok"  # \r
    ERROR = "error"  # \a
    TRANSMITTED = "transmitted"  # z\r or Z\r: a frame the host sent went out
    VALUE = "value"  # V1013\r, NA123\r, F00\r: the answer text is in ``text``


@dataclass(frozen=True, slots=True)
class SlcanReply:
    """The adapter's answer to a command."""

    kind: SlcanReplyKind
    text: str = ""


SlcanEvent = SlcanFrame | SlcanReply


# -- encoding ------------------------------------------------------------------------
def bitrate_command(bitrate: int) -> bytes:
    """``S0``..``S9`` + CR for a standard CAN bit rate in bit/s (500000 -> ``b"S6\\r"``)."""
    command = BITRATE_COMMANDS.get(bitrate)
    if command is None:
        known = ", ".join(str(rate) for rate in sorted(BITRATE_COMMANDS))
        raise SlcanError(f"slcan bit rate {bitrate}: expected one of {known}")
    return command.encode("ascii") + _CR


def timestamps_command(enabled: bool) -> bytes:
    """``Z1`` (each record carries a millisecond timestamp) or ``Z0``, with CR."""
    return b"Z1\r" if enabled else b"Z0\r"


def encode_frame(frame: SlcanFrame) -> bytes:
    """One record with its CR: what an adapter sends for a received frame, and (without a
    timestamp) what a host sends to transmit one."""
    limit = EXTENDED_ID_MAX if frame.is_extended else STANDARD_ID_MAX
    if not 0 <= frame.arbitration_id <= limit:
        raise SlcanError(
            f"slcan frame: id 0x{frame.arbitration_id:X} does not fit"
            f" {'29' if frame.is_extended else '11'} bits"
        )
    length = frame.remote_length if frame.is_remote else len(frame.data)
    if not 0 <= length <= 8 or (frame.is_remote and frame.data):
        raise SlcanError(f"slcan frame: {length} data bytes, classic CAN carries 0 to 8")
    letter = ("rR" if frame.is_remote else "tT")[frame.is_extended]
    digits = 8 if frame.is_extended else 3
    identifier = f"{frame.arbitration_id:0{digits}X}"
    stamp = ""
    if frame.timestamp_ms is not None:
        if not 0 <= frame.timestamp_ms < TIMESTAMP_WRAP_MS:
            raise SlcanError(f"slcan frame: timestamp {frame.timestamp_ms} ms, expected 0 to 59999")
        stamp = f"{frame.timestamp_ms:04X}"
    data = "" if frame.is_remote else frame.data.hex().upper()
    return f"{letter}{identifier}{length}{data}{stamp}\r".encode("ascii")


def format_frame(
    arbitration_id: int, data: bytes, is_extended: bool = False, timestamp_ms: int | None = None
) -> bytes:
    """The adapter's record of a received frame; ``timestamp_ms`` wraps at one minute
    (``t1014DEADBEEF\\r``, ``T0CF11E050\\r``)."""
    stamp = None if timestamp_ms is None else timestamp_ms % TIMESTAMP_WRAP_MS
    return encode_frame(SlcanFrame(arbitration_id, bytes(data), is_extended, stamp))


def encode_reply(reply: SlcanReply) -> bytes:
    """The bytes of an adapter's answer (``\\r``, ``\\a``, ``z\\r``, ``V1013\\r``)."""
    if reply.kind is SlcanReplyKind.OK:
        return _CR
    if reply.kind is SlcanReplyKind.ERROR:
        return _BELL
    if reply.kind is SlcanReplyKind.TRANSMITTED:
        return (reply.text or "z").encode("ascii") + _CR
    return reply.text.encode("ascii") + _CR


# -- decoding ------------------------------------------------------------------------
def parse_frame_record(record: bytes, *, timestamps: bool = True) -> SlcanFrame:
    """One ``t``/``T``/``r``/``R`` record without its CR; ``timestamps=False`` refuses the
    4 trailing timestamp digits (a host's transmit command never has them)."""
    try:
        text = record.decode("ascii")
    except UnicodeDecodeError:
        raise SlcanFrameError(f"slcan record {record!r}: not ASCII") from None
    letter = text[:1]
    if letter not in ("t", "T", "r", "R") or not letter:
        raise SlcanFrameError(f"slcan record {text!r}: expected a frame letter t, T, r or R")
    is_extended, is_remote = letter in "TR", letter in "rR"
    id_length = 8 if is_extended else 3
    if not _HEX.fullmatch(text, 1):
        bad = next(char for char in text[1:] if char not in "0123456789ABCDEFabcdef")
        raise SlcanFrameError(f"slcan record {text!r}: {bad!r} is not a hex digit")
    if len(text) < 2 + id_length:
        raise SlcanFrameError(
            f"slcan record {text!r}: truncated, expected {id_length} id digits and a DLC"
        )
    arbitration_id = int(text[1 : 1 + id_length], 16)
    limit = EXTENDED_ID_MAX if is_extended else STANDARD_ID_MAX
    if arbitration_id > limit:
        raise SlcanFrameError(
            f"slcan record {text!r}: id 0x{arbitration_id:X} does not fit"
            f" {29 if is_extended else 11} bits"
        )
    dlc = int(text[1 + id_length], 16)
    if dlc > 8:
        raise SlcanFrameError(f"slcan record {text!r}: DLC {dlc}, classic CAN carries 0 to 8")
    rest = text[2 + id_length :]
    data_digits = 0 if is_remote else 2 * dlc
    if len(rest) == data_digits:
        timestamp = None
    elif timestamps and len(rest) == data_digits + 4:
        timestamp = int(rest[data_digits:], 16)
        if timestamp >= TIMESTAMP_WRAP_MS:
            raise SlcanFrameError(
                f"slcan record {text!r}: timestamp {timestamp} ms, expected 0 to 59999"
            )
    else:
        with_stamp = f" ({data_digits + 4} with a timestamp)" if timestamps else ""
        raise SlcanFrameError(
            f"slcan record {text!r}: DLC {dlc} needs {data_digits} data digits{with_stamp},"
            f" got {len(rest)}"
        )
    data = bytes.fromhex(rest[:data_digits])
    return SlcanFrame(
        arbitration_id, data, is_extended, timestamp, is_remote, dlc if is_remote else 0
    )


def parse_record(record: bytes) -> SlcanEvent:
    """One record an adapter sent, without its CR: a frame or the answer to a command."""
    if record == b"":
        return SlcanReply(SlcanReplyKind.OK)
    if record in (b"z", b"Z"):
        return SlcanReply(SlcanReplyKind.TRANSMITTED, record.decode("ascii"))
    letter = chr(record[0])
    if letter in _VALUE_LETTERS:
        text = record.decode("ascii", "replace")
        if not text.isalnum():
            raise SlcanFrameError(f"slcan answer {text!r}: expected letters and digits")
        return SlcanReply(SlcanReplyKind.VALUE, text)
    return parse_frame_record(record)


class SlcanDecoder:
    """Frames and answers from the byte stream an adapter sends, in any fragments."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._start = 0  # records before this offset are consumed (compacted on feed)
        self._skipping = False  # after an over-long record: drop bytes up to the next CR

    def feed(self, data: bytes) -> None:
        """Add bytes as they arrived from the serial line."""
        if self._start:
            del self._buffer[: self._start]
            self._start = 0
        self._buffer += data

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete record."""
        return len(self._buffer) - self._start

    def next_event(self) -> SlcanEvent | None:
        """The next frame or answer; None when the buffer holds no complete record.
        Raises SlcanFrameError for a malformed record, after consuming it."""
        buffer, start = self._buffer, self._start
        if self._skipping:
            end = buffer.find(_CR, start)
            if end < 0:
                self._start = len(buffer)
                return None
            start = self._start = end + 1
            self._skipping = False
        end = buffer.find(_CR, start)
        # BEL ends a record too: it is the whole of an error answer
        bell = buffer.find(_BELL, start, end if end >= 0 else len(buffer))
        if bell >= 0:
            if bell == start:
                self._start = start + 1
                return SlcanReply(SlcanReplyKind.ERROR)
            end = bell
        if end < 0:
            if len(buffer) - start > MAX_RECORD:
                self._start, self._skipping = len(buffer), True
                head = bytes(buffer[start : start + MAX_RECORD])
                raise SlcanFrameError(
                    f"slcan record {head!r}...: no CR within {MAX_RECORD} bytes, skipped to"
                    " the next CR"
                )
            return None
        record = bytes(buffer[start:end])
        # a BEL stays in the buffer: it is the error answer after the garbled record
        self._start = end if end == bell else end + 1
        if len(record) > MAX_RECORD:
            raise SlcanFrameError(f"slcan record {record[:MAX_RECORD]!r}...: too long")
        return parse_record(record)

    def next_frame(self) -> SlcanFrame | None:
        """The next frame, skipping answers to commands; None when none is complete."""
        while (event := self.next_event()) is not None:
            if isinstance(event, SlcanFrame):
                return event
        return None
