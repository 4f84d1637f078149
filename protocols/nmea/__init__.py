"""NMEA 0183 position sentences (RMC, GGA) <-> ``PositionFix``, sans-IO, through pynmea2.

``NmeaDecoder`` takes bytes as a serial line delivers them and gives one ``PositionFix``
per receiver epoch, joining the RMC (date, validity, speed, course) and the GGA
(altitude, HDOP, satellites) of the same UTC time. ``encode_fix`` writes the two
sentences back; a fix survives the round trip within the sentences' precision:
latitude and longitude to 1e-5 minutes (under 1e-6 degrees, about 2 cm), speed to 0.001
knot, course to 0.01 degree, altitude to 0.01 m, HDOP to 0.01, time to the millisecond.
"""

from protocols.nmea.decoder import NmeaDecoder
from protocols.nmea.encoder import encode_fix, encode_no_fix
from protocols.nmea.sentences import (
    KNOTS_TO_KMH,
    MAX_LINE_LENGTH,
    POSITION_TALKERS,
    NmeaChecksumError,
    NmeaError,
    NmeaFrameError,
    NmeaPayloadError,
    NmeaUnknownSentenceError,
    PositionFix,
    check_frame,
    describe,
    encode_sentence,
    nmea_checksum,
    parse_sentence,
)

__all__ = [
    "KNOTS_TO_KMH",
    "MAX_LINE_LENGTH",
    "POSITION_TALKERS",
    "NmeaChecksumError",
    "NmeaDecoder",
    "NmeaError",
    "NmeaFrameError",
    "NmeaPayloadError",
    "NmeaUnknownSentenceError",
    "PositionFix",
    "check_frame",
    "describe",
    "encode_fix",
    "encode_no_fix",
    "encode_sentence",
    "nmea_checksum",
    "parse_sentence",
]
