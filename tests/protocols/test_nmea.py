"""NMEA codec: one table of wire cases drives the decoder three ways and the encoder."""

from __future__ import annotations

import json
import math
from functools import reduce
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.errors import ChecksumError, FrameError, ProtocolError, UnknownMessageError
from protocols.nmea import (
    KNOTS_TO_KMH,
    MAX_LINE_LENGTH,
    NmeaChecksumError,
    NmeaDecoder,
    NmeaError,
    NmeaFrameError,
    NmeaPayloadError,
    NmeaUnknownSentenceError,
    PositionFix,
    describe,
    encode_fix,
    encode_no_fix,
)

DATA = Path(__file__).parent.parent / "data" / "nmea"


def sentence(body: str, checksum: int | None = None) -> bytes:
    """Framing written out independently of the codec: ``$body*hh\\r\\n``."""
    computed = reduce(lambda acc, char: acc ^ ord(char), body, 0)
    return f"${body}*{computed if checksum is None else checksum:02X}\r\n".encode()


SHANGHAI = PositionFix(
    timestamp_ms=1_713_851_950_250,  # 2024-04-23 05:59:10.250 UTC
    lat=31 + 13.45612 / 60,
    lon=121 + 28.71833 / 60,
    speed_kmh=5.102 * KNOTS_TO_KMH,
    course_deg=47.12,
    altitude_m=12.5,
    hdop=1.2,
    satellites=8,
    valid=True,
)
SHANGHAI_WIRE = sentence(
    "GNRMC,055910.250,A,3113.45612,N,12128.71833,E,5.102,47.12,230424,,,A"
) + sentence("GNGGA,055910.250,3113.45612,N,12128.71833,E,1,08,1.20,12.50,M,,M,,")

SANTIAGO = PositionFix(  # south-west, bare: no course, altitude, HDOP or satellites
    timestamp_ms=1_704_067_199_999,  # 2023-12-31 23:59:59.999 UTC
    lat=-(33 + 27.12345 / 60),
    lon=-(70 + 39.98765 / 60),
    speed_kmh=0.0,
)
SANTIAGO_WIRE = sentence(
    "GPRMC,235959.999,A,3327.12345,S,07039.98765,W,0.000,,311223,,,A"
) + sentence("GPGGA,235959.999,3327.12345,S,07039.98765,W,1,,,,M,,M,,")

SANTIAGO_NEXT = PositionFix(1_704_067_200_999, SANTIAGO.lat, SANTIAGO.lon, 3.704, 180.0)
SANTIAGO_NEXT_WIRE = sentence(
    "GPRMC,000000.999,A,3327.12345,S,07039.98765,W,2.000,180.00,010124,,,A"
) + sentence("GPGGA,000000.999,3327.12345,S,07039.98765,W,1,,,,M,,M,,")

NO_DATE_INVALID = PositionFix(None, 52.5, 13.25, 0.0, None, 34.0, 9.5, 3, valid=False)
NO_DATE_INVALID_WIRE = sentence("GNRMC,,V,5230.00000,N,01315.00000,E,0.000,,,,,N") + sentence(
    "GNGGA,,5230.00000,N,01315.00000,E,0,03,9.50,34.00,M,,M,,"
)

# the textbook example (NMEA 0183 v2 reference): GGA first, 3 decimal minutes, knots
TEXTBOOK_WIRE = (
    b"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n"
    b"$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\r\n"
)
TEXTBOOK = PositionFix(
    764_426_119_000, 48 + 7.038 / 60, 11 + 31 / 60, 22.4 * KNOTS_TO_KMH, 84.4, 545.4, 0.9, 8
)


class Case(NamedTuple):
    wire: bytes
    events: list[PositionFix | type[NmeaError]]
    talker: str | None  # the encoder writes exactly ``wire`` with this talker; None: not


CASES = {
    "one epoch, GN talker": Case(SHANGHAI_WIRE, [SHANGHAI], "GN"),
    "two epochs across new year": Case(
        SANTIAGO_WIRE + SANTIAGO_NEXT_WIRE, [SANTIAGO, SANTIAGO_NEXT], "GP"
    ),
    "status V with coordinates, no date": Case(NO_DATE_INVALID_WIRE, [NO_DATE_INVALID], "GN"),
    "textbook, GGA before RMC": Case(TEXTBOOK_WIRE, [TEXTBOOK], None),
    "no fix: empty RMC and GGA": Case(encode_no_fix("GN"), [], None),
    "satellite sentences between": Case(
        SHANGHAI_WIRE.replace(
            b"\r\n$GNGGA",
            b"\r\n"
            + sentence("GNGSA,A,3,05,12,15,24,,,,,,,,,2.10,1.20,1.80")
            + sentence("GPGSV,1,1,04,05,40,083,46,12,30,300,41,15,70,180,44,24,12,045,30")
            + b"$GNGGA",
        ),
        [SHANGHAI],
        None,
    ),
    "wrong checksum loses one sentence": Case(
        sentence("GPRMC,235959.999,A,3327.12345,S,07039.98765,W,0.000,,311223,,,A", 0x00)
        + SANTIAGO_WIRE.split(b"\r\n")[1]
        + b"\r\n"
        + SHANGHAI_WIRE,
        [NmeaChecksumError, PositionFix(None, SANTIAGO.lat, SANTIAGO.lon, 0.0), SHANGHAI],
        None,
    ),
    "garbage before a sentence": Case(
        b"\xff\x00\xfe" + SHANGHAI_WIRE, [NmeaFrameError, SHANGHAI], None
    ),
    "sentence cut short by the next": Case(
        SHANGHAI_WIRE[:30] + SHANGHAI_WIRE, [NmeaChecksumError, SHANGHAI], None
    ),
    "missing checksum": Case(
        b"$GNRMC,055910.250,A,3113.45612,N,12128.71833,E,5.102,47.12,230424,,,A\r\n"
        + SHANGHAI_WIRE,
        [NmeaChecksumError, SHANGHAI],
        None,
    ),
}


def drain(decoder: NmeaDecoder) -> list[PositionFix | type[NmeaError]]:
    """Every fix and error the decoder has for now, errors as their class."""
    events: list[PositionFix | type[NmeaError]] = []
    while True:
        try:
            fix = decoder.next_fix()
        except NmeaError as err:
            events.append(type(err))
            continue
        if fix is None:
            return events
        events.append(fix)


def assert_events(actual: list, expected: list, precision: float = 1e-6) -> None:
    assert len(actual) == len(expected), actual
    for got, want in zip(actual, expected, strict=True):
        if isinstance(want, type):
            assert got is want
        else:
            assert_same_fix(got, want, precision)


def assert_same_fix(got: PositionFix, want: PositionFix, precision: float = 1e-6) -> None:
    """Equal within ``precision`` times the sentence resolution of each field."""
    tolerances = {"lat": 1e-6, "lon": 1e-6, "speed_kmh": 1e-3, "course_deg": 5e-3}
    tolerances |= {"altitude_m": 5e-3, "hdop": 5e-3}
    for name, value in want.to_dict().items():
        actual = getattr(got, name)
        if isinstance(value, float):
            assert actual is not None, name
            assert math.isclose(actual, value, abs_tol=tolerances[name] * precision), (
                name,
                actual,
                value,
            )
        else:
            assert actual == value, (name, actual, value)


def decode_whole(wire: bytes) -> list:
    decoder = NmeaDecoder()
    decoder.feed(wire)
    events = drain(decoder)
    last = decoder.flush()
    return events + ([last] if last else [])


def decode_bytewise(wire: bytes) -> list:
    decoder = NmeaDecoder()
    events = []
    for index in range(len(wire)):
        decoder.feed(wire[index : index + 1])
        events += drain(decoder)
    last = decoder.flush()
    return events + ([last] if last else [])


def decode_with_trailing_garbage(wire: bytes) -> list:
    # garbage without a line end must wait in the buffer, not spoil what came before
    return decode_whole(wire + b"\xfe\x00junk$GNRM")


@pytest.mark.parametrize("decode", [decode_whole, decode_bytewise, decode_with_trailing_garbage])
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_decoder_three_ways(case: Case, decode) -> None:
    assert_events(decode(case.wire), case.events)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_encoder_from_the_same_table(case: Case) -> None:
    fixes = [event for event in case.events if isinstance(event, PositionFix)]
    if case.talker is not None:
        assert b"".join(encode_fix(fix, case.talker) for fix in fixes) == case.wire
    for fix in fixes:  # every fix, exact or not, survives encode -> decode
        assert_events(decode_whole(encode_fix(fix)), [fix], precision=1.0)


def test_no_fix_sentences_are_what_the_encoder_sends_without_a_fix() -> None:
    decoder = NmeaDecoder()
    decoder.feed(encode_no_fix() * 3)
    assert drain(decoder) == [] and decoder.flush() is None
    assert decoder.no_fix == 3


def test_captured_ublox_ride() -> None:
    expected = json.loads((DATA / "ublox_m8_shanghai.json").read_text())
    wire = (DATA / "ublox_m8_shanghai.nmea").read_bytes()
    for decode in (decode_whole, decode_bytewise, decode_with_trailing_garbage):
        assert_events(decode(wire), [PositionFix(**fix) for fix in expected["fixes"]])
    decoder = NmeaDecoder()
    decoder.feed(wire)
    drain(decoder)
    assert (decoder.ignored, decoder.no_fix) == (expected["ignored"], expected["no_fix"])


@pytest.mark.parametrize("talker", ["GP", "GN", "GL", "GA", "BD", "GB"])
def test_every_constellation_talker_is_a_position(talker: str) -> None:
    assert_events(decode_whole(encode_fix(SHANGHAI, talker)), [SHANGHAI], precision=1.0)


def test_other_talkers_and_types_are_counted_not_decoded() -> None:
    decoder = NmeaDecoder()
    decoder.feed(SHANGHAI_WIRE.replace(b"$GN", b"$II"))
    # the checksums changed with the talker: ignored sentences are still checked
    assert drain(decoder) == [NmeaChecksumError, NmeaChecksumError]
    decoder.feed(sentence("IIRMC,055910.250,A,3113.45612,N,12128.71833,E,5.1,47.1,230424,,,A"))
    decoder.feed(sentence("GPVTG,47.12,T,,M,5.102,N,9.449,K,A"))
    decoder.feed(sentence("GNXYZ,a type nobody knows") + sentence("PMTK001,604,3"))
    assert drain(decoder) == [] and decoder.ignored == 4


def test_rmc_alone_is_given_out_when_the_next_second_starts() -> None:
    # SANTIAGO's GGA adds nothing to its RMC, so an RMC alone is the whole fix
    rmc_only = [wire.split(b"\r\n")[0] + b"\r\n" for wire in (SANTIAGO_WIRE, SANTIAGO_NEXT_WIRE)]
    decoder = NmeaDecoder()
    decoder.feed(rmc_only[0])
    assert drain(decoder) == []
    decoder.feed(rmc_only[1])
    assert_events(drain(decoder), [SANTIAGO])
    assert_events([decoder.flush()], [SANTIAGO_NEXT])


def test_gga_alone_borrows_the_last_rmc_date_across_midnight() -> None:
    decoder = NmeaDecoder()
    decoder.feed(SANTIAGO_WIRE)  # 2023-12-31 23:59:59.999 with a date
    decoder.feed(SANTIAGO_NEXT_WIRE.split(b"\r\n")[1] + b"\r\n")  # GGA of 00:00:00.999
    events = [*drain(decoder), decoder.flush()]
    assert [fix.timestamp_ms for fix in events] == [1_704_067_199_999, 1_704_067_200_999]
    assert events[1].speed_kmh == 0.0 and events[1].course_deg is None


def test_over_long_line_is_one_error_then_decoding_resumes() -> None:
    for wire in (b"A" * 500 + b"\r\n", b"$GPTXT," + b"x" * (MAX_LINE_LENGTH + 10) + b"\r\n"):
        assert_events(decode_bytewise(wire + SHANGHAI_WIRE), [NmeaFrameError, SHANGHAI])
        assert_events(decode_whole(wire + SHANGHAI_WIRE), [NmeaFrameError, SHANGHAI])


@pytest.mark.parametrize(
    ("wire", "error", "message"),
    [
        (sentence("GPRMC,1,A", 0x12), NmeaChecksumError, "NMEA GPRMC: checksum 0x12, computed 0x"),
        (b"$GPRMC,123519,A\r\n", NmeaChecksumError, "NMEA GPRMC: checksum missing"),
        (b"$GPRMC,1*ZZ\r\n", NmeaChecksumError, "checksum field 'ZZ' is not two hex digits"),
        (b"$GP\xc3\xa9RMC\r\n", NmeaFrameError, "byte 0xC3 at offset 3 is not ASCII"),
        (b"hello\r\n", NmeaFrameError, "5 bytes before '$': 'hello'"),
        (
            sentence("GPGGA,123519,48x7.0,N,01131.000,E,1,08,0.9,545.4,M,,M,,"),
            NmeaPayloadError,
            "NMEA GPGGA: lat '48x7.0','N' invalid",
        ),
        (
            sentence("GPRMC,123519,A,4807.038,N,01131.000,E,fast,084.4,230394,,"),
            NmeaPayloadError,
            "NMEA GPRMC: spd_over_grnd 'fast' is not a number",
        ),
        (
            sentence("GPRMC,123519,A,4807.038,N,01131.000,E,1.0,084.4,310294,,"),
            NmeaPayloadError,
            "NMEA GPRMC: date '310294' is not ddmmyy",
        ),
        (
            sentence("GPRMC,256100,A,4807.038,N,01131.000,E,1.0,084.4,230394,,"),
            NmeaPayloadError,
            "NMEA GPRMC: time '256100' is not hhmmss.ss",
        ),
        (
            sentence("GPRMC,123519,X,4807.038,N,01131.000,E,1.0,084.4,230394,,"),
            NmeaPayloadError,
            "NMEA GPRMC: status 'X', expected 'A' or 'V'",
        ),
    ],
)
def test_errors_explain_and_do_not_stop_the_decoder(wire, error, message) -> None:
    decoder = NmeaDecoder()
    decoder.feed(wire + SHANGHAI_WIRE)
    with pytest.raises(error) as caught:
        decoder.next_fix()
    assert message in str(caught.value)
    assert isinstance(caught.value, ProtocolError)
    assert_events(drain(decoder), [SHANGHAI])


def test_error_classes_sit_in_the_shared_tree() -> None:
    assert issubclass(NmeaChecksumError, ChecksumError)
    assert issubclass(NmeaFrameError, FrameError)
    assert issubclass(NmeaUnknownSentenceError, UnknownMessageError)


def test_describe_one_sentence() -> None:
    line = SHANGHAI_WIRE.split(b"\r\n")[0].decode()
    described = describe(line)
    assert described["sentence"] == "GNRMC"
    assert (described["talker"], described["sentence_type"]) == ("GN", "RMC")
    assert described["fields"]["lat"] == "3113.45612"
    assert described["decoded"]["timestamp_ms"] == SHANGHAI.timestamp_ms
    assert described["decoded"]["valid"] is True
    json.dumps(described)  # JSON-ready
    gsv = describe(
        sentence("GPGSV,1,1,04,05,40,083,46,12,30,300,41,15,70,180,44,24,12,045,30").decode()
    )
    assert gsv["fields"]["num_sv_in_view"] == "04" and "decoded" not in gsv


@pytest.mark.parametrize(
    ("line", "error", "message"),
    [
        (
            sentence("GPXYZ,1,2").decode(),
            NmeaUnknownSentenceError,
            "NMEA GPXYZ: unknown sentence type",
        ),
        ("GPRMC,1", NmeaFrameError, "expected '$' at the start"),
        ("$GPRMC,1*00", NmeaChecksumError, "checksum 0x00, computed 0x"),
    ],
)
def test_describe_errors(line, error, message) -> None:
    with pytest.raises(error, match=message.replace("$", r"\$")):
        describe(line)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lat": 91.0}, "outside WGS-84 range"),
        ({"speed_kmh": -1.0}, "is not a ground speed"),
        ({"course_deg": 400.0}, "outside 0..360"),
        ({"satellites": 120}, "do not fit two digits"),
        ({"timestamp_ms": -5}, "is not 1970..2068"),
        ({"altitude_m": float("nan")}, "altitude nan"),
    ],
)
def test_encoder_refuses_what_nmea_cannot_say(change, message) -> None:
    with pytest.raises(NmeaPayloadError, match=message):
        encode_fix(PositionFix(**(SHANGHAI.to_dict() | change)))


def test_to_dict_is_every_field() -> None:
    assert SHANGHAI.to_dict() == {
        "timestamp_ms": 1_713_851_950_250,
        "lat": SHANGHAI.lat,
        "lon": SHANGHAI.lon,
        "speed_kmh": SHANGHAI.speed_kmh,
        "course_deg": 47.12,
        "altitude_m": 12.5,
        "hdop": 1.2,
        "satellites": 8,
        "valid": True,
    }


def optional(strategy):
    return st.none() | strategy


FIXES = st.builds(
    PositionFix,
    timestamp_ms=optional(st.integers(946_684_800_000, 3_124_137_599_999)),  # 2000..2068
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
    speed_kmh=st.floats(0, 500),
    course_deg=optional(st.floats(0, 359.99)),
    altitude_m=optional(st.floats(-500, 9000)),
    hdop=optional(st.floats(0, 99.99)),
    satellites=optional(st.integers(0, 99)),
    valid=st.booleans(),
)


@given(fix=FIXES, talker=st.sampled_from(["GN", "GP"]))
def test_encode_decode_round_trip(fix: PositionFix, talker: str) -> None:
    wire = encode_fix(fix, talker)
    assert all(len(line) <= 82 for line in wire.split(b"\n"))  # NMEA's own limit
    assert_events(decode_whole(wire), [fix], precision=1.0)
