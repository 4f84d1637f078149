"""NMEA 0183 encoding: RMC and GGA sentences for a fix (the simulator's GNSS module)."""

from __future__ import annotations

import datetime
import math

from protocols.nmea.sentences import (
    KNOTS_TO_KMH,
    POSITION_TALKERS,
    NmeaPayloadError,
    PositionFix,
    encode_sentence,
)


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
