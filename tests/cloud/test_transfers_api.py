"""Device transfers on a real PostgreSQL: all or nothing, refused while a device is leased,
within the caller's subtree only, recorded as history, many at once, and dropping fences
the new operator may not use."""

from __future__ import annotations

from types import SimpleNamespace

import psycopg
import pytest

from tests.cloud.api_support import T0, add_device, api_client, problem_of
from tests.cloud.tenancy_support import (
    PLATFORM,
    make_account,
    make_operator,
    make_role,
    make_store,
    on_both_walls,
    token_for,
)

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def fleet(database):
    """Sibling operators A and B, A1 under A; stores; pack-1..3 at A, pack-b at B; an
    administrator of A and an account of A that may only read devices."""
    with psycopg.connect(database, autocommit=True) as conn:
        a = make_operator(conn, "A")
        b = make_operator(conn, "B")
        a1 = make_operator(conn, "A1", parent=a)
        stores = SimpleNamespace(
            a=make_store(conn, a, "A central"),
            a_east=make_store(conn, a, "A east"),
            a1=make_store(conn, a1, "A1 central"),
            b=make_store(conn, b, "B central"),
        )
        for device_id in ("pack-1", "pack-2", "pack-3"):
            add_device(conn, device_id, operator_id=a, store_id=stores.a)
        add_device(conn, "pack-b", operator_id=b)
        make_role(conn, a, "reader", ["device.read"])
        secrets = {
            "admin": token_for(conn, make_account(conn, a, "admin@a.test")),
            "reader": token_for(conn, make_account(conn, a, "reader@a.test", roles=["reader"])),
        }
    return SimpleNamespace(database=database, a=a, b=b, a1=a1, stores=stores, secrets=secrets)


@pytest.fixture
def as_a(fleet, api_db_role):
    with api_client(
        fleet.database, secret=fleet.secrets["admin"], api_db_role=api_db_role
    ) as client:
        yield client


def owners(database: str) -> dict[str, tuple[int, int | None]]:
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT id, operator_id, store_id FROM device").fetchall()
    return {device_id: (operator, store) for device_id, operator, store in rows}


def transfers(database: str) -> list[tuple]:
    with psycopg.connect(database) as conn:
        return conn.execute(
            "SELECT device_id, from_operator_id, from_store_id, to_operator_id, to_store_id,"
            " moved_by, note FROM device_transfer ORDER BY id"
        ).fetchall()


def test_signing_in_and_the_permission_are_needed(fleet):
    move = {"device_ids": ["pack-1"], "to_operator_id": fleet.a1}
    with api_client(fleet.database, secret=None) as client:
        problem_of(client.post("/api/devices/transfer", json=move), 401)
        problem_of(client.get("/api/devices/pack-1/transfers"), 401)
    with api_client(fleet.database, secret=fleet.secrets["reader"]) as client:
        body = problem_of(client.post("/api/devices/transfer", json=move), 403)
        assert "device.transfer" in body["detail"]
        assert client.get("/api/devices/pack-1/transfers").get_json() == []
    assert owners(fleet.database)["pack-1"] == (fleet.a, fleet.stores.a)


def test_move_devices_to_a_sub_operators_store_and_keep_the_history(fleet, as_a):
    move = {"device_ids": ["pack-1", "pack-2"], "to_operator_id": fleet.a1,
            "to_store_id": fleet.stores.a1, "note": "new depot"}  # fmt: skip
    answer = as_a.post("/api/devices/transfer", json=move)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {
        "moved": ["pack-1", "pack-2"], "unchanged": [], "to_operator_id": fleet.a1,
        "to_store_id": fleet.stores.a1, "dropped_geofence_assignments": 0, "resolved_alarms": 0,
        "cancelled_commands": [],
    }  # fmt: skip
    now = owners(fleet.database)
    assert now["pack-1"] == now["pack-2"] == (fleet.a1, fleet.stores.a1)
    assert now["pack-3"] == (fleet.a, fleet.stores.a)
    assert transfers(fleet.database) == [
        (device_id, fleet.a, fleet.stores.a, fleet.a1, fleet.stores.a1, "admin@a.test", "new depot")
        for device_id in ("pack-1", "pack-2")
    ]
    # another store of the same operator is a transfer too; no store at all is one as well
    as_a.post("/api/devices/transfer", json={"device_ids": ["pack-1"], "to_operator_id": fleet.a1})
    history = as_a.get("/api/devices/pack-1/transfers").get_json()
    assert [(h["to_operator_id"], h["to_store_id"]) for h in history] == [
        (fleet.a1, None), (fleet.a1, fleet.stores.a1)
    ]  # fmt: skip
    assert history[0]["moved_by"] == "admin@a.test" and history[0]["from_store_id"] == (
        fleet.stores.a1
    )


def test_devices_already_there_are_left_alone(fleet, as_a):
    move = {"device_ids": ["pack-1", "pack-2"], "to_operator_id": fleet.a,
            "to_store_id": fleet.stores.a_east}  # fmt: skip
    as_a.post("/api/devices/transfer", json={**move, "device_ids": ["pack-2"]})
    answer = as_a.post("/api/devices/transfer", json=move).get_json()
    assert (answer["moved"], answer["unchanged"]) == (["pack-1"], ["pack-2"])
    assert [row[0] for row in transfers(fleet.database)] == ["pack-2", "pack-1"]


def test_refused_while_leased_and_nothing_moves(fleet, as_a):
    with psycopg.connect(fleet.database, autocommit=True) as conn:
        for device_id, leased in (("pack-2", True), ("pack-3", False)):
            conn.execute(
                "INSERT INTO lease_term (device_id, leased, cutoff_when_not_leased)"
                " VALUES (%s, %s, true)",
                (device_id, leased),
            )
    move = {"device_ids": ["pack-1", "pack-2", "pack-3"], "to_operator_id": fleet.a1}
    body = problem_of(as_a.post("/api/devices/transfer", json=move), 409)
    assert "'pack-2'" in body["detail"] and "pack-1" not in body["detail"]
    assert "pack-3" not in body["detail"]
    assert {owners(fleet.database)[d][0] for d in move["device_ids"]} == {fleet.a}
    assert transfers(fleet.database) == []
    with psycopg.connect(fleet.database, autocommit=True) as conn:
        conn.execute("UPDATE lease_term SET leased = false WHERE device_id = 'pack-2'")
    answer = as_a.post("/api/devices/transfer", json=move)
    assert answer.status_code == 200 and len(answer.get_json()["moved"]) == 3


def queue(database: str, cmd_id: str, device_id: str, state: str = "queued") -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO command (cmd_id, device_id, type, args, state, issued_by, expires_at)"
            " VALUES (%s, %s, 'set_discharge', '{\"on\": false}', %s, 'clerk@a.test',"
            " now() + interval '1 hour')",
            (cmd_id, device_id, state),
        )


def command_states(database: str) -> dict[str, str]:
    with psycopg.connect(database) as conn:
        return dict(conn.execute("SELECT cmd_id, state FROM command").fetchall())


def test_open_commands_of_a_device_that_changes_operator_are_cancelled(fleet, as_a):
    for cmd_id, device_id, state in (
        ("cut-1", "pack-1", "queued"), ("cut-1-sent", "pack-1", "sent"),
        ("old-1", "pack-1", "done"), ("cut-2", "pack-2", "queued"),
    ):  # fmt: skip
        queue(fleet.database, cmd_id, device_id, state)
    # another store of the same operator: its commands stand
    to_east = {"device_ids": ["pack-2"], "to_operator_id": fleet.a,
               "to_store_id": fleet.stores.a_east}  # fmt: skip
    assert as_a.post("/api/devices/transfer", json=to_east).get_json()["cancelled_commands"] == []
    # another operator: the old owner's cut-off must not fire under the new one
    to_a1 = {"device_ids": ["pack-1", "pack-2"], "to_operator_id": fleet.a1}
    answer = as_a.post("/api/devices/transfer", json=to_a1).get_json()
    assert answer["cancelled_commands"] == ["cut-1", "cut-1-sent", "cut-2"]
    assert command_states(fleet.database) == {
        "cut-1": "cancelled", "cut-1-sent": "cancelled", "old-1": "done", "cut-2": "cancelled"
    }  # fmt: skip
    detail = as_a.get("/api/audit?action=POST /api/devices/transfer").get_json()
    assert any(
        entry["detail"].get("cancelled_commands") == ["cut-1", "cut-1-sent", "cut-2"]
        for entry in detail
    ), detail


def test_a_thousand_devices_at_once(fleet, as_a):
    device_ids = [f"bulk-{n:04d}" for n in range(1000)]
    with psycopg.connect(fleet.database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO device (id, operator_id) SELECT unnest(%s::text[]), %s",
            (device_ids, fleet.a),
        )
    move = {"device_ids": device_ids, "to_operator_id": fleet.a1, "to_store_id": fleet.stores.a1}
    answer = as_a.post("/api/devices/transfer", json=move)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["moved"] == device_ids
    now = owners(fleet.database)
    assert all(now[d] == (fleet.a1, fleet.stores.a1) for d in device_ids)
    assert len(transfers(fleet.database)) == 1000
    body = problem_of(
        as_a.post("/api/devices/transfer", json={**move, "device_ids": [*device_ids, "pack-1"]}),
        422,
    )
    assert body["errors"][0]["field"] == "device_ids"


@on_both_walls
def test_other_operators_objects_are_not_found_and_nothing_moves(fleet, as_a):
    def refused(status: int, **changes) -> str:
        move = {"device_ids": ["pack-1", "pack-b", "pack-x"], "to_operator_id": fleet.a1}
        return problem_of(as_a.post("/api/devices/transfer", json=move | changes), status)

    assert refused(404)["detail"] == "no device 'pack-b'"
    assert refused(404, device_ids=["pack-1", "pack-x"])["detail"] == "no device 'pack-x'"
    assert refused(404, device_ids=["pack-1"], to_operator_id=fleet.b)["detail"] == (
        f"no operator {fleet.b}"
    )
    assert refused(404, device_ids=["pack-1"], to_operator_id=PLATFORM)["detail"] == (
        f"no operator {PLATFORM}"
    )
    assert refused(404, device_ids=["pack-1"], to_store_id=fleet.stores.b)["detail"] == (
        f"no store {fleet.stores.b}"
    )
    wrong_store = refused(422, device_ids=["pack-1"], to_store_id=fleet.stores.a)
    assert wrong_store["errors"][0]["field"] == "to_store_id"
    assert owners(fleet.database)["pack-1"] == (fleet.a, fleet.stores.a)
    assert transfers(fleet.database) == []
    problem_of(as_a.get("/api/devices/pack-b/transfers"), 404)


def add_fence(conn: psycopg.Connection, operator_id: int, device_id: str) -> int:
    fence_id = conn.execute(
        "INSERT INTO geofence (name, kind, circle_lat, circle_lon, circle_radius_m, operator_id)"
        " VALUES ('fence', 'keep_in', 22.5, 113.9, 500, %s) RETURNING id",
        (operator_id,),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO geofence_assignment (geofence_id, device_id) VALUES (%s, %s)",
        (fence_id, device_id),
    )
    return fence_id


@on_both_walls
def test_fences_the_new_operator_may_not_use_are_dropped(fleet, as_a):
    with psycopg.connect(fleet.database, autocommit=True) as conn:
        conn.execute("UPDATE device SET operator_id = %s, store_id = NULL", (fleet.a1,))
        platform_fence = add_fence(conn, PLATFORM, "pack-1")
        a_fence = add_fence(conn, fleet.a, "pack-1")
        a1_fence = add_fence(conn, fleet.a1, "pack-1")
        conn.execute(
            "INSERT INTO rule_state (device_id, rule, subject, state)"
            " VALUES ('pack-1', 'geofence', %s, '{}')",
            (str(a1_fence),),
        )
        conn.execute(
            "INSERT INTO alarm (device_id, type, subject, severity, first_at, latest_at, message)"
            " VALUES ('pack-1', 'outside_geofence', %s, 'warning', %s, %s, 'left the fence')",
            (str(a1_fence), T0, T0),
        )
    move = {"device_ids": ["pack-1", "pack-2"], "to_operator_id": fleet.a}
    answer = as_a.post("/api/devices/transfer", json=move).get_json()
    assert (answer["dropped_geofence_assignments"], answer["resolved_alarms"]) == (1, 1)
    with psycopg.connect(fleet.database) as conn:
        kept = conn.execute("SELECT geofence_id FROM geofence_assignment ORDER BY 1").fetchall()
        assert [row[0] for row in kept] == [platform_fence, a_fence]
        assert conn.execute("SELECT count(*) FROM rule_state").fetchone()[0] == 0
        alarm = conn.execute("SELECT state, resolved_by FROM alarm").fetchone()
        assert alarm == ("resolved", "auto")
        events = conn.execute("SELECT event, by FROM alarm_event").fetchall()
        assert events == [("resolved", "auto")]
    with api_client(fleet.database) as platform:  # to B: A's fence goes, the platform's stays
        answer = platform.post(
            "/api/devices/transfer", json={"device_ids": ["pack-1"], "to_operator_id": fleet.b}
        ).get_json()
    assert answer["dropped_geofence_assignments"] == 1
    with psycopg.connect(fleet.database) as conn:
        kept = conn.execute("SELECT geofence_id FROM geofence_assignment").fetchall()
    assert kept == [(platform_fence,)]
