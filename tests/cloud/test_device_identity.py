"""A device id is an identity: a deleted id stays reserved for the subtree that held it, its
command keys never start again, a refusal names nobody, and history is shown to an operator
only for the periods its subtree held the device (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from cloud.store.migrate import migrate
from tests.cloud.alarm_support import add_alarm
from tests.cloud.api_support import (
    api_client,
    at,
    insert,
    insert_bms,
    insert_event,
    insert_position,
    iso,
    problem_of,
)
from tests.cloud.tenancy_support import make_operator, make_store, on_both_walls, siblings
from tests.cloud.worker_support import migrate_before

pytestmark = pytest.mark.postgres

TAKEN = (
    "device id 'pack-b' is not available: choose another (the id of a deleted device stays"
    " reserved for the operator that held it)"
)


@pytest.fixture
def pair(database):
    return siblings(database)


def _history(client, headers, path: str, end: datetime) -> list[str]:
    """The times of the rows of pack-b's history ``path`` from T0 to ``end``."""
    query = f"from={iso(at(-1))}&to={iso(end)}"
    answer = client.get(f"/api/devices/pack-b/{path}?{query}", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [row["time"] for row in answer.get_json()["rows"]]


def _record_b_history(database: str) -> None:
    """What pack-b reported while it was B's: a BMS sample, a fix, an event."""
    with psycopg.connect(database, autocommit=True) as conn:
        insert_bms(conn, "pack-b", at(1), 1)
        insert_position(conn, "pack-b", at(1), 2)
        insert_event(conn, "pack-b", at(1), 3, "boot")


def _import(client, headers, body: str) -> dict:
    answer = client.post("/api/devices/import", data=body, content_type="text/csv", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


@on_both_walls
def test_a_deleted_id_stays_reserved_for_the_subtree_that_held_it(database, pair, api_db_role):
    _record_b_history(database)
    with api_client(database, secret=None, api_db_role=api_db_role) as client:
        # B's live id: refused, in words that name nobody and say nothing of B
        live = problem_of(
            client.post("/api/devices", json={"id": "pack-b"}, headers=pair.as_a), 409
        )
        assert live["detail"] == TAKEN
        assert live["errors"] == [{"field": "id", "in": "body", "reason": TAKEN}]
        report = _import(client, pair.as_a, "id\npack-b\n")
        assert report == {"created": 0, "skipped_existing": 0,
                          "errors": [{"line": 2, "field": "id", "reason": TAKEN}]}  # fmt: skip

        assert client.delete("/api/devices/pack-b", headers=pair.as_b).status_code == 204
        # deleted: A still cannot take the id over, and hears the same as before
        gone = problem_of(
            client.post("/api/devices", json={"id": "pack-b"}, headers=pair.as_a), 409
        )
        assert gone["detail"] == TAKEN
        assert _import(client, pair.as_a, "id\npack-b\n") == report
        problem_of(client.get("/api/devices/pack-b", headers=pair.as_a), 404)

        # B takes it back, with its own history
        restored = client.post("/api/devices", json={"id": "pack-b"}, headers=pair.as_b)
        assert restored.status_code == 201, restored.get_data(as_text=True)
        assert _history(client, pair.as_b, "bms", at(10)) == [iso(at(1))]
        # B's own id, live again: B is told plainly
        again = problem_of(
            client.post("/api/devices", json={"id": "pack-b"}, headers=pair.as_b), 409
        )
        assert again["detail"] == "device 'pack-b' already exists"
        assert _import(client, pair.as_b, "id\npack-b\n")["skipped_existing"] == 1
    with psycopg.connect(database) as conn:
        owner = conn.execute("SELECT operator_id FROM device WHERE id = 'pack-b'").fetchone()[0]
    assert owner == pair.b


def test_a_csv_import_takes_back_a_deleted_id_of_the_subtree(database, pair):
    with api_client(database, secret=None) as client:
        assert client.delete("/api/devices/pack-b", headers=pair.as_b).status_code == 204
        assert _import(client, pair.as_a, "id\npack-b\n")["errors"][0]["reason"] == TAKEN
        assert _import(client, pair.as_b, "id\npack-b\n")["created"] == 1


@on_both_walls
def test_a_re_registered_id_never_gets_an_earlier_command_key(database, pair, api_db_role):
    _record_b_history(database)
    with psycopg.connect(database, autocommit=True) as conn:
        # as two rotations leave it: B's gateway holds the key of generation 3
        conn.execute("UPDATE device SET command_key_generation = 3 WHERE id = 'pack-b'")
    with api_client(database, secret=None, api_db_role=api_db_role) as client:
        assert client.delete("/api/devices/pack-b", headers=pair.as_b).status_code == 204
    # the platform may give the id to A (it held the device throughout)
    with api_client(database) as platform:
        body = {"id": "pack-b", "operator_id": pair.a}
        assert platform.post("/api/devices", json=body).status_code == 201
    with api_client(database, secret=None, api_db_role=api_db_role) as client:
        key = client.get("/api/devices/pack-b/command-key", headers=pair.as_a).get_json()
        assert key["generation"] == 4  # B's gateway's key signs nothing A sends
        # nor does A see what pack-b reported for B
        for path in ("bms", "positions", "events"):
            assert _history(client, pair.as_a, path, at(10)) == [], path
        problem_of(client.get("/api/devices/pack-b", headers=pair.as_b), 404)


@on_both_walls
def test_a_transfer_does_not_hand_the_old_owners_history_on(database, pair, api_db_role):
    _record_b_history(database)
    b_alarm = add_alarm(database, "pack-b", "low_soc", at(2), state="resolved", active=False,
                        cleared_at=at(3), resolved_at=at(4), resolved_by="auto")  # fmt: skip
    with psycopg.connect(database, autocommit=True) as conn:
        store = make_store(conn, pair.b, "B's depot")
        fence = conn.execute(
            "INSERT INTO geofence (name, kind, circle_lat, circle_lon, circle_radius_m,"
            " operator_id) VALUES ('B yard', 'keep_in', 22.5, 113.9, 500, %s) RETURNING id",
            (pair.b,),
        ).fetchone()[0]
        insert(conn, "geofence_event", device_id="pack-b", geofence_id=fence,
               geofence_name="B yard", type="left", breach=True, time=at(2), lat=22.51,
               lon=113.9)  # fmt: skip
    with api_client(database, secret=None, api_db_role=api_db_role) as client:
        body = {"device_ids": ["pack-b"], "to_operator_id": pair.b, "to_store_id": store}
        assert client.post("/api/devices/transfer", json=body, headers=pair.as_b).status_code == 200
        issued = client.post(
            "/api/devices/pack-b/commands", json={"type": "locate"}, headers=pair.as_b
        )
        assert issued.status_code == 201, issued.get_data(as_text=True)
        b_command = issued.get_json()["cmd_id"]
    with api_client(database) as platform:
        body = {"device_ids": ["pack-b"], "to_operator_id": pair.a}
        assert platform.post("/api/devices/transfer", json=body).status_code == 200
    later = datetime.now(UTC) + timedelta(minutes=1)
    with psycopg.connect(database, autocommit=True) as conn:
        insert_bms(conn, "pack-b", later, 10)
    end = later + timedelta(minutes=1)

    with api_client(database, secret=None, api_db_role=api_db_role) as client:
        a = pair.as_a
        assert _history(client, a, "bms", end) == [iso(later)]
        assert _history(client, a, "positions", end) == []
        assert _history(client, a, "events", end) == []
        assert client.get("/api/devices/pack-b/commands", headers=a).get_json() == []
        problem_of(client.get(f"/api/commands/{b_command}", headers=a), 404)
        assert client.get("/api/alarms?state=resolved", headers=a).get_json() == []
        problem_of(client.get(f"/api/alarms/{b_alarm}", headers=a), 404)
        assert client.get("/api/geofence-events?device_id=pack-b", headers=a).get_json() == []
        moves = client.get("/api/devices/pack-b/transfers", headers=a).get_json()
        assert [(m["from_operator_id"], m["to_operator_id"]) for m in moves] == [(pair.b, pair.a)]
    # the platform held it throughout and sees all of it
    with api_client(database, api_db_role=api_db_role) as platform:
        assert _history(platform, {}, "bms", end) == [iso(at(1)), iso(later)]
        assert platform.get(f"/api/commands/{b_command}").status_code == 200
        assert platform.get(f"/api/alarms/{b_alarm}").status_code == 200
        assert len(platform.get("/api/devices/pack-b/transfers").get_json()) == 2


@on_both_walls
def test_a_command_id_of_another_operator_is_refused_without_saying_so(database, pair, api_db_role):
    with api_client(database, secret=None, api_db_role=api_db_role) as client:
        body = {"type": "locate", "cmd_id": "op-1"}
        issued = client.post("/api/devices/pack-b/commands", json=body, headers=pair.as_b)
        assert issued.status_code == 201, issued.get_data(as_text=True)
        taken = problem_of(
            client.post("/api/devices/pack-a/commands", json=body, headers=pair.as_a), 409
        )
        reason = "command id 'op-1' is not available: choose another, or leave cmd_id out"
        assert taken["detail"] == reason
        assert taken["errors"] == [{"field": "cmd_id", "in": "body", "reason": reason}]
        # B's retry of its own is told plainly
        again = client.post("/api/devices/pack-b/commands", json=body, headers=pair.as_b)
        assert problem_of(again, 409)["detail"] == "command 'op-1' already exists"


@on_both_walls
def test_a_device_that_comes_back_shows_its_owner_both_periods_only(database, pair, api_db_role):
    _record_b_history(database)

    def move(to: int) -> None:
        with api_client(database) as platform:
            body = {"device_ids": ["pack-b"], "to_operator_id": to}
            assert platform.post("/api/devices/transfer", json=body).status_code == 200

    move(pair.a)
    while_a = datetime.now(UTC)
    move(pair.b)
    back = datetime.now(UTC) + timedelta(minutes=1)
    with psycopg.connect(database, autocommit=True) as conn:
        insert_bms(conn, "pack-b", while_a, 10)
        insert_bms(conn, "pack-b", back, 11)
    end = back + timedelta(minutes=1)
    with api_client(database, secret=None, api_db_role=api_db_role) as client:
        assert _history(client, pair.as_b, "bms", end) == [iso(at(1)), iso(back)]
        answer = client.get(
            f"/api/devices/pack-b/bms?from={iso(at(-1))}&to={iso(end)}&bucket=1d",
            headers=pair.as_b,
        )
        assert sum(bucket["samples"] for bucket in answer.get_json()["buckets"]) == 2


def test_the_migration_takes_the_periods_of_existing_devices_from_their_moves(
    empty_database, monkeypatch
):
    migrate_before(empty_database, 13, monkeypatch)
    moves = [at(10), at(20)]
    with psycopg.connect(empty_database, autocommit=True) as conn:
        a, b = make_operator(conn, "A"), make_operator(conn, "B")
        conn.execute("INSERT INTO device (id, operator_id) VALUES ('kept', %s), ('moved', %s)",
                     (a, a))  # fmt: skip
        for moved_at, old, new in ((moves[0], a, b), (moves[1], b, a)):
            conn.execute(
                "INSERT INTO device_transfer (device_id, from_operator_id, to_operator_id,"
                " moved_at, moved_by) VALUES ('moved', %s, %s, %s, 'test')",
                (old, new, moved_at),
            )
    assert "0013_device_identity" in migrate(empty_database).applied
    with psycopg.connect(empty_database) as conn:
        periods = conn.execute(
            "SELECT device_id, operator_id, started_at, ended_at FROM device_tenure"
            " ORDER BY device_id, started_at NULLS FIRST"
        ).fetchall()
    assert periods == [
        ("kept", a, None, None),
        ("moved", a, None, moves[0]),
        ("moved", b, moves[0], moves[1]),
        ("moved", a, moves[1], None),
    ]


def test_the_migration_reserves_ids_deleted_before_it_that_left_history(
    empty_database, monkeypatch
):
    migrate_before(empty_database, 13, monkeypatch)
    with psycopg.connect(empty_database, autocommit=True) as conn:
        a = make_operator(conn, "A")
        conn.execute("INSERT INTO device (id, operator_id) VALUES ('live', %s)", (a,))
        for device_id in ("live", "gone"):  # 'gone' was deleted; its events stayed
            conn.execute(
                "INSERT INTO device_event (device_id, time, seq, received_at, type, severity)"
                " VALUES (%s, now(), 1, now(), 'boot', 'info')",
                (device_id,),
            )
    migrate(empty_database)
    with psycopg.connect(empty_database) as conn:
        tombstones = conn.execute(
            "SELECT device_id, operator_path, command_key_generation FROM device_tombstone"
        ).fetchall()
    assert tombstones == [("gone", [1], 1000)]
