"""JBD frames and data registers: one table decoded three ways and encoded, captured frames,
round trips, resynchronisation and errors that say what is wrong."""

import dataclasses
import datetime
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.errors import ChecksumError, FrameError, PayloadError, ProtocolError
from protocols.jbd import (
    PROTECTION_NAMES,
    BasicInfo,
    CellVoltages,
    FrameDecoder,
    HardwareVersion,
    JbdChecksumError,
    JbdError,
    JbdFrameError,
    JbdPayloadError,
    JbdStatusError,
    Mode,
    Request,
    Response,
    basic_info_request,
    cell_voltages_request,
    decode_mosfet_control,
    describe,
    hardware_version_request,
    mosfet_control_request,
    parse_frame,
    read_request,
)
from protocols.jbd.registers import PROTECTION_BITS


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# Captured from real boards (published protocol documents and projects' test fixtures).
BASIC_15S = h(
    "DD 03 00 1B 17 00 00 00 02 D0 03 E8 00 00 20 78 00 00 00 00 00 00 10 48 03 0F 02"
    " 0B 76 0B 82 FB FF 77"
)
BASIC_4S = h(
    "DD 03 00 1D 05 38 02 83 17 5C 27 DE 00 09 2B 94 00 00 00 00 00 00 20 3B 03 04 03"
    " 0B 7F 0B 6C 0B 69 FB 07 77"
)
CELLS_15S = h(
    "DD 04 00 1E 0F 66 0F 63 0F 63 0F 64 0F 3E 0F 63 0F 37 0F 5B 0F 65 0F 3B 0F 63 0F 63"
    " 0F 3C 0F 66 0F 3D F9 F9 77"
)
CELLS_4S = h("DD 04 00 08 0D E2 0D DC 0D EC 0D ED FC 2D 77")
HARDWARE = h("DD 05 00 0A 30 31 32 33 34 35 36 37 38 39 FD E9 77")
# A board whose firmware puts 0xA5 where the register belongs; the checksum skips byte 1.
CELLS_12S_A5 = h(
    "DD A5 00 18 10 39 10 3A 10 38 10 3A 10 3C 10 39 10 37 10 39 10 3B 10 3F 10 36 10 3A FC 74 77"
)
# Invented: 0xDD and "DD 77" inside data; newer firmware's bytes after the NTCs.
CELLS_WITH_DD = h("DD 04 00 08 0D DD DD 77 0F 66 77 DD FB F1 77")
BASIC_EXTENDED = h(
    "DD 03 00 27 05 38 02 83 17 5C 27 DE 00 09 2B 94 00 00 00 00 00 00 20 3B 03 04 03"
    " 0B 7F 0B 6C 0B 69 00 00 00 00 27 DE 17 5C 00 00 F9 85 77"
)

FRAME_CASES = [
    ("request", h("DD A5 03 00 FF FD 77"), Request(Mode.READ, 0x03)),
    ("request", h("DD A5 04 00 FF FC 77"), Request(Mode.READ, 0x04)),
    ("request", h("DD A5 05 00 FF FB 77"), Request(Mode.READ, 0x05)),
    ("request", h("DD A5 AA 00 FF 56 77"), Request(Mode.READ, 0xAA)),
    ("request", h("DD 5A E1 02 00 02 FF 1B 77"), Request(Mode.WRITE, 0xE1, h("00 02"))),
    ("request", h("DD 5A 00 02 56 78 FF 30 77"), Request(Mode.WRITE, 0x00, h("56 78"))),
    ("request", h("DD 5A 01 02 28 28 FF AD 77"), Request(Mode.WRITE, 0x01, h("28 28"))),
    ("request", h("DD 5A 24 02 0E 42 FF 8A 77"), Request(Mode.WRITE, 0x24, h("0E 42"))),
    ("response", BASIC_15S, Response(0x03, 0x00, BASIC_15S[4:-3])),
    ("response", BASIC_4S, Response(0x03, 0x00, BASIC_4S[4:-3])),
    ("response", CELLS_15S, Response(0x04, 0x00, CELLS_15S[4:-3])),
    ("response", CELLS_4S, Response(0x04, 0x00, CELLS_4S[4:-3])),
    ("response", HARDWARE, Response(0x05, 0x00, b"0123456789")),
    ("response", CELLS_12S_A5, Response(0xA5, 0x00, CELLS_12S_A5[4:-3])),
    ("response", CELLS_WITH_DD, Response(0x04, 0x00, h("0D DD DD 77 0F 66 77 DD"))),
    ("response", BASIC_EXTENDED, Response(0x03, 0x00, BASIC_EXTENDED[4:-3])),
    ("response", h("DD E1 00 00 00 00 77"), Response(0xE1)),
    ("response", h("DD 24 00 02 0E 42 FF AE 77"), Response(0x24, 0x00, h("0E 42"))),
    ("response", h("DD 24 80 00 FF 80 77"), Response(0x24, 0x80)),
]
CASE_IDS = [f"{direction}-{frame[:8].hex()}" for direction, frame, _ in FRAME_CASES]
TRAILING_GARBAGE = b"\x00\x13\x37\x42"


def decode_all(direction, chunks):
    decoder = FrameDecoder(direction=direction)
    frames = []
    for chunk in chunks:
        decoder.feed(chunk)
        while (frame := decoder.next_frame()) is not None:
            frames.append(frame)
    return frames, decoder


@pytest.mark.parametrize(("direction", "frame", "expected"), FRAME_CASES, ids=CASE_IDS)
def test_decoder_whole_buffer(direction, frame, expected):
    frames, decoder = decode_all(direction, [frame])
    assert frames == [expected]
    assert decoder.pending_bytes == 0
    assert decoder.discarded_bytes == 0


@pytest.mark.parametrize(("direction", "frame", "expected"), FRAME_CASES, ids=CASE_IDS)
def test_decoder_byte_at_a_time(direction, frame, expected):
    decoder = FrameDecoder(direction=direction)
    for byte in frame[:-1]:
        decoder.feed(bytes((byte,)))
        assert decoder.next_frame() is None
    decoder.feed(frame[-1:])
    assert decoder.next_frame() == expected
    assert decoder.next_frame() is None


@pytest.mark.parametrize(("direction", "frame", "expected"), FRAME_CASES, ids=CASE_IDS)
def test_decoder_trailing_garbage(direction, frame, expected):
    decoder = FrameDecoder(direction=direction)
    decoder.feed(frame + TRAILING_GARBAGE)
    assert decoder.next_frame() == expected
    assert decoder.pending_bytes == len(TRAILING_GARBAGE)  # left alone until asked
    with pytest.raises(JbdFrameError, match="4 bytes of garbage: 00 13 37 42"):
        decoder.next_frame()
    assert decoder.discarded_bytes == len(TRAILING_GARBAGE)
    assert decoder.next_frame() is None


@pytest.mark.parametrize(("direction", "frame", "expected"), FRAME_CASES, ids=CASE_IDS)
def test_encoder_and_strict_parser(direction, frame, expected):
    assert expected.to_bytes() == frame
    assert parse_frame(frame, direction) == expected
    assert type(expected).from_bytes(frame) == expected


CELLS_15S_VOLTS = (3.942, 3.939, 3.939, 3.94, 3.902, 3.939, 3.895, 3.931, 3.941, 3.899, 3.939,
                   3.939, 3.9, 3.942, 3.901)  # fmt: skip
PAYLOAD_CASES = [
    (
        BASIC_15S,
        BasicInfo(
            pack_voltage_v=58.88,
            current_a=0.0,
            remaining_ah=7.2,
            nominal_ah=10.0,
            cycles=0,
            production_date=datetime.date(2016, 3, 24),
            balancing=frozenset(),
            protection=frozenset(),
            software_version="1.0",
            rsoc_percent=72,
            charge_mos=True,
            discharge_mos=True,
            cell_count=15,
            temperatures_c=(20.3, 21.5),
        ),
    ),
    (
        BASIC_4S,
        BasicInfo(
            pack_voltage_v=13.36,
            current_a=6.43,
            remaining_ah=59.8,
            nominal_ah=102.06,
            cycles=9,
            production_date=datetime.date(2021, 12, 20),
            balancing=frozenset(),
            protection=frozenset(),
            software_version="2.0",
            rsoc_percent=59,
            charge_mos=True,
            discharge_mos=True,
            cell_count=4,
            temperatures_c=(21.2, 19.3, 19.0),
        ),
    ),
    (
        BASIC_EXTENDED,
        BasicInfo(
            pack_voltage_v=13.36,
            current_a=6.43,
            remaining_ah=59.8,
            nominal_ah=102.06,
            cycles=9,
            production_date=datetime.date(2021, 12, 20),
            balancing=frozenset(),
            protection=frozenset(),
            software_version="2.0",
            rsoc_percent=59,
            charge_mos=True,
            discharge_mos=True,
            cell_count=4,
            temperatures_c=(21.2, 19.3, 19.0),
            extra=h("00 00 00 00 27 DE 17 5C 00 00"),
        ),
    ),
    (
        CELLS_15S,
        CellVoltages(CELLS_15S_VOLTS),
    ),
    (CELLS_4S, CellVoltages((3.554, 3.548, 3.564, 3.565))),
    (HARDWARE, HardwareVersion("0123456789")),
]


@pytest.mark.parametrize(("frame", "payload"), PAYLOAD_CASES, ids=lambda v: str(v)[:20])
def test_payload_table(frame, payload):
    response = Response.from_bytes(frame)
    assert type(payload).from_response(response) == payload
    assert payload.to_response().to_bytes() == frame
    assert json.loads(json.dumps(payload.to_dict())) == payload.to_dict()


def test_basic_info_bits():
    info = PAYLOAD_CASES[0][1]
    flagged = dataclasses.replace(
        info,
        balancing=frozenset({1, 16, 17, 32}),
        protection=frozenset({"cell_over_voltage", "short_circuit", "protection_bit_15"}),
        charge_mos=False,
        current_a=-12.5,
    )
    data = flagged.to_bytes()
    assert data[2:4] == (-1250).to_bytes(2, "big", signed=True)
    assert data[12:16] == h("80 01 80 01")  # cells 1,16 low word; 17,32 high word
    assert data[16:18] == (1 << 0 | 1 << 10 | 1 << 15).to_bytes(2, "big")
    assert data[20] == 0x02  # discharge on, charge off
    assert BasicInfo.from_bytes(data) == flagged
    assert PROTECTION_NAMES[12] == "mosfet_software_lock"
    assert flagged.to_dict()["protection"] == [
        "cell_over_voltage",
        "short_circuit",
        "protection_bit_15",
    ]


def test_unset_production_date_is_none():
    data = bytearray(PAYLOAD_CASES[0][1].to_bytes())
    data[10:12] = b"\x00\x00"
    assert BasicInfo.from_bytes(bytes(data)).production_date is None


def test_request_helpers():
    assert basic_info_request() == h("DD A5 03 00 FF FD 77")
    assert cell_voltages_request() == h("DD A5 04 00 FF FC 77")
    assert hardware_version_request() == h("DD A5 05 00 FF FB 77")
    assert read_request(0xAA) == h("DD A5 AA 00 FF 56 77")
    assert mosfet_control_request(True, True) == h("DD 5A E1 02 00 00 FF 1D 77")
    assert mosfet_control_request(False, True) == h("DD 5A E1 02 00 01 FF 1C 77")
    assert mosfet_control_request(True, False) == h("DD 5A E1 02 00 02 FF 1B 77")
    assert mosfet_control_request(False, False) == h("DD 5A E1 02 00 03 FF 1A 77")
    for charge in (False, True):
        for discharge in (False, True):
            request = Request.from_bytes(mosfet_control_request(charge, discharge))
            assert decode_mosfet_control(request.data) == (charge, discharge)


# -- round trips ---------------------------------------------------------------------
def scaled(low, high, divisor):
    return st.integers(low, high).map(lambda raw: raw / divisor)


basic_infos = st.builds(
    BasicInfo,
    pack_voltage_v=scaled(0, 0xFFFF, 100),
    current_a=scaled(-0x8000, 0x7FFF, 100),
    remaining_ah=scaled(0, 0xFFFF, 100),
    nominal_ah=scaled(0, 0xFFFF, 100),
    cycles=st.integers(0, 0xFFFF),
    production_date=st.none() | st.dates(datetime.date(2000, 1, 1), datetime.date(2127, 12, 31)),
    balancing=st.frozensets(st.integers(1, 32)),
    protection=st.frozensets(st.sampled_from(sorted(PROTECTION_BITS))),
    software_version=st.builds("{}.{}".format, st.integers(0, 15), st.integers(0, 15)),
    rsoc_percent=st.integers(0, 255),
    charge_mos=st.booleans(),
    discharge_mos=st.booleans(),
    cell_count=st.integers(0, 255),
    temperatures_c=st.lists(st.integers(0, 0xFFFF).map(lambda r: (r - 2731) / 10), max_size=8).map(
        tuple
    ),
    extra=st.binary(max_size=16),
)


@given(basic_infos)
def test_basic_info_round_trip(info):
    frame = info.to_response().to_bytes()
    assert BasicInfo.from_response(Response.from_bytes(frame)) == info


@given(st.lists(scaled(0, 0xFFFF, 1000), max_size=127).map(tuple))
def test_cell_voltages_round_trip(voltages):
    cells = CellVoltages(voltages)
    assert CellVoltages.from_response(Response.from_bytes(cells.to_response().to_bytes())) == cells


@given(st.text(st.characters(max_codepoint=0xFF), max_size=255))
def test_hardware_version_round_trip(text):
    version = HardwareVersion(text)
    assert HardwareVersion.from_bytes(version.to_bytes()) == version


frames = st.one_of(
    st.builds(Request, st.sampled_from(Mode), st.integers(0, 255), st.binary(max_size=255)),
    st.builds(
        Response, st.integers(0, 255), st.sampled_from([0x00, 0x80]), st.binary(max_size=255)
    ),
)


@given(st.lists(frames, min_size=1, max_size=4), st.data())
def test_decoder_round_trip_any_chunking(sent, data):
    sent = [frame for frame in sent if isinstance(frame, type(sent[0]))]
    direction = "request" if isinstance(sent[0], Request) else "response"
    stream = b"".join(frame.to_bytes() for frame in sent)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    received, decoder = decode_all(direction, chunks)
    assert received == sent
    assert decoder.discarded_bytes == 0


# -- resynchronisation ---------------------------------------------------------------
def collect(decoder):
    """Frames and errors until the decoder needs more bytes."""
    frames, errors = [], []
    while True:
        try:
            frame = decoder.next_frame()
        except JbdError as err:
            errors.append(err)
            continue
        if frame is None:
            return frames, errors
        frames.append(frame)


def test_resync_after_garbage_with_stray_start_byte():
    decoder = FrameDecoder("response")
    # A stray 0xDD whose "length" would swallow the real frame: the complete frame behind
    # it proves it was noise, so the decoder does not wait for bytes that never come.
    decoder.feed(h("01 DD 03 00 40") + BASIC_15S)
    frames, errors = collect(decoder)
    assert frames == [Response.from_bytes(BASIC_15S)]
    assert len(errors) == 2
    assert decoder.discarded_bytes == 5


def test_resync_byte_at_a_time_through_garbage_and_bad_frames():
    corrupt = CELLS_4S[:-3] + h("CA FE 77")
    stream = h("77 DD DD 5A") + corrupt + BASIC_15S + CELLS_12S_A5[:9] + CELLS_WITH_DD
    decoder = FrameDecoder("response")
    frames, errors = [], []
    for byte in stream:
        decoder.feed(bytes((byte,)))
        more_frames, more_errors = collect(decoder)
        frames += more_frames
        errors += more_errors
    assert frames == [Response.from_bytes(BASIC_15S), Response.from_bytes(CELLS_WITH_DD)]
    assert any(isinstance(err, JbdChecksumError) for err in errors)
    assert decoder.discarded_bytes == 4 + len(corrupt) + 9
    assert decoder.pending_bytes == 0


def test_request_decoder_refuses_response_bytes():
    decoder = FrameDecoder("request")
    decoder.feed(BASIC_15S + h("DD A5 03 00 FF FD 77"))
    frames, errors = collect(decoder)
    assert frames == [Request.read(0x03)]
    assert "request mode byte 0x03" in str(errors[0])


def test_clear_drops_a_partial_frame():
    decoder = FrameDecoder()
    decoder.feed(BASIC_15S[:10])
    assert decoder.next_frame() is None
    assert decoder.clear() == 10
    assert decoder.discarded_bytes == 10
    decoder.feed(BASIC_15S)
    assert decoder.next_frame() == Response.from_bytes(BASIC_15S)


# -- errors ----------------------------------------------------------------------------
def test_error_tree():
    assert issubclass(JbdChecksumError, JbdError)
    assert issubclass(JbdChecksumError, ChecksumError)
    assert issubclass(JbdFrameError, FrameError)
    assert issubclass(JbdPayloadError, PayloadError)
    assert issubclass(JbdStatusError, ProtocolError)


@pytest.mark.parametrize(
    ("frame", "error", "message"),
    [
        (CELLS_4S[:-3] + h("CA FE 77"), JbdChecksumError, "checksum 0xCAFE, computed 0xFC2D"),
        (CELLS_4S[:-1] + h("78"), JbdFrameError, "byte 14 is 0x78, expected the end byte 0x77"),
        (CELLS_4S[:9], JbdFrameError, "truncated, 9 bytes of a 15-byte frame"),
        (CELLS_4S + h("00"), JbdFrameError, "1 bytes after the end byte: 00"),
        (h("AA") + CELLS_4S[1:], JbdFrameError, "starts with 0xAA, expected 0xDD"),
        (h("DD 04 11 00 FF EF 77"), JbdFrameError, "status byte 0x11, expected 0x00 or 0x80"),
    ],
)
def test_explaining_frame_errors(frame, error, message):
    with pytest.raises(error, match=message):
        parse_frame(frame)
    with pytest.raises(error, match=message):
        describe(frame)


def test_decoder_error_says_what_it_dropped():
    decoder = FrameDecoder()
    decoder.feed(CELLS_4S[:-3] + h("CA FE 77"))
    with pytest.raises(JbdChecksumError, match=r"computed 0xFC2D: DD 04 .*\(15 bytes dropped\)"):
        decoder.next_frame()


def test_register_decoders_refuse_error_status_and_wrong_register():
    with pytest.raises(JbdStatusError, match="register 0x03 answered with error status 0x80"):
        BasicInfo.from_response(Response(0x03, 0x80))
    with pytest.raises(JbdPayloadError, match="register 0x04, expected 0x03"):
        BasicInfo.from_response(Response.from_bytes(CELLS_4S))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: BasicInfo.from_bytes(BASIC_15S[4:20]), "16 data bytes, at least 23"),
        (lambda: BasicInfo.from_bytes(BASIC_15S[4:-5]), "2 NTCs need 27 data bytes, got 25"),
        (lambda: CellVoltages.from_bytes(h("0F 66 0F")), "3 data bytes, expected even"),
        (lambda: CellVoltages((70.0,)).to_bytes(), "cell voltage: 70.0 is outside 0..65.535"),
        (lambda: HardwareVersion("Ω").to_bytes(), "is not 8-bit"),
        (lambda: decode_mosfet_control(h("00 07")), "data 00 07, expected 00 00..00 03"),
    ],
)
def test_explaining_payload_errors(build, message):
    with pytest.raises(JbdPayloadError, match=message):
        build()


def test_basic_info_encoder_refuses_what_does_not_fit():
    info = PAYLOAD_CASES[0][1]
    for change, message in [
        ({"current_a": -400.0}, "current_a: -400.0 is outside -327.68..327.67"),
        ({"balancing": frozenset({33})}, "balancing cell 33 is not 1..32"),
        ({"protection": frozenset({"overheat"})}, r"unknown protection names \['overheat'\]"),
        ({"software_version": "1"}, "software version '1' is not like '1.0'"),
        ({"production_date": datetime.date(1999, 1, 1)}, "production year 1999"),
        ({"temperatures_c": (float("nan"),)}, "nan is not a finite number"),
    ]:
        with pytest.raises(JbdPayloadError, match=message):
            dataclasses.replace(info, **change).to_bytes()


# -- describe --------------------------------------------------------------------------
def test_describe_response_and_request():
    document = describe(BASIC_15S)
    assert json.loads(json.dumps(document)) == document
    assert document["direction"] == "response"
    assert document["register_name"] == "basic_info"
    assert document["checksum"] == "0xFBFF"
    assert document["payload"]["pack_voltage_v"] == 58.88
    assert document["payload"]["production_date"] == "2016-03-24"

    request = describe(h("DD 5A E1 02 00 02 FF 1B 77"))
    assert request["direction"] == "request"
    assert request["mode"] == "write"
    assert request["register_name"] == "mosfet_control"
    assert request["payload"] == {"charge_on": True, "discharge_on": False}

    refused = describe(h("DD 24 80 00 FF 80 77"))
    assert refused["status"] == "error 0x80"
    assert refused["register_name"] == "cell_over_voltage_v"
    assert refused["payload"] is None


def test_envelopes_refuse_what_does_not_fit():
    with pytest.raises(JbdFrameError, match="256 data bytes, at most 255 fit"):
        Request.write(0x10, bytes(256))
    with pytest.raises(JbdFrameError, match="register 256 does not fit one byte"):
        Response(256)
    with pytest.raises(JbdFrameError, match="request mode 7, expected 0xA5 or 0x5A"):
        Request(7, 0x03)
