"""NMEA 0183 framing and checksums, the fix type, and reading the fields of one sentence."""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass
from typing import Any

import pynmea2

from protocols.errors import (
    ChecksumError,
    FrameError,
    PayloadError,
    ProtocolError,
    UnknownMessageError,
)

# NMEA allows 82 characters with '$' and CRLF; u-blox PUBX sentences run to ~110.
MAX_LINE_LENGTH = 128
POSITION_TALKERS = frozenset({"GP", "GN", "GL", "GA", "BD", "GB"})
KNOTS_TO_KMH = 1.852
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_DAY_MS = 86_400_000
_LINE_END = re.compile(rb"[\r\n]")
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)")
_TIME = re.compile(r"(\d\d)(\d\d)(\d\d(?:\.\d+)?)")
_COORDINATE = re.compile(r"(\d{1,3})(\d\d(?:\.\d*)?)")


class NmeaError(ProtocolError):
    """Bytes on an NMEA line that are not a usable sentence."""


class NmeaFrameError(NmeaError, FrameError):
    """Not a sentence at all: garbage, non-ASCII bytes, no '$', an over-long line."""


class NmeaChecksumError(NmeaError, ChecksumError):
    """A sentence with a missing or wrong ``*hh`` checksum."""


class NmeaPayloadError(NmeaError, PayloadError):
    """A well-framed sentence whose fields do not make sense (or a fix we cannot encode)."""


class NmeaUnknownSentenceError(NmeaError, UnknownMessageError):
    """A sentence type that pynmea2 does not know (only ``describe`` raises it)."""


@dataclass(frozen=True, slots=True)
class PositionFix:
    """One GNSS epoch. ``timestamp_ms`` is Unix epoch ms UTC, None without a date;
    ``valid`` is False when the receiver flags the position as unusable.
    A fix from a GGA alone carries no speed: ``speed_kmh`` is 0.0 then."""

    timestamp_ms: int | None
    lat: float
    lon: float
    speed_kmh: float
    course_deg: float | None = None
    altitude_m: float | None = None
    hdop: float | None = None
    satellites: int | None = None
    valid: bool = True

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with every field."""
        return dataclasses.asdict(self)


def nmea_checksum(body: str) -> int:
    """XOR of the characters between '$' and '*'."""
    checksum = 0
    for char in body.encode("ascii"):
        checksum ^= char
    return checksum


def encode_sentence(body: str) -> bytes:
    """``"GNRMC,..."`` -> ``b"$GNRMC,...*hh\\r\\n"``."""
    return f"${body}*{nmea_checksum(body):02X}\r\n".encode("ascii")


def check_frame(line: str) -> str:
    """Framing and checksum of one sentence (without line end); returns its address
    (``"GNRMC"``). Errors say what arrived and what was expected."""
    if len(line) > MAX_LINE_LENGTH:
        raise NmeaFrameError(
            f"NMEA line: {len(line)} characters, longest allowed is {MAX_LINE_LENGTH}"
        )
    if not line.startswith("$"):
        raise NmeaFrameError(f"NMEA line: expected '$' at the start, got {line[:24]!r}")
    if any(not " " <= char <= "~" for char in line):
        raise NmeaFrameError(f"NMEA line: control characters in {line[:40]!r}")
    star = line.rfind("*")
    name = line[1 : line.find(",")] if "," in line else line[1:7]
    if star < 0:
        raise NmeaChecksumError(f"NMEA {name}: checksum missing")
    stated, computed = line[star + 1 :], nmea_checksum(line[1:star])
    if not re.fullmatch(r"[0-9A-Fa-f]{2}", stated):
        raise NmeaChecksumError(f"NMEA {name}: checksum field {stated!r} is not two hex digits")
    if int(stated, 16) != computed:
        raise NmeaChecksumError(
            f"NMEA {name}: checksum 0x{stated.upper()}, computed 0x{computed:02X}"
        )
    return name


def parse_sentence(line: str) -> pynmea2.NMEASentence:
    """One sentence (without line end) through pynmea2, after ``check_frame``."""
    name = check_frame(line)
    try:
        return pynmea2.parse(line, check=True)
    except pynmea2.SentenceTypeError as err:
        raise NmeaUnknownSentenceError(f"NMEA {name}: unknown sentence type") from err
    except pynmea2.ChecksumError as err:
        raise NmeaChecksumError(f"NMEA {name}: {err.args[0][0]}") from err
    except pynmea2.ParseError as err:
        raise NmeaFrameError(f"NMEA {name}: {err.args[0][0]}") from err


# -- fields ---------------------------------------------------------------------------
def _raw(sentence: pynmea2.NMEASentence, field: str) -> str:
    # pynmea2's attribute access silently returns the raw text when a conversion fails
    index = type(sentence).name_to_idx[field]
    return sentence.data[index].strip() if index < len(sentence.data) else ""


def _number(sentence: pynmea2.NMEASentence, field: str) -> float | None:
    text = _raw(sentence, field)
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        raise NmeaPayloadError(f"NMEA {_name(sentence)}: {field} {text!r} is not a number")
    return float(text)


def _name(sentence: pynmea2.NMEASentence) -> str:
    return f"{sentence.talker}{sentence.sentence_type}"


def _time_of_day_ms(sentence: pynmea2.NMEASentence) -> int | None:
    text = _raw(sentence, "timestamp")
    if not text:
        return None
    match = _TIME.fullmatch(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59 or float(match[3]) >= 61:
        raise NmeaPayloadError(f"NMEA {_name(sentence)}: time {text!r} is not hhmmss.ss")
    return (int(match[1]) * 3600 + int(match[2]) * 60) * 1000 + round(float(match[3]) * 1000)


def _day(sentence: pynmea2.NMEASentence) -> int | None:
    """Days since 1970-01-01 from the RMC date; two-digit years 80..99 are 19xx."""
    text = _raw(sentence, "datestamp")
    if not text:
        return None
    try:
        if not text.isdigit() or len(text) != 6:
            raise ValueError(text)
        year = int(text[4:6])
        day = datetime.date(year + (1900 if year >= 80 else 2000), int(text[2:4]), int(text[0:2]))
    except ValueError as err:
        raise NmeaPayloadError(f"NMEA {_name(sentence)}: date {text!r} is not ddmmyy") from err
    return day.toordinal() - _EPOCH_ORDINAL


def _coordinate(sentence: pynmea2.NMEASentence, axis: str) -> float | None:
    text, hemisphere = _raw(sentence, axis), _raw(sentence, axis + "_dir")
    if not text:
        return None
    match = _COORDINATE.fullmatch(text)
    signs = {"lat": {"N": 1, "S": -1}, "lon": {"E": 1, "W": -1}}[axis]
    if not match or hemisphere not in signs or float(match[2]) >= 60:
        raise NmeaPayloadError(f"NMEA {_name(sentence)}: {axis} {text!r},{hemisphere!r} invalid")
    value = (int(match[1]) + float(match[2]) / 60) * signs[hemisphere]
    if abs(value) > (90 if axis == "lat" else 180):
        raise NmeaPayloadError(f"NMEA {_name(sentence)}: {axis} {value:.6f} is out of range")
    return value


def _rmc_fields(sentence: pynmea2.NMEASentence) -> dict[str, Any]:
    status, mode = _raw(sentence, "status"), _raw(sentence, "mode_indicator")
    if status not in ("A", "V"):
        raise NmeaPayloadError(f"NMEA {_name(sentence)}: status {status!r}, expected 'A' or 'V'")
    knots = _number(sentence, "spd_over_grnd")
    return {
        "day": _day(sentence),
        "lat": _coordinate(sentence, "lat"),
        "lon": _coordinate(sentence, "lon"),
        "speed_kmh": 0.0 if knots is None else knots * KNOTS_TO_KMH,
        "course_deg": _number(sentence, "true_course"),
        "valid": status == "A" and mode != "N",
    }


def _gga_fields(sentence: pynmea2.NMEASentence) -> dict[str, Any]:
    quality, satellites = _raw(sentence, "gps_qual"), _raw(sentence, "num_sats")
    if not quality.isdigit() or (satellites and not satellites.isdigit()):
        raise NmeaPayloadError(
            f"NMEA {_name(sentence)}: fix quality {quality!r} / satellites {satellites!r}"
        )
    return {
        "lat": _coordinate(sentence, "lat"),
        "lon": _coordinate(sentence, "lon"),
        "valid": int(quality) > 0,
        "satellites": int(satellites) if satellites else None,
        "hdop": _number(sentence, "horizontal_dil"),
        "altitude_m": _number(sentence, "altitude"),
    }


def describe(line: str) -> dict[str, Any]:
    """The fields of one sentence as a JSON-ready dict (``voltrent decode nmea LINE``);
    RMC and GGA also get their values in our units under ``"decoded"``."""
    sentence = parse_sentence(line.strip())
    fields = {name: _raw(sentence, name) or None for _, name, *_ in type(sentence).fields}
    out: dict[str, Any] = {"sentence": line.strip()[1:].split(",", 1)[0], "fields": fields}
    if isinstance(sentence, pynmea2.TalkerSentence):
        out.update(talker=sentence.talker, sentence_type=sentence.sentence_type)
        if sentence.sentence_type in ("RMC", "GGA"):
            decoded = (
                _rmc_fields(sentence) if sentence.sentence_type == "RMC" else _gga_fields(sentence)
            )
            time_of_day = decoded["time_of_day_ms"] = _time_of_day_ms(sentence)
            day = decoded.pop("day", None)
            if day is not None and time_of_day is not None:
                decoded["timestamp_ms"] = day * _DAY_MS + time_of_day
            out["decoded"] = decoded
    return out
