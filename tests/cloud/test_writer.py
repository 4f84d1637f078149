"""The ingest writer against a real PostgreSQL, on each store layout: dedupe, state that only
moves forward, dead letters with reasons, unknown devices; and the plain path's day
partitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.cloud import wire_support as wire
from tests.cloud.wire_support import write
from tests.store_layouts import partitioned_only

pytestmark = pytest.mark.postgres


@pytest.fixture
def database(layout_database):
    """Each test's database, of each store layout (tests/store_layouts.py)."""
    return layout_database


def _register(url: str, *ids: str) -> None:
    with psycopg.connect(url) as conn:
        for device_id in ids:
            conn.execute("INSERT INTO device (id) VALUES (%s)", (device_id,))


def rows(url: str, query: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def test_telemetry_lands_in_each_table_and_state(database):
    _register(database, "pack-1")
    t = wire.now_ms()
    payload = wire.telemetry(
        wire.bms(1, t, soc=81.5), wire.position(2, t, speed_kmh=18.0), wire.vehicle(3, t)
    )
    counts = write(database, [(wire.topic("pack-1"), payload)])
    assert counts["samples_stored"] == 3 and counts["dead_letters"] == 0
    assert rows(database, "SELECT seq, soc_percent, cell_min_v, cell_max_v FROM bms_sample") == [
        (1, 81.5, pytest.approx(3.29), pytest.approx(3.32))
    ]
    assert rows(database, "SELECT seq, lat, lon FROM position") == [(2, 22.54, 113.93)]
    assert rows(database, "SELECT signals FROM vehicle_sample") == [({"motor_rpm": 1200.0},)]
    state = rows(
        database,
        "SELECT soc_percent, lat, speed_kmh, vehicle_signals, last_seq, bms_time FROM device_state",
    )
    assert state == [(81.5, 22.54, 18.0, {"motor_rpm": 1200.0}, 3, wire.utc(t))]


def test_the_same_telemetry_twice_is_stored_once(database):
    _register(database, "pack-1")
    t = wire.now_ms()
    payload = wire.telemetry(*(wire.bms(n, t + n * 1000) for n in range(1, 11)))
    first = write(database, [(wire.topic("pack-1"), payload)])
    second = write(database, [(wire.topic("pack-1"), payload), (wire.topic("pack-1"), payload)])
    assert first["samples_stored"] == 10
    assert second["samples_stored"] == 0 and second["samples_duplicate"] == 20
    assert rows(database, "SELECT count(*), count(DISTINCT seq) FROM bms_sample") == [(10, 10)]


def test_a_replayed_backlog_never_moves_the_state_back_in_time(database):
    _register(database, "pack-1")
    t = wire.now_ms()
    write(database, [(wire.topic("pack-1"), wire.telemetry(wire.bms(100, t, soc=40.0)))])
    backlog = wire.telemetry(
        *(wire.bms(n, t - (100 - n) * 60_000, soc=90.0, resent=True) for n in range(1, 100))
    )
    write(database, [(wire.topic("pack-1"), backlog)])
    assert rows(database, "SELECT soc_percent, bms_time, last_seq FROM device_state") == [
        (40.0, wire.utc(t), 100)
    ]
    assert rows(database, "SELECT count(*), count(*) FILTER (WHERE resent) FROM bms_sample") == [
        (100, 99)
    ]


def test_invalid_payloads_are_dead_lettered_with_their_reason(database):
    _register(database, "pack-1")
    t = wire.now_ms()
    good = wire.telemetry(wire.bms(1, t))
    sample = wire.bms(1, t).to_wire() | {"seq": "one"}  # a string where a number belongs
    wrong_type = json.dumps({"samples": [sample]}).encode()
    messages = [
        (wire.topic("pack-1"), b"\x00\xffnot json"),
        (wire.topic("pack-1"), b'{"samples": "nope"}'),
        (wire.topic("pack-1"), wrong_type),
        (wire.topic("pack-1"), b"x" * (10 * 1024 * 1024)),
        (wire.topic("pack-1"), good),
        ("vr/v1/pack-1/up/nonsense", good),
        ("vr/v1/pack-1/down/cmd", good),
    ]
    counts = write(database, messages)
    assert counts["samples_stored"] == 1 and counts["dead_letters"] == 6
    letters = rows(
        database,
        "SELECT topic, reason, payload_bytes, length(payload) FROM dead_letter ORDER BY id",
    )
    reasons = [r[1] for r in letters]
    assert "not UTF-8" in reasons[0]
    assert "samples" in reasons[1]
    assert "$.samples[0].seq" in reasons[2] and "integer" in reasons[2]
    assert "10485760 bytes, the limit is 262144" in reasons[3]
    assert letters[3][2:] == (10 * 1024 * 1024, 64 * 1024)  # the size kept, the payload cut
    assert "unknown channel" in reasons[4]
    assert "sent by the cloud" in reasons[5]


def test_unknown_devices_are_listed_not_created(database):
    t = wire.now_ms()
    payload = wire.telemetry(wire.bms(1, t))
    write(database, [(wire.topic("stranger-7"), payload)] * 3)
    assert rows(database, "SELECT count(*) FROM device") == [(0,)]
    assert rows(database, "SELECT device_id, messages FROM unknown_device") == [("stranger-7", 3)]
    reasons = rows(database, "SELECT DISTINCT reason FROM dead_letter")
    assert len(reasons) == 1 and "unknown device 'stranger-7'" in reasons[0][0]
    # registering it takes it off the unknown list; its next messages are stored
    _register(database, "stranger-7")
    assert rows(database, "SELECT count(*) FROM unknown_device") == [(0,)]
    write(database, [(wire.topic("stranger-7"), payload)])
    assert rows(database, "SELECT count(*) FROM bms_sample") == [(1,)]


def test_samples_outside_the_time_window_are_kept_as_dead_letters(database):
    _register(database, "pack-1")
    t = wire.now_ms()
    far_future = t + 10 * 86_400_000
    ancient = t - 400 * 86_400_000
    payload = wire.telemetry(wire.bms(1, ancient), wire.bms(2, t), wire.bms(3, far_future))
    counts = write(database, [(wire.topic("pack-1"), payload)])
    assert counts["samples_stored"] == 1
    assert rows(database, "SELECT seq FROM bms_sample") == [(2,)]
    (reason,) = rows(database, "SELECT reason FROM dead_letter")[0]
    assert reason.startswith("2 of 3 samples not stored") and "older than retention" in reason


@partitioned_only
def test_a_backlog_day_gets_its_partition(database):
    _register(database, "pack-1")
    ten_days_ago = wire.now_ms() - 10 * 86_400_000
    write(database, [(wire.topic("pack-1"), wire.telemetry(wire.bms(1, ten_days_ago)))])
    day = wire.utc(ten_days_ago).date()
    assert rows(database, "SELECT tableoid::regclass::text FROM bms_sample") == [
        (f"bms_sample_p{day:%Y%m%d}",)
    ]


def test_online_follows_the_latest_status_received(database):
    _register(database, "pack-1")
    start = datetime.now(UTC)
    online = wire.status(True, ts=wire.now_ms(), agent_version="0.1.0", boot_id="b1")
    write(database, [(wire.topic("pack-1", "up/status"), online)], received=start)
    assert rows(database, "SELECT online, status->>'agent_version' FROM device_state") == [
        (True, "0.1.0")
    ]
    will = wire.status(False)
    write(
        database, [(wire.topic("pack-1", "up/status"), will)], received=start + timedelta(seconds=5)
    )
    # an older "online" arriving late (another worker's slow batch) does not win
    write(
        database,
        [(wire.topic("pack-1", "up/status"), online)],
        received=start + timedelta(seconds=1),
    )
    assert rows(database, "SELECT online, status->>'agent_version' FROM device_state") == [
        (False, "0.1.0")  # the will carries no details: the last ones are kept
    ]


def test_events_and_acks_are_stored_once(database):
    _register(database, "pack-1")
    t = wire.now_ms()
    payload = wire.events(
        wire.event(
            5, t, "bms_protection", severity="warning", detail={"flags": ["cell_overvoltage"]}
        )
    )
    from protocols.contract import payloads
    from protocols.contract.codec import encode

    ack = encode(payloads.Ack(cmd_id="c-1", ts=t, result="done", observed={"discharge_mos": False}))
    for _ in range(2):
        write(
            database,
            [(wire.topic("pack-1", "up/event"), payload), (wire.topic("pack-1", "up/ack"), ack)],
        )
    assert rows(database, "SELECT seq, type, severity, detail FROM device_event") == [
        (5, "bms_protection", "warning", {"flags": ["cell_overvoltage"]})
    ]
    assert rows(database, "SELECT cmd_id, result, observed FROM device_ack") == [
        ("c-1", "done", {"discharge_mos": False})
    ]


def _ack(cmd_id: str, result: str, **fields) -> tuple[str, bytes]:
    from protocols.contract import payloads
    from protocols.contract.codec import encode

    ack = payloads.Ack(cmd_id=cmd_id, ts=wire.now_ms(), result=result, **fields)
    return wire.topic("pack-1", "up/ack"), encode(ack)


def _commands(url: str, *cmd_ids: str) -> None:
    with psycopg.connect(url) as conn:
        for cmd_id in cmd_ids:
            conn.execute(
                "INSERT INTO command (cmd_id, device_id, type, issued_by, expires_at, state)"
                " VALUES (%s, 'pack-1', 'locate', 't', now() + interval '1 min', 'sent')",
                (cmd_id,),
            )


def test_a_signature_refusal_is_told_by_its_code_and_never_decides_the_command(database):
    """An ack refusing a command for its signature answers a forgery: not stored, the
    command keeps waiting for its real ack. The code decides, whatever the text says."""
    _register(database, "pack-1")
    _commands(database, "c-bare", "c-forged", "c-text", "c-key", "c-args")
    counts = write(
        database,
        [
            _ack("c-bare", "rejected", reason="not signed at all", code="not_signed"),
            _ack("c-forged", "rejected", reason="the MAC is wrong", code="bad_signature"),
            # no code (a gateway before contract 1.1): the text is read
            _ack("c-text", "rejected", reason="bad signature"),
            # codes that are a real result, whatever their text
            _ack("c-key", "rejected", reason="unknown signing key 'ab.9'", code="unknown_key"),
            _ack("c-args", "rejected", reason="bad signature?", code="invalid_command"),
        ],
    )
    assert counts["acks_stored"] == 2
    assert rows(database, "SELECT cmd_id, result FROM device_ack ORDER BY cmd_id") == [
        ("c-args", "rejected"),
        ("c-key", "rejected"),
    ]
    assert rows(database, "SELECT cmd_id, state FROM command ORDER BY cmd_id") == [
        ("c-args", "rejected"),
        ("c-bare", "sent"),
        ("c-forged", "sent"),
        ("c-key", "rejected"),
        ("c-text", "sent"),
    ]


def test_an_ack_with_a_code_the_cloud_does_not_know_is_stored(database):
    _register(database, "pack-1")
    _commands(database, "c-new")
    counts = write(
        database, [_ack("c-new", "failed", reason="the pack is too hot", code="pack_too_hot")]
    )
    assert counts["acks_stored"] == 1 and counts["dead_letters"] == 0
    assert rows(database, "SELECT state, result, result_reason FROM command") == [
        ("failed", "failed", "the pack is too hot")
    ]
