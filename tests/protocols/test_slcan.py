"""slcan (LAWICEL) codec: one table of wire cases drives the decoder three ways and the
encoder; malformed records are explained, consumed and skipped."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.errors import FrameError, ProtocolError
from protocols.slcan import (
    CLOSE,
    MAX_RECORD,
    OPEN,
    VERSION,
    SlcanDecoder,
    SlcanError,
    SlcanEvent,
    SlcanFrame,
    SlcanFrameError,
    SlcanReply,
    SlcanReplyKind,
    bitrate_command,
    encode_frame,
    encode_reply,
    format_frame,
    parse_frame_record,
    timestamps_command,
)


class Case(NamedTuple):
    wire: bytes
    event: SlcanEvent


OK = SlcanReply(SlcanReplyKind.OK)
CASES = [
    Case(b"t1014DEADBEEF\r", SlcanFrame(0x101, bytes.fromhex("DEADBEEF"))),
    Case(b"t7FF0\r", SlcanFrame(0x7FF, b"")),
    Case(b"t0008" + b"0123456789ABCDEF" + b"\r", SlcanFrame(0, bytes.fromhex("0123456789ABCDEF"))),
    Case(b"T0CF11E053102030\r", SlcanFrame(0x0CF11E05, b"\x10\x20\x30", is_extended=True)),
    Case(b"T1FFFFFFF0\r", SlcanFrame(0x1FFFFFFF, b"", is_extended=True)),
    # Z1: four hex digits of milliseconds modulo one minute after the data
    Case(b"t10121234EA5F\r", SlcanFrame(0x101, b"\x12\x34", timestamp_ms=59_999)),
    Case(b"T0CF11E05004D2\r", SlcanFrame(0x0CF11E05, b"", True, timestamp_ms=1234)),
    Case(b"r1234\r", SlcanFrame(0x123, is_remote=True, remote_length=4)),
    Case(
        b"R0CF11E058\r", SlcanFrame(0x0CF11E05, is_extended=True, is_remote=True, remote_length=8)
    ),
    Case(b"\r", OK),
    Case(b"\a", SlcanReply(SlcanReplyKind.ERROR)),
    Case(b"z\r", SlcanReply(SlcanReplyKind.TRANSMITTED, "z")),
    Case(b"Z\r", SlcanReply(SlcanReplyKind.TRANSMITTED, "Z")),
    Case(b"V1013\r", SlcanReply(SlcanReplyKind.VALUE, "V1013")),
    Case(b"NA123\r", SlcanReply(SlcanReplyKind.VALUE, "NA123")),
    Case(b"F00\r", SlcanReply(SlcanReplyKind.VALUE, "F00")),
]
IDS = [case.wire.decode().replace("\r", "<CR>").replace("\a", "<BEL>") for case in CASES]


def encode(event: SlcanEvent) -> bytes:
    return encode_frame(event) if isinstance(event, SlcanFrame) else encode_reply(event)


def drain(decoder: SlcanDecoder) -> list[SlcanEvent]:
    events = []
    while (event := decoder.next_event()) is not None:
        events.append(event)
    return events


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_decode_whole_buffer(case: Case) -> None:
    decoder = SlcanDecoder()
    decoder.feed(case.wire)
    assert drain(decoder) == [case.event]
    assert decoder.pending == 0


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_decode_one_byte_at_a_time(case: Case) -> None:
    decoder = SlcanDecoder()
    events = []
    for index in range(len(case.wire)):
        decoder.feed(case.wire[index : index + 1])
        events += drain(decoder)
        if index < len(case.wire) - 1:
            assert events == []  # nothing before the terminator
    assert events == [case.event]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_decode_with_trailing_garbage(case: Case) -> None:
    decoder = SlcanDecoder()
    decoder.feed(case.wire + b"t10")  # the start of the next record, not complete
    assert drain(decoder) == [case.event]
    assert decoder.pending == 3


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_encode(case: Case) -> None:
    assert encode(case.event) == case.wire


def test_next_frame_skips_answers() -> None:
    decoder = SlcanDecoder()
    decoder.feed(b"\r\rV1013\rz\rt1011AA\r\a")
    assert decoder.next_frame() == SlcanFrame(0x101, b"\xaa")
    assert decoder.next_frame() is None


BAD_RECORDS = [
    (b"t10", "truncated, expected 3 id digits and a DLC"),
    (b"t1012AB", "DLC 2 needs 4 data digits (8 with a timestamp), got 2"),
    (b"t1014DEADBEEF00", "DLC 4 needs 8 data digits (12 with a timestamp), got 10"),
    (b"t1012ABXD", "'X' is not a hex digit"),
    (b"t101 2ABCD", "' ' is not a hex digit"),
    (b"t1019" + b"00" * 9, "DLC 9, classic CAN carries 0 to 8"),
    (b"t8001AA", "id 0x800 does not fit 11 bits"),
    (b"T200000000", "id 0x20000000 does not fit 29 bits"),
    (b"t1011AAEA60", "timestamp 60000 ms, expected 0 to 59999"),
    (b"x1011AA", "expected a frame letter t, T, r or R"),
    (b"?", "expected a frame letter"),
    (b"V1.0", "expected letters and digits"),
    (b"t101\xff", "not ASCII"),
]


@pytest.mark.parametrize(("record", "explanation"), BAD_RECORDS)
def test_malformed_record_is_explained_consumed_and_skipped(record: bytes, explanation: str):
    decoder = SlcanDecoder()
    decoder.feed(record + b"\rt1011AA\r")
    with pytest.raises(SlcanFrameError, match=explanation.replace("(", r"\(").replace(")", r"\)")):
        decoder.next_event()
    assert decoder.next_event() == SlcanFrame(0x101, b"\xaa")
    assert decoder.next_event() is None


def test_errors_belong_to_the_common_tree() -> None:
    assert issubclass(SlcanFrameError, FrameError)
    assert issubclass(SlcanError, ProtocolError) and issubclass(SlcanError, ValueError)


def test_garbled_record_before_a_bell_is_an_error_then_the_error_answer() -> None:
    decoder = SlcanDecoder()
    decoder.feed(b"xy\a\r")
    with pytest.raises(SlcanFrameError, match="'xy'"):
        decoder.next_event()
    assert drain(decoder) == [SlcanReply(SlcanReplyKind.ERROR), OK]


def test_a_record_without_cr_is_skipped_up_to_the_next_cr() -> None:
    decoder = SlcanDecoder()
    decoder.feed(b"0" * (MAX_RECORD + 1))
    with pytest.raises(SlcanFrameError, match=f"no CR within {MAX_RECORD} bytes"):
        decoder.next_event()
    decoder.feed(b"t1011AA" * 10)  # still the same noise: no second error, nothing decoded
    assert decoder.next_event() is None
    decoder.feed(b"\rt1011BB\r")
    assert drain(decoder) == [SlcanFrame(0x101, b"\xbb")]


def test_host_commands() -> None:
    assert bitrate_command(500_000) == b"S6\r"
    assert bitrate_command(10_000) == b"S0\r"
    assert bitrate_command(1_000_000) == b"S8\r"
    with pytest.raises(SlcanError, match="slcan bit rate 400000: expected one of 10000, "):
        bitrate_command(400_000)
    assert (OPEN, CLOSE, VERSION) == (b"O\r", b"C\r", b"V\r")
    assert timestamps_command(True) == b"Z1\r" and timestamps_command(False) == b"Z0\r"


def test_format_frame_wraps_the_timestamp_at_one_minute() -> None:
    assert format_frame(0x101, bytes.fromhex("DEADBEEF")) == b"t1014DEADBEEF\r"
    assert format_frame(0x0CF11E05, b"", True, 61_234) == b"T0CF11E05004D2\r"


@pytest.mark.parametrize(
    ("frame", "explanation"),
    [
        (SlcanFrame(0x800, b""), "id 0x800 does not fit 11 bits"),
        (SlcanFrame(0x2000_0000, b"", True), "id 0x20000000 does not fit 29 bits"),
        (SlcanFrame(0x101, bytes(9)), "9 data bytes, classic CAN carries 0 to 8"),
        (SlcanFrame(0x101, b"", timestamp_ms=60_000), "timestamp 60000 ms, expected 0 to 59999"),
    ],
)
def test_encoder_refuses_what_the_wire_cannot_carry(frame: SlcanFrame, explanation: str):
    with pytest.raises(SlcanError, match=explanation):
        encode_frame(frame)


def test_a_transmit_command_has_no_timestamp() -> None:
    assert parse_frame_record(b"t1011AA", timestamps=False) == SlcanFrame(0x101, b"\xaa")
    with pytest.raises(SlcanFrameError, match="DLC 1 needs 2 data digits, got 6"):
        parse_frame_record(b"t1011AA1234", timestamps=False)


frames = st.one_of(
    st.builds(
        SlcanFrame,
        arbitration_id=st.integers(0, 0x7FF),
        data=st.binary(max_size=8),
        is_extended=st.just(False),
        timestamp_ms=st.none() | st.integers(0, 59_999),
    ),
    st.builds(
        SlcanFrame,
        arbitration_id=st.integers(0, 0x1FFF_FFFF),
        data=st.binary(max_size=8),
        is_extended=st.just(True),
        timestamp_ms=st.none() | st.integers(0, 59_999),
    ),
    st.builds(
        SlcanFrame,
        arbitration_id=st.integers(0, 0x7FF),
        is_remote=st.just(True),
        remote_length=st.integers(0, 8),
    ),
)


@given(st.lists(frames, max_size=20), st.integers(1, 40))
def test_round_trip_in_any_fragments(sent: list[SlcanFrame], fragment: int) -> None:
    wire = b"".join(encode_frame(frame) for frame in sent)
    decoder = SlcanDecoder()
    received = []
    for start in range(0, len(wire), fragment):
        decoder.feed(wire[start : start + fragment])
        while (frame := decoder.next_frame()) is not None:
            received.append(frame)
    assert received == sent


@given(st.binary(max_size=200), frames)
def test_any_noise_raises_only_frame_errors_and_a_cr_resyncs(noise: bytes, frame: SlcanFrame):
    decoder = SlcanDecoder()
    decoder.feed(noise + b"\r" + encode_frame(frame))
    received = []
    for _ in range(len(noise) + 3):  # every call consumes a record or returns None
        try:
            event = decoder.next_event()
        except SlcanFrameError:
            continue
        if event is None:
            break
        received.append(event)
    assert received[-1] == frame
