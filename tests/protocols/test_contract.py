"""The fleet MQTT contract: topics, payload round trips, and errors that say what is wrong."""

import json
import math
import runpy
import subprocess
import sys
import zlib
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols import contract
from protocols.contract import (
    Ack,
    AckCode,
    AckResult,
    BmsSample,
    Channel,
    Command,
    DeviceConfig,
    Event,
    EventBatch,
    LeaseTerm,
    PositionSample,
    Status,
    TelemetryBatch,
    Topic,
    VehicleSample,
)
from protocols.contract.schema import SCHEMA_NAMES, load_schema
from tests.hypothesis_support import examples

NOW = 1_732_350_000_000

BMS = BmsSample(
    seq=7,
    ts=NOW,
    pack_voltage_v=52.31,
    current_a=-12.5,
    soc_percent=81.0,
    cell_voltages_v=(3.271, 3.268, 3.275, 3.270),
    temperatures_c=(25.1, 26.0),
    charge_mos=True,
    discharge_mos=False,
    remaining_ah=24.3,
    full_capacity_ah=30.0,
    cycles=0,
    protection=frozenset({"cell_over_voltage"}),
    balancing=frozenset({2, 4}),
)
POSITION = PositionSample(
    seq=8, ts=NOW, lat=22.534567, lon=113.934321, valid=True, speed_kmh=0.0, satellites=9
)
VEHICLE = VehicleSample(seq=9, ts=NOW, signals={"motor_rpm": 3120, "vehicle_speed_kmh": 24.5})

MESSAGES = [
    TelemetryBatch((BMS, POSITION, VEHICLE)),
    TelemetryBatch(
        (PositionSample(seq=1, ts=NOW, lat=-33.9, lon=151.2, valid=False, resent=True),)
    ),
    EventBatch((Event(seq=10, ts=NOW, type="boot", detail={"reason": "power_on"}),)),
    Ack(cmd_id="c-1", ts=NOW, result=AckResult.DONE, observed={"discharge_mos": False}),
    Ack(
        cmd_id="c-2",
        ts=NOW,
        result=AckResult.REJECTED,
        reason="bad signature",
        code=AckCode.BAD_SIGNATURE,
    ),
    Status(online=True, ts=NOW, counters={"jbd_checksum": 3}),
    Status(online=False),
    Command(cmd_id="c-1", type="set_discharge", args={"on": False}, issued_at=NOW, expires_at=NOW),
    LeaseTerm(version=3, leased=True, cutoff_when_not_leased=True, issued_at=NOW, grace_s=0),
    LeaseTerm(version=4, leased=False, cutoff_when_not_leased=False, issued_at=NOW),
    DeviceConfig(version=1, report_interval_s=10, upload_interval_s=60),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_every_channel(message, compress):
    channel = contract.channel_of(message)
    if compress and channel not in (Channel.TELEMETRY, Channel.EVENT):
        with pytest.raises(ValueError, match="never compressed"):
            contract.encode(message, compress=True)
        return
    data = contract.encode(message, compress=compress)
    assert (data[:1] == b"\x78") == compress
    assert contract.decode(channel, data) == message


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_encoded_payloads_pass_the_reference_validator(message):
    """fastjsonschema (edge) and the 2020-12 reference validator agree on what we send."""
    channel = contract.channel_of(message)
    document = json.loads(contract.encode(message))
    jsonschema.Draft202012Validator(load_schema(channel.schema_name)).validate(document)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schemas_are_valid_2020_12(name):
    schema = load_schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_topics_build_and_parse():
    topic = Topic("pack-0001", Channel.TELEMETRY)
    assert str(topic) == "vr/v1/pack-0001/up/telemetry"
    assert Topic.parse("vr/v1/pack-0001/down/lease") == Topic("pack-0001", Channel.LEASE)
    assert Channel.STATUS.retained and Channel.LEASE.retained and not Channel.CMD.retained
    assert Channel.ACK.uplink and not Channel.CONFIG.uplink
    assert contract.device_downlink_filter("pack-0001") == "vr/v1/pack-0001/down/#"


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("vr/v2/pack/up/telemetry", "expected vr/v1/"),
        ("vr/v1/pack/up/telemetry/extra", "expected vr/v1/"),
        ("vr/v1/pack/up/gossip", "unknown channel"),
        ("vr/v1/+/up/telemetry", r"device id '\+'"),
        ("vr/v1//up/telemetry", "device id ''"),
    ],
)
def test_bad_topics_say_why(topic, reason):
    with pytest.raises(contract.TopicError, match=reason):
        Topic.parse(topic)


@pytest.mark.parametrize(
    ("payload", "error", "says"),
    [
        (b"not json", contract.NotJson, "not JSON"),
        (b"\xff\xfe{}", contract.NotJson, "not UTF-8"),
        (b'{"samples": [{"type": "bms", "seq": NaN}]}', contract.NotJson, "NaN"),
        (b"\x78\x9c garbage", contract.NotJson, "corrupt zlib"),
        (zlib.compress(b'{"samples": [')[:-3], contract.NotJson, "zlib"),
        (b"{}", contract.SchemaViolation, "must contain \\['samples'\\]"),
        (
            b'{"samples": [{"type": "position", "seq": 1, "ts": 1, "lat": 91, '
            b'"lon": 0, "valid": true}]}',
            contract.SchemaViolation,
            r"\$.samples\[0\].lat must be smaller than or equal to 90",
        ),
        (
            b'{"samples": [{"type": "vehicle", "seq": "1", "ts": 1, "signals": {}}]}',
            contract.SchemaViolation,
            r"\$.samples\[0\].seq must be integer",
        ),
        (b"{" + b" " * (300 * 1024) + b"}", contract.PayloadTooLarge, "limit is"),
        (zlib.compress(b" " * (2 * 1024 * 1024)), contract.PayloadTooLarge, "inflates past"),
    ],
)
def test_bad_payloads_say_what_is_wrong(payload, error, says):
    with pytest.raises(error, match=says):
        contract.decode(Channel.TELEMETRY, payload)


def test_schema_violation_carries_the_json_path():
    with pytest.raises(contract.SchemaViolation) as info:
        contract.decode("up/ack", b'{"cmd_id": "x", "ts": 1, "result": "maybe"}')
    assert info.value.path == "$.result"
    assert info.value.schema == "ack"


def test_compression_only_on_telemetry_and_event():
    """A zlib-looking payload on another channel is just not JSON."""
    with pytest.raises(contract.NotJson):
        contract.decode(Channel.ACK, zlib.compress(b'{"cmd_id": "x"}'))


def test_the_will_is_the_smallest_status():
    assert contract.encode(Status(online=False)) == b'{"online":false}'


def test_command_expiry():
    command = Command(cmd_id="c", type="locate", args={}, issued_at=NOW, expires_at=NOW + 1)
    assert not command.expired(NOW)
    assert command.expired(NOW + 1)


finite = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def bms_samples(draw):
    cells = draw(st.integers(1, 32))
    return BmsSample(
        seq=draw(st.integers(0, 2**53 - 1)),
        ts=draw(st.integers(0, 2**42)),
        pack_voltage_v=draw(finite.filter(lambda v: 0 <= v <= 1000)),
        current_a=draw(finite.filter(lambda v: -2000 <= v <= 2000)),
        soc_percent=draw(finite.filter(lambda v: 0 <= v <= 100)),
        cell_voltages_v=tuple(draw(st.lists(st.floats(0, 6), min_size=cells, max_size=cells))),
        temperatures_c=tuple(draw(st.lists(st.floats(-60, 200), max_size=8))),
        charge_mos=draw(st.booleans()),
        discharge_mos=draw(st.booleans()),
        cycles=draw(st.none() | st.integers(0, 65535)),
        protection=frozenset(
            draw(st.lists(st.sampled_from(["cell_over_voltage", "short_circuit"])))
        ),
        balancing=frozenset(draw(st.lists(st.integers(1, cells)))),
        resent=draw(st.booleans()),
    )


@st.composite
def position_samples(draw):
    return PositionSample(
        seq=draw(st.integers(0, 2**53 - 1)),
        ts=draw(st.integers(0, 2**42)),
        lat=draw(st.floats(-90, 90)),
        lon=draw(st.floats(-180, 180)),
        valid=draw(st.booleans()),
        speed_kmh=draw(st.none() | st.floats(0, 300)),
        course_deg=draw(st.none() | st.floats(0, 359.9)),
        resent=draw(st.booleans()),
    )


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(bms_samples() | position_samples(), min_size=1, max_size=20), st.booleans())
def test_property_telemetry_round_trip(samples, compress):
    batch = TelemetryBatch(tuple(samples))
    decoded = contract.decode(Channel.TELEMETRY, contract.encode(batch, compress=compress))
    assert len(decoded.samples) == len(samples)
    for sent, got in zip(samples, decoded.samples, strict=True):
        assert type(got) is type(sent)
        assert (got.seq, got.ts, got.resent) == (sent.seq, sent.ts, sent.resent)
        if isinstance(sent, BmsSample):
            assert got.protection == sent.protection and got.balancing == sent.balancing
            assert all(
                math.isclose(a, b, abs_tol=0.0005)
                for a, b in zip(got.cell_voltages_v, sent.cell_voltages_v, strict=True)
            )
        else:
            assert math.isclose(got.lat, sent.lat, abs_tol=5e-7)
            assert got.valid == sent.valid


def test_committed_validators_match_the_schemas():
    """The precompiled validators are regenerated from the current schemas, byte for byte."""
    root = Path(__file__).resolve().parents[2]
    generator = runpy.run_path(str(root / "scripts" / "generate_validators.py"))
    committed = (root / "protocols" / "contract" / "_validators.py").read_text("utf-8")
    assert committed == generator["render_module"](), (
        f"protocols/contract/_validators.py is out of date: run {generator['COMMAND']}"
    )


def test_validation_never_compiles_a_schema_at_run_time():
    """A fresh interpreter validates a payload without fastjsonschema's code generator."""
    code = (
        "import sys, fastjsonschema.generator as g\n"
        "g.CodeGenerator.func_code = property(lambda self: sys.exit('compiled at run time'))\n"
        "from protocols.contract import decode\n"
        'decode(\'up/telemetry\', b\'{"samples": [{"type": "position", "seq": 1, "ts": 1,'
        ' "lat": 1, "lon": 2, "valid": true}]}\')\n'
    )
    subprocess.run([sys.executable, "-c", code], check=True)
