"""NMEA 0183 position sentences (RMC, GGA) <-> ``PositionFix``, sans-IO, through pynmea2.

``NmeaDecoder`` takes bytes as a serial line delivers them and gives one ``PositionFix``
per receiver epoch, joining the RMC (date, validity, speed, course) and the GGA
(altitude, HDOP, satellites) of the same UTC time. ``encode_fix`` writes the two
sentences back; a fix survives the round trip within the sentences' precision:
latitude and longitude to 1e-5 minutes (under 1e-6 degrees, about 2 cm), speed to 0.001
knot, course to 0.01 degree, altitude to 0.01 m, HDOP to 0.01, time to the millisecond.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
from collections import deque
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


def _format_coordinate(value: float, degree_digits: int, hemispheres: str) -> tuple[str, str]:
    # integer units of 1e-5 minute, so 59.999996' carries into the next degree
    units = round(abs(value) * 60 * 100_000)
    degrees, minute_units = divmod(units, 60 * 100_000)
    text = f"{degrees:0{degree_digits}d}{minute_units // 100_000:02d}.{minute_units % 100_000:05d}"
    return text, hemispheres[0] if value >= 0 else hemispheres[1]


def _format_time(timestamp_ms: int | None) -> tuple[str, str]:
    if timestamp_ms is None:
        return "", ""
    moment = datetime.datetime.fromtimestamp(timestamp_ms / 1000, datetime.UTC)
    day_ms = timestamp_ms % 1000
    return f"{moment:%H%M%S}.{day_ms:03d}", f"{moment:%d%m%y}"


def encode_fix(fix: PositionFix, talker: str = "GN") -> bytes:
    """The RMC and GGA sentences of one fix, with checksums and CRLF."""
    if talker not in POSITION_TALKERS:
        raise NmeaPayloadError(
            f"NMEA talker {talker!r}: expected one of {sorted(POSITION_TALKERS)}"
        )
    if not (-90 <= fix.lat <= 90 and -180 <= fix.lon <= 180):
        raise NmeaPayloadError(f"NMEA fix: lat {fix.lat}, lon {fix.lon} outside WGS-84 range")
    if not 0 <= fix.speed_kmh < 100_000:
        raise NmeaPayloadError(f"NMEA fix: speed {fix.speed_kmh} km/h is not a ground speed")
    if fix.course_deg is not None and not 0 <= fix.course_deg <= 360:
        raise NmeaPayloadError(f"NMEA fix: course {fix.course_deg} is outside 0..360 degrees")
    if fix.satellites is not None and not 0 <= fix.satellites <= 99:
        raise NmeaPayloadError(f"NMEA fix: {fix.satellites} satellites do not fit two digits")
    if not all(math.isfinite(value) for value in (fix.altitude_m or 0.0, fix.hdop or 0.0)):
        raise NmeaPayloadError(f"NMEA fix: altitude {fix.altitude_m}, HDOP {fix.hdop}")
    if fix.timestamp_ms is not None and not 0 <= fix.timestamp_ms < 3_124_137_600_000:
        raise NmeaPayloadError(f"NMEA fix: timestamp {fix.timestamp_ms} is not 1970..2068")
    time_text, date_text = _format_time(fix.timestamp_ms)
    lat, north_south = _format_coordinate(fix.lat, 2, "NS")
    lon, east_west = _format_coordinate(fix.lon, 3, "EW")
    course = "" if fix.course_deg is None else f"{fix.course_deg:.2f}"
    speed = f"{fix.speed_kmh / KNOTS_TO_KMH:.3f}"
    status, mode, quality = ("A", "A", 1) if fix.valid else ("V", "N", 0)
    satellites = "" if fix.satellites is None else f"{fix.satellites:02d}"
    hdop = "" if fix.hdop is None else f"{fix.hdop:.2f}"
    altitude = "" if fix.altitude_m is None else f"{fix.altitude_m:.2f}"
    position = f"{lat},{north_south},{lon},{east_west}"
    return encode_sentence(
        f"{talker}RMC,{time_text},{status},{position},{speed},{course},{date_text},,,{mode}"
    ) + encode_sentence(
        f"{talker}GGA,{time_text},{position},{quality},{satellites},{hdop},{altitude},M,,M,,"
    )


def encode_no_fix(talker: str = "GN") -> bytes:
    """What a receiver without a fix sends: RMC with status V and GGA quality 0, empty."""
    return encode_sentence(f"{talker}RMC,,V,,,,,,,,,,N") + encode_sentence(
        f"{talker}GGA,,,,,,0,00,99.99,,,,,,"
    )


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


# -- decoder ------------------------------------------------------------------------
@dataclass(slots=True)
class _Epoch:
    """The sentences of one receiver epoch seen so far."""

    time_of_day_ms: int | None
    rmc: dict[str, Any] | None = None
    gga: dict[str, Any] | None = None


class NmeaDecoder:
    """Bytes from a GNSS receiver in, ``PositionFix`` out (sans-IO).

    ``feed()`` whatever arrived, then call ``next_fix()`` until it returns None (need
    more data). A broken line raises an ``NmeaError`` after it has been consumed: count
    it and call ``next_fix()`` again. A fix is given out when both the RMC and the GGA
    of one UTC time are in, or when a sentence of another time shows that the other one
    is not coming; ``flush()`` gives out a last half epoch at the end of a stream.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._fragments: deque[bytes] = deque()
        self._ready: deque[PositionFix] = deque()
        self._epoch: _Epoch | None = None
        self._discarding = False  # inside an over-long line, until its end
        self._last_day: int | None = None
        self._last_time_of_day_ms = 0
        self.ignored = 0  # well-formed sentences of other types or talkers
        self.no_fix = 0  # epochs without coordinates (receiver has no fix)

    def feed(self, data: bytes) -> None:
        """Append bytes as they arrived; nothing is parsed until ``next_fix()``."""
        self._buffer += data

    def next_fix(self) -> PositionFix | None:
        """The next complete fix, or None when more data is needed."""
        while not self._ready:
            fragment = self._next_fragment()
            if fragment is None:
                return None
            self._handle(fragment)
        return self._ready.popleft()

    def flush(self) -> PositionFix | None:
        """End of stream: give out the epoch still waiting for its other half."""
        if self._epoch is not None:
            self._close_epoch()
        return self._ready.popleft() if self._ready else None

    def _next_fragment(self) -> bytes | None:
        while not self._fragments:
            end = _LINE_END.search(self._buffer)
            if self._discarding:
                if end is None:
                    self._buffer.clear()
                    return None
                del self._buffer[: end.end()]
                self._discarding = False
                continue
            if end is None:
                if len(self._buffer) > MAX_LINE_LENGTH:
                    size = len(self._buffer)
                    self._buffer.clear()
                    self._discarding = True
                    raise NmeaFrameError(
                        f"NMEA line: {size} bytes without a line end, "
                        f"longest allowed is {MAX_LINE_LENGTH}"
                    )
                return None
            line = bytes(self._buffer[: end.start()])
            del self._buffer[: end.end()]
            # '$' always starts a sentence: a cut-off sentence loses only itself
            parts = line.split(b"$")
            if parts[0]:
                self._fragments.append(parts[0])
            self._fragments.extend(b"$" + part for part in parts[1:])
        return self._fragments.popleft()

    def _handle(self, fragment: bytes) -> None:
        try:
            line = fragment.decode("ascii")
        except UnicodeDecodeError as err:
            raise NmeaFrameError(
                f"NMEA line: byte 0x{fragment[err.start]:02X} at offset {err.start} is not ASCII"
            ) from err
        if not line.startswith("$"):
            raise NmeaFrameError(f"NMEA line: {len(line)} bytes before '$': {line[:24]!r}")
        comma = line.find(",")
        address = line[1:comma] if comma > 0 else ""
        if address[2:] not in ("RMC", "GGA") or address[:2] not in POSITION_TALKERS:
            check_frame(line)  # a broken line of any type is still an error
            self.ignored += 1
            return
        sentence = parse_sentence(line)
        if sentence.sentence_type == "RMC":
            kind, fields = "rmc", _rmc_fields(sentence)
        else:
            kind, fields = "gga", _gga_fields(sentence)
        time_of_day = _time_of_day_ms(sentence)
        epoch = self._epoch
        if epoch is not None and (epoch.time_of_day_ms != time_of_day or getattr(epoch, kind)):
            self._close_epoch()
            epoch = None
        if epoch is None:
            epoch = self._epoch = _Epoch(time_of_day)
        setattr(epoch, kind, fields)
        if epoch.rmc is not None and epoch.gga is not None:
            self._close_epoch()

    def _close_epoch(self) -> None:
        epoch, self._epoch = self._epoch, None
        assert epoch is not None
        rmc, gga = epoch.rmc or {}, epoch.gga or {}
        source = rmc if rmc.get("lat") is not None else gga
        if source.get("lat") is None or source.get("lon") is None:
            self.no_fix += 1
            return
        self._ready.append(
            PositionFix(
                timestamp_ms=self._timestamp(epoch.time_of_day_ms, rmc.get("day")),
                lat=source["lat"],
                lon=source["lon"],
                speed_kmh=rmc.get("speed_kmh", 0.0),
                course_deg=rmc.get("course_deg"),
                altitude_m=gga.get("altitude_m"),
                hdop=gga.get("hdop"),
                satellites=gga.get("satellites"),
                valid=rmc["valid"] if rmc else gga["valid"],
            )
        )

    def _timestamp(self, time_of_day: int | None, day: int | None) -> int | None:
        if time_of_day is None:
            return None
        if day is None:
            # a GGA alone: borrow the date of the last RMC, across midnight if need be
            if self._last_day is None:
                return None
            day = self._last_day
            if time_of_day < self._last_time_of_day_ms - _DAY_MS // 2:
                day += 1
            elif time_of_day > self._last_time_of_day_ms + _DAY_MS // 2:
                day -= 1
        else:
            self._last_day, self._last_time_of_day_ms = day, time_of_day
        return day * _DAY_MS + time_of_day
