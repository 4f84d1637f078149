"""The ingest worker as a real process between a real Mosquitto and a real PostgreSQL."""

from __future__ import annotations

import pytest

from tests.cloud import wire_support as wire
from tests.cloud.worker_support import Publisher, WorkerProcess, register, scalar, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.slow]


def _stream(device_ids: list[str], count: int) -> list[tuple[str, bytes]]:
    """``count`` telemetry messages, one BMS sample each, round-robin over the devices."""
    t0 = wire.now_ms() - count * 1000
    return [
        (wire.topic(device_ids[n % len(device_ids)]),
         wire.telemetry(wire.bms(n // len(device_ids) + 1, t0 + n * 1000, soc=50 + n % 40)))
        for n in range(count)
    ]  # fmt: skip


@pytest.fixture
def worker(database, broker, tmp_path):
    process = WorkerProcess(database, broker.url, tmp_path / "worker.log").start()
    process.wait_subscribed()
    yield process
    process.stop()


def test_good_data_is_stored_and_bad_input_dead_lettered_while_ingest_goes_on(
    database, broker, worker
):
    register(database, "pack-a")
    t = wire.now_ms()
    messages = [
        (wire.topic("pack-a"), wire.telemetry(wire.bms(1, t))),
        (wire.topic("pack-a"), b"this is not json"),
        (wire.topic("pack-a"), b'{"samples": [{"type": "bms"}]}'),
        (wire.topic("pack-a"), b"{" + b" " * (10 * 1024 * 1024) + b"}"),
        (wire.topic("pack-z"), wire.telemetry(wire.bms(1, t))),  # not registered
        (wire.topic("pack-a"), wire.telemetry(wire.bms(2, t + 1000))),
    ]
    with Publisher(broker.url) as publisher:
        publisher.publish(messages)
    wait_for(lambda: scalar(database, "SELECT count(*) FROM dead_letter") == 4, "4 dead letters")
    wait_for(lambda: scalar(database, "SELECT count(*) FROM bms_sample") == 2, "2 samples")
    reasons = scalar(database, "SELECT string_agg(reason, ' | ' ORDER BY id) FROM dead_letter")
    assert "not JSON" in reasons
    assert "must contain" in reasons
    assert "the limit is 262144" in reasons
    assert "unknown device 'pack-z'" in reasons
    assert worker.running


def test_poison_on_every_uplink_channel_is_dead_lettered_and_ingest_goes_on(
    database, broker, worker
):
    """The probe's message (200 kB of nested arrays) stopped the worker for good: it raised
    RecursionError, was never acknowledged, and came back at every restart."""
    register(database, "pack-a")
    poison = b"[" * 100_000 + b"]" * 100_000
    deep = b'{"samples": ' + b"[" * 900 + b"]" * 900 + b"}"  # parses, then overflows a walker
    channels = ("up/telemetry", "up/event", "up/ack", "up/status")
    messages = [(wire.topic("pack-a", channel), poison) for channel in channels]
    messages += [(wire.topic("pack-a"), deep), (wire.topic("pack-a", "up/event"), deep)]
    messages.append((wire.topic("pack-a"), wire.telemetry(wire.bms(1, wire.now_ms()))))
    with Publisher(broker.url) as publisher:
        publisher.publish(messages)
    wait_for(lambda: scalar(database, "SELECT count(*) FROM bms_sample") == 1, "the good sample")
    wait_for(lambda: scalar(database, "SELECT count(*) FROM dead_letter") == 6, "6 dead letters")
    assert scalar(
        database,
        "SELECT bool_and(reason LIKE '%%nested more than 32 levels deep') FROM dead_letter",
    )
    assert worker.running
    worker.stop()  # and a new worker of the same session finds nothing left to choke on
    again = WorkerProcess(
        database, broker.url, worker.log_path.with_name("again.log"), client_id=worker.client_id,
        group=worker.env["VOLTRENT_WORKER_GROUP"],
    )  # fmt: skip
    again.start().wait_subscribed()
    try:
        with Publisher(broker.url) as publisher:
            publisher.publish([(wire.topic("pack-a"), wire.telemetry(wire.bms(2, wire.now_ms())))])
        wait_for(lambda: scalar(database, "SELECT count(*) FROM bms_sample") == 2, "2 samples")
        assert scalar(database, "SELECT count(*) FROM dead_letter") == 6
        assert again.running
    finally:
        again.stop()


def test_a_worker_killed_mid_stream_loses_nothing(database, broker, tmp_path):
    devices = [f"kill-{n}" for n in range(5)]
    register(database, *devices)
    client_id = "worker-that-dies"
    first = WorkerProcess(database, broker.url, tmp_path / "w1.log", client_id=client_id)
    first.start().wait_subscribed()
    stream = _stream(devices, 3000)
    with Publisher(broker.url) as publisher:
        sending = publisher.publish_in_background(stream)
        wait_for(lambda: scalar(database, "SELECT count(*) FROM bms_sample") > 300, "some rows")
        first.kill()  # between receive and commit for whatever it held in flight
        stored_at_kill = scalar(database, "SELECT count(*) FROM bms_sample")
        sending.join(60)
    assert stored_at_kill < 3000, "the kill came too late to test anything"
    second = WorkerProcess(
        database, broker.url, tmp_path / "w2.log", client_id=client_id,
        group=first.env["VOLTRENT_WORKER_GROUP"],
    )  # fmt: skip
    second.start().wait_subscribed()
    try:
        wait_for(
            lambda: scalar(database, "SELECT count(*) FROM bms_sample") == 3000,
            "all 3000 samples stored after the restart",
        )
        pairs = scalar(database, "SELECT count(DISTINCT (device_id, seq)) FROM bms_sample")
        assert pairs == 3000
    finally:
        second.stop()


def test_a_stopped_worker_gets_what_arrived_while_it_was_down(database, broker, tmp_path):
    register(database, "down-1")
    worker = WorkerProcess(database, broker.url, tmp_path / "w.log", client_id="comes-back")
    worker.start().wait_subscribed()
    worker.stop()
    with Publisher(broker.url) as publisher:
        publisher.publish(_stream(["down-1"], 500))
    again = WorkerProcess(
        database, broker.url, tmp_path / "w.log", client_id="comes-back",
        group=worker.env["VOLTRENT_WORKER_GROUP"],
    )  # fmt: skip
    again.start().wait_subscribed()
    try:
        wait_for(lambda: scalar(database, "SELECT count(*) FROM bms_sample") == 500, "500 rows")
    finally:
        again.stop()


def test_two_workers_split_the_load_and_store_nothing_twice(database, broker, tmp_path):
    devices = [f"split-{n}" for n in range(10)]
    register(database, *devices)
    a = WorkerProcess(database, broker.url, tmp_path / "a.log", client_id="split-a")
    b = WorkerProcess(
        database,
        broker.url,
        tmp_path / "b.log",
        client_id="split-b",
        group=a.env["VOLTRENT_WORKER_GROUP"],
    )
    for worker in (a, b):
        worker.start().wait_subscribed()
    with Publisher(broker.url) as publisher:
        publisher.publish(_stream(devices, 2000))
    try:
        wait_for(lambda: scalar(database, "SELECT count(*) FROM bms_sample") == 2000, "2000 rows")
    finally:
        assert a.stop() == 0 and b.stop() == 0
    counters = dict(
        (row[0], row[1]) for row in _rows(database, "SELECT client_id, counters FROM worker_status")
    )
    acked = {name: counters[name].get("mqtt_acked", 0) for name in ("split-a", "split-b")}
    assert all(n > 0 for n in acked.values()), f"one worker got nothing: {acked}"
    assert sum(acked.values()) == 2000, f"delivered other than once: {acked}"
    duplicates = sum(counters[name].get("samples_duplicate", 0) for name in acked)
    assert duplicates == 0


def test_an_outage_of_the_store_holds_the_backlog_until_it_is_back(database, broker, worker):
    import psycopg

    register(database, "outage-1")
    name = database.rsplit("/", 1)[1]
    admin = database.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
    try:
        with Publisher(broker.url) as publisher:
            publisher.publish(_stream(["outage-1"], 300))
        wait_for(lambda: "store unavailable" in worker.log(), "the worker noticed the outage")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    wait_for(lambda: scalar(database, "SELECT count(*) FROM bms_sample") == 300, "300 rows")
    assert worker.running


def _rows(url: str, query: str):
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()
