"""The live streams over HTTP, from the API served by waitress: what a console's map and
device page receive when the store changes, how they resume, and when a stream ends."""

from __future__ import annotations

import base64

import psycopg
import pytest

from tests.cloud import wire_support as wire
from tests.cloud.live_support import api_server, open_stream
from tests.cloud.tenancy_support import make_tenancy

pytestmark = pytest.mark.postgres

MAP = "/api/live/stream"


@pytest.fixture(scope="module")
def tenancy(module_database):
    return make_tenancy(module_database)


@pytest.fixture(scope="module")
def server(module_database, tenancy):
    # a heartbeat every second: the revocation test waits for one
    with api_server(module_database, VOLTRENT_LIVE_HEARTBEAT_S="1") as server:
        yield server


@pytest.fixture
def db(module_database):
    with psycopg.connect(module_database, autocommit=True) as conn:
        yield conn


def _move(conn: psycopg.Connection, device_id: str, lat: float) -> None:
    conn.execute(
        "UPDATE device_state SET lat = %s, lon = 8.5, position_time = now() WHERE device_id = %s",
        (lat, device_id),
    )


def _row(event, device_id: str) -> dict | None:
    for row in event.data["rows"]:
        named = dict(zip(event.data["columns"], row, strict=True))
        if named["id"] == device_id:
            return named
    return None


def _at(device_id: str, lat: float):
    """An events filter: the batch has ``device_id`` at latitude ``lat``."""

    def has(data) -> bool:
        rows = [dict(zip(data["columns"], row, strict=True)) for row in data["rows"]]
        return any(r["id"] == device_id and r["lat"] == lat for r in rows)

    return has


def test_a_committed_position_arrives_and_only_the_callers_devices(server, tenancy, db):
    stream = open_stream(server, MAP, tenancy.tokens["a"])
    try:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        _move(db, "b-1", 10.0)  # operator B's
        _move(db, "a-2", 11.0)
        event = stream.next("devices", _at("a-2", 11.0))
        row = _row(event, "a-2")
        assert row["lon"] == 8.5 and row["kind"] == "pack" and row["model"] == "M1"
        assert event.id
        assert all(_row(e, "b-1") is None for e in stream.seen if e.name == "devices")
    finally:
        stream.close()


def test_a_position_stored_by_the_worker_writer_arrives(server, tenancy, module_database):
    stream = open_stream(server, MAP, tenancy.tokens["a"])
    try:
        payload = wire.telemetry(wire.position(1, wire.now_ms(), lat=23.25, lon=114.5))
        counts = wire.write(module_database, [(wire.topic("a-2"), payload)])
        assert counts["samples_stored"] == 1
        row = _row(stream.next("devices", _at("a-2", 23.25)), "a-2")
        assert (row["lon"], row["last_seen_at"] is not None) == (114.5, True)
    finally:
        stream.close()


def test_a_store_account_gets_only_its_store(server, tenancy, db):
    stream = open_stream(server, MAP, tenancy.tokens["shop"])
    try:
        _move(db, "a-2", 12.0)  # the operator's, not the shop's
        _move(db, "a-1", 12.0)
        stream.next("devices", _at("a-1", 12.0))
        assert all(_row(e, "a-2") is None for e in stream.seen if e.name == "devices")
    finally:
        stream.close()


def test_a_row_committed_late_by_an_older_transaction_still_arrives(
    server, tenancy, db, module_database
):
    stream = open_stream(server, MAP, tenancy.tokens["a"])
    try:
        with psycopg.connect(module_database) as late:
            _move(late, "a-1", 21.0)  # its transaction has begun and holds an id
            # a later transaction commits first, and the stream moves past it
            _move(db, "a-2", 22.0)
            passed = stream.next("devices", _at("a-2", 22.0))
            late.commit()
        event = stream.next("devices", _at("a-1", 21.0))
        assert event.id != passed.id
    finally:
        stream.close()


def test_last_event_id_resumes_after_the_last_event(server, tenancy, db):
    stream = open_stream(server, MAP, tenancy.tokens["a"])
    _move(db, "a-2", 31.0)
    last = stream.next("devices", _at("a-2", 31.0))
    stream.close()
    _move(db, "a1-1", 32.0)  # while nobody listens
    resumed = open_stream(server, MAP, tenancy.tokens["a"], last_event_id=last.id)
    try:
        resumed.next("devices", _at("a1-1", 32.0))
    finally:
        resumed.close()


def test_a_snapshot_cursor_resumes_from_the_snapshot(server, tenancy, db):
    status, _, snapshot = server.get("/api/live/devices", tenancy.tokens["a1"])
    assert status == 200
    _move(db, "a1-1", 33.0)
    stream = open_stream(server, f"{MAP}?cursor={snapshot['cursor']}", tenancy.tokens["a1"])
    try:
        stream.next("devices", _at("a1-1", 33.0))
    finally:
        stream.close()


@pytest.mark.parametrize(
    "last_event_id",
    [
        "not a cursor",
        # well formed, but ahead of anything this store has seen
        base64.urlsafe_b64encode(b"99999999999::0").decode().rstrip("="),
    ],
)
def test_a_cursor_that_cannot_be_resumed_says_resync(server, tenancy, last_event_id):
    stream = open_stream(server, MAP, tenancy.tokens["a"], last_event_id=last_event_id)
    try:
        assert stream.next("resync").data == {}
        stream.wait_end()
    finally:
        stream.close()


def test_a_device_leaving_the_scope_is_gone(server, tenancy, db):
    db.execute(
        "INSERT INTO device (id, model, operator_id) VALUES ('a-3', 'M1', %s)",
        (tenancy.operators["a"],),
    )
    stream = open_stream(server, MAP, tenancy.tokens["a"])
    root = open_stream(server, MAP, tenancy.tokens["root"])
    try:
        db.execute("UPDATE device SET operator_id = %s WHERE id = 'a-3'", (tenancy.operators["b"],))
        assert stream.next("gone").data == {"ids": ["a-3"]}
        root.next("devices", lambda data: any(r[0] == "a-3" for r in data["rows"]))
        assert [e for e in root.seen if e.name == "gone"] == []  # the platform still holds it
    finally:
        stream.close()
        root.close()


def test_a_revoked_token_ends_the_stream(server, tenancy, db):
    from tests.cloud.tenancy_support import token_for

    account = db.execute("SELECT id FROM account WHERE login = 'a@voltrent.test'").fetchone()[0]
    secret = token_for(db, account)
    stream = open_stream(server, MAP, secret)
    try:
        db.execute(
            "UPDATE credential SET revoked_at = now() WHERE account_id = %s AND revoked_at IS NULL"
            " AND id = (SELECT max(id) FROM credential WHERE account_id = %s)",
            (account, account),
        )
        stream.wait_end()
        status, _, problem = server.get(MAP, secret)
        assert (status, problem["status"]) == (401, 401)
    finally:
        stream.close()


def test_a_device_page_follows_its_commands_state_and_alarms(server, tenancy, db):
    stream = open_stream(server, "/api/devices/a-2/live", tenancy.tokens["a"])
    try:
        db.execute(
            "INSERT INTO command (cmd_id, device_id, type, issued_by, expires_at)"
            " VALUES ('live-1', 'a-2', 'locate', 'a@voltrent.test', now() + interval '5 min')"
        )
        assert stream.next("command").data["state"] == "queued"
        db.execute("UPDATE command SET state = 'sent', sent_at = now() WHERE cmd_id = 'live-1'")
        assert stream.next("command").data["state"] == "sent"
        db.execute(
            "UPDATE command SET state = 'done', result = 'done', acked_at = now()"
            " WHERE cmd_id = 'live-1'"
        )
        done = stream.next("command")
        assert (done.data["cmd_id"], done.data["state"]) == ("live-1", "done")
        _move(db, "a-2", 41.0)
        state = stream.next("state", lambda data: data["lat"] == 41.0)
        assert state.data["device_id"] == "a-2"
        db.execute(
            "INSERT INTO alarm (device_id, type, severity, first_at, latest_at, message)"
            " VALUES ('a-2', 'low_soc', 'warning', now(), now(), 'SoC 9 %')"
        )
        raised = stream.next("alarm")
        assert (raised.data["type"], raised.data["state"]) == ("low_soc", "open")
        db.execute(
            "UPDATE alarm SET state = 'resolved', resolved_at = now() WHERE device_id = 'a-2'"
        )
        assert stream.next("alarm").data["state"] == "resolved"
    finally:
        stream.close()


def test_another_operators_device_page_is_not_found(server, tenancy):
    stream = open_stream(server, "/api/devices/b-1/live", tenancy.tokens["a"])
    assert (stream.status, stream.body["status"]) == (404, 404)


def test_over_the_stream_cap_a_stream_gets_503_and_plain_requests_still_work(
    module_database, tenancy
):
    env = {"VOLTRENT_API_THREADS": "3", "VOLTRENT_API_MAX_STREAMS": "1"}
    with api_server(module_database, **env) as small:
        first = open_stream(small, MAP, tenancy.tokens["a"])
        try:
            second = open_stream(small, MAP, tenancy.tokens["a"])
            assert (second.status, second.body["status"]) == (503, 503)
            assert int(second.headers["Retry-After"]) > 0
            status, _, body = small.get("/api/devices/a-1", tenancy.tokens["a"])
            assert (status, body["id"]) == (200, "a-1")
        finally:
            first.close()
