"""Compressed telemetry and events: the preset dictionary, older plain zlib, and errors."""

import json
import random
import zlib
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols import contract
from protocols.canbus import CanCodec
from protocols.contract import (
    BmsSample,
    Channel,
    Event,
    EventBatch,
    PositionSample,
    TelemetryBatch,
    VehicleSample,
)
from protocols.contract.codec import (
    PRESET_DICTIONARIES,
    PRESET_DICTIONARY_ID,
    preset_dictionary,
)
from tests.hypothesis_support import examples

NOW = 1_732_350_000_000
REPORT_INTERVAL_MS = 10_000


def realistic_batch(seed: int = 1) -> TelemetryBatch:
    """One upload at the defaults: a BMS, GNSS and vehicle sample every 10 s for 60 s, a
    16S pack and every signal of the bundled light-EV DBC, as the agent records them."""
    rng = random.Random(seed)
    names = [signal.name for m in CanCodec(None).messages for signal in m.signals]
    samples = []
    lat, lon = 22.534567, 113.934321
    for round_index in range(6):
        ts = NOW + round_index * REPORT_INTERVAL_MS + rng.randrange(50)
        seq = 100 + 3 * round_index
        current = round(rng.uniform(-25, -5), 2)
        samples.append(
            BmsSample(
                seq=seq,
                ts=ts,
                pack_voltage_v=round(rng.uniform(51.5, 53.0), 2),
                current_a=current,
                soc_percent=81.0 - round_index * 0.1,
                cell_voltages_v=tuple(round(rng.uniform(3.25, 3.29), 3) for _ in range(16)),
                temperatures_c=tuple(round(rng.uniform(24, 28), 1) for _ in range(3)),
                charge_mos=True,
                discharge_mos=True,
                remaining_ah=round(24.3 - round_index * 0.05, 2),
                full_capacity_ah=30.0,
                cycles=112,
            )
        )
        lat, lon = lat + rng.uniform(0, 0.0006), lon + rng.uniform(0, 0.0006)
        samples.append(
            PositionSample(
                seq=seq + 1,
                ts=ts,
                lat=lat,
                lon=lon,
                valid=True,
                speed_kmh=round(rng.uniform(15, 30), 1),
                course_deg=round(rng.uniform(0, 359), 1),
                altitude_m=round(rng.uniform(18, 24), 1),
                hdop=0.9,
                satellites=rng.randrange(7, 12),
            )
        )
        signals = dict.fromkeys(names, 0)
        signals.update(
            motor_rpm=rng.randrange(2000, 4000),
            vehicle_speed=round(rng.uniform(15, 30), 2),
            phase_current=round(rng.uniform(20, 60), 1),
            throttle=rng.randrange(0, 200) / 2,
            message_counter=rng.randrange(16),
            controller_temperature=rng.randrange(35, 50),
            motor_temperature=rng.randrange(40, 60),
            bus_voltage=round(rng.uniform(51.5, 53.0), 1),
            bus_current=round(current, 1),
            drive_mode=1,
            pack_voltage=round(rng.uniform(51.5, 53.0), 2),
            pack_current=round(current, 1),
            soc=81.0,
            charge_mosfet_on=1,
            discharge_mosfet_on=1,
            soh=98.5,
            max_cell_voltage=3.289,
            min_cell_voltage=3.251,
            max_temperature=28,
            min_temperature=24,
            max_cell_number=rng.randrange(1, 17),
            min_cell_number=rng.randrange(1, 17),
        )
        samples.append(VehicleSample(seq=seq + 2, ts=ts, signals=signals))
    return TelemetryBatch(tuple(samples))


EVENTS = EventBatch(
    (
        Event(seq=1, ts=NOW, type="boot", severity="info", detail={"reason": "power_on"}),
        Event(
            seq=2,
            ts=NOW,
            type="bms_protection",
            severity="critical",
            detail={"protection": ["short_circuit"], "cleared": []},
        ),
    )
)


def dictionary_id(payload: bytes) -> int | None:
    """The preset dictionary a zlib stream names in its header, if any."""
    return int.from_bytes(payload[2:6], "big") if payload[1] & 0x20 else None


def plain_zlib(message) -> bytes:
    """What a device before the preset dictionary sends."""
    return zlib.compress(contract.encode(message), 9)


def deflate_with(dictionary: bytes, message) -> bytes:
    compressor = zlib.compressobj(9, zdict=dictionary)
    return compressor.compress(contract.encode(message)) + compressor.flush()


@pytest.mark.parametrize("message", [realistic_batch(), EVENTS], ids=["telemetry", "event"])
def test_compressed_payloads_name_and_use_the_preset_dictionary(message):
    data = contract.encode(message, compress=True)
    assert data[0] == 0x78
    assert dictionary_id(data) == PRESET_DICTIONARY_ID
    assert contract.decode(contract.channel_of(message), data).to_wire() == message.to_wire()


@pytest.mark.parametrize("message", [realistic_batch(), EVENTS], ids=["telemetry", "event"])
def test_plain_zlib_from_older_devices_still_decodes(message):
    data = plain_zlib(message)
    assert dictionary_id(data) is None
    assert contract.decode(contract.channel_of(message), data).to_wire() == message.to_wire()


def test_the_dictionary_shrinks_a_default_upload():
    batch = realistic_batch()
    plain = len(plain_zlib(batch))
    with_dictionary = len(contract.encode(batch, compress=True))
    assert with_dictionary < 0.8 * plain, (with_dictionary, plain)


def test_the_shipped_dictionary_is_pinned_json_under_32_kib():
    """Devices deflate with these exact bytes: editing the file must fail here, not in
    the field. It is also a JSON document, so tools that read schemas/*.json cope."""
    for known_id, name in PRESET_DICTIONARIES.items():
        data = resources.files("schemas").joinpath(name).read_bytes()
        assert zlib.adler32(data) == known_id, f"schemas/{name} changed"
        assert preset_dictionary(known_id) == data
        assert len(data) <= 32 * 1024
        json.loads(data)
    assert PRESET_DICTIONARY_ID in PRESET_DICTIONARIES


GOOD = contract.encode(realistic_batch(), compress=True)
OTHER_DICTIONARY = b'{"samples":[{"type":"bms","seq":'


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (
            deflate_with(OTHER_DICTIONARY, realistic_batch()),
            f"zlib stream needs preset dictionary 0x{zlib.adler32(OTHER_DICTIONARY):08X},"
            " which this receiver does not have",
        ),
        (GOOD[:4], r"truncated zlib header \(4 bytes; a preset dictionary id needs 6\)"),
        (GOOD[:6], "truncated zlib stream"),
        (GOOD[: len(GOOD) // 2], "truncated zlib stream"),
        (GOOD[:-2], "truncated zlib stream"),
        (GOOD[:-4] + bytes(b ^ 0xFF for b in GOOD[-4:]), "corrupt zlib stream.*incorrect data"),
        (GOOD[:20] + b"\xff" * 8 + GOOD[28:], "corrupt zlib stream"),
        (GOOD[:1] + bytes([GOOD[1] ^ 0x01]) + GOOD[2:], "corrupt zlib.*incorrect header check"),
        (GOOD + b"junk", "4 bytes after the zlib stream"),
        (plain_zlib(realistic_batch()) + b"\x00", "1 bytes after the zlib stream"),
    ],
    ids=[
        "unknown-dictionary",
        "header-cut",
        "header-only",
        "half",
        "checksum-cut",
        "checksum-wrong",
        "body-overwritten",
        "header-check",
        "trailing-garbage",
        "plain-trailing-garbage",
    ],
)
def test_bad_compressed_payloads_say_what_is_wrong(payload, says):
    with pytest.raises(contract.NotJson, match=says):
        contract.decode(Channel.TELEMETRY, payload)


def test_a_dictionary_stream_still_obeys_the_inflate_limit():
    compressor = zlib.compressobj(9, zdict=preset_dictionary(PRESET_DICTIONARY_ID))
    bomb = compressor.compress(b" " * (2 * 1024 * 1024)) + compressor.flush()
    with pytest.raises(contract.PayloadTooLarge, match="inflates past 1048576 bytes"):
        contract.decode(Channel.TELEMETRY, bomb)


signal_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)


@settings(max_examples=examples(100), deadline=None)
@given(
    st.lists(
        st.builds(
            VehicleSample,
            seq=st.integers(0, 2**53 - 1),
            ts=st.integers(0, 2**42),
            signals=st.dictionaries(signal_names, st.integers(-(2**31), 2**31), max_size=60),
            resent=st.booleans(),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_property_vehicle_round_trip_with_the_dictionary(samples):
    batch = TelemetryBatch(tuple(samples))
    data = contract.encode(batch, compress=True)
    assert dictionary_id(data) == PRESET_DICTIONARY_ID
    assert contract.decode(Channel.TELEMETRY, data) == batch
