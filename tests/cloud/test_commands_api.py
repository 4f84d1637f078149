"""The commands and lease API on a real PostgreSQL: validation, rows written, cancel, bulk."""

from __future__ import annotations

import psycopg
import pytest

from tests.cloud.api_support import add_device, api_client, problem_of, set_state
from tests.cloud.tenancy_support import ROOT_LOGIN

pytestmark = [pytest.mark.postgres]

CUT = {"type": "set_discharge", "args": {"on": False}, "reason": "unpaid"}


@pytest.fixture
def client(database):
    with psycopg.connect(database, autocommit=True) as conn:
        add_device(conn, "pack-1", model="M1")
        add_device(conn, "pack-2", model="M1")
        add_device(conn, "pack-3", model="M2")
        add_device(conn, "cart-1", kind="vehicle")
        set_state(conn, "pack-2", online=True)
    with api_client(database) as client:
        yield client


def test_issue_a_command_and_read_it_back(client, database):
    answer = client.post("/api/devices/pack-1/commands", json={**CUT, "expires_in_s": 60})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    command = answer.get_json()
    assert command["state"] == "queued"
    assert command["args"] == {"on": False, "emergency": False}  # normalised by the catalogue
    assert command["issued_by"] == ROOT_LOGIN and command["reason"] == "unpaid"
    assert command["send_count"] == 0 and command["acked_at"] is None
    assert answer.headers["Location"].endswith(f"/api/commands/{command['cmd_id']}")
    got = client.get(f"/api/commands/{command['cmd_id']}").get_json()
    assert got == command
    with psycopg.connect(database) as conn:
        lifetime = conn.execute(
            "SELECT extract(epoch FROM expires_at - created_at) FROM command WHERE cmd_id = %s",
            (command["cmd_id"],),
        ).fetchone()[0]
    assert float(lifetime) == 60


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CUT, "type": "self_destruct"}, "type"),
        ({**CUT, "args": {"on": "yes"}}, "args.on"),
        ({**CUT, "args": {"on": False, "speed": 3}}, "args.speed"),
        ({**CUT, "expires_in_s": 0}, "expires_in_s"),
        ({**CUT, "expires_in_s": 8 * 86_400}, "expires_in_s"),
        ({"args": {"on": False}}, "type"),
        ({**CUT, "issued_by": "alice"}, "issued_by"),  # who issues it: the caller, always
        ({**CUT, "cmd_id": "no spaces allowed"}, "cmd_id"),
    ],
)
def test_an_invalid_command_is_a_422_naming_the_field(client, database, body, field):
    body = problem_of(client.post("/api/devices/pack-1/commands", json=body), 422)
    assert field in [error["field"] for error in body["errors"]], body
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM command").fetchone()[0] == 0


def test_the_caller_is_the_issuer_and_a_given_cmd_id_is_used_once(client):
    body = {"type": "locate", "cmd_id": "op-42"}
    answer = client.post("/api/devices/pack-1/commands", json=body, headers={"X-Operator": "bob"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["issued_by"] == ROOT_LOGIN  # the old header names nobody
    again = client.post("/api/devices/pack-1/commands", json=body)
    assert "op-42" in problem_of(again, 409)["detail"]


def test_unknown_device_and_unknown_command_are_404(client):
    problem_of(client.post("/api/devices/nope/commands", json=CUT), 404)
    problem_of(client.get("/api/commands/nope"), 404)
    problem_of(client.post("/api/commands/nope/cancel"), 404)
    problem_of(client.get("/api/devices/nope/commands"), 404)


def test_cancel_a_queued_command_then_cancel_again_is_a_conflict(client, database):
    cmd_id = client.post("/api/devices/pack-1/commands", json=CUT).get_json()["cmd_id"]
    answer = client.post(f"/api/commands/{cmd_id}/cancel")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["state"] == "cancelled" and body["cancelled_at"]
    assert body["may_still_execute"] is False
    again = problem_of(client.post(f"/api/commands/{cmd_id}/cancel"), 409)
    assert "cancelled" in again["detail"]


def test_cancel_a_sent_command_says_it_may_still_execute(client, database):
    cmd_id = client.post("/api/devices/pack-1/commands", json=CUT).get_json()["cmd_id"]
    with psycopg.connect(database) as conn:
        conn.execute("UPDATE command SET state = 'sent', send_count = 1 WHERE cmd_id = %s",
                      (cmd_id,))  # fmt: skip
    body = client.post(f"/api/commands/{cmd_id}/cancel").get_json()
    assert body["state"] == "cancelled"
    assert body["may_still_execute"] is True
    assert "may still" in body["note"]


def test_history_is_newest_first_paginated_and_filtered_by_state(client):
    ids = [
        client.post("/api/devices/pack-1/commands", json={"type": "locate"}).get_json()["cmd_id"]
        for _ in range(3)
    ]
    client.post(f"/api/commands/{ids[0]}/cancel")
    page = client.get("/api/devices/pack-1/commands?page_size=2")
    assert page.status_code == 200
    assert [c["cmd_id"] for c in page.get_json()] == [ids[2], ids[1]]
    assert '"total": 3' in page.headers["X-Pagination"]
    cancelled = client.get("/api/devices/pack-1/commands?state=cancelled").get_json()
    assert [c["cmd_id"] for c in cancelled] == [ids[0]]
    problem_of(client.get("/api/devices/pack-1/commands?state=lost"), 422)


def test_bulk_by_list_gives_each_device_its_own_command_in_one_batch(client, database):
    body = {**CUT, "device_ids": ["pack-1", "pack-3", "pack-1"]}
    answer = client.post("/api/commands", json=body)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    batch = answer.get_json()
    assert batch["count"] == 2
    assert [c["device_id"] for c in batch["commands"]] == ["pack-1", "pack-3"]
    for member in batch["commands"]:
        command = client.get(f"/api/commands/{member['cmd_id']}").get_json()
        assert command["device_id"] == member["device_id"]
        assert command["batch_id"] == batch["batch_id"]
        assert command["state"] == "queued" and command["issued_by"] == ROOT_LOGIN
    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT issued_by, operator_id FROM command_batch WHERE batch_id = %s",
            (batch["batch_id"],),
        ).fetchone()
    assert row == (ROOT_LOGIN, 1)


def test_bulk_by_filter_selects_devices_by_model_kind_and_online(client):
    by_model = client.post("/api/commands", json={**CUT, "filter": {"model": "M1"}}).get_json()
    assert sorted(c["device_id"] for c in by_model["commands"]) == ["pack-1", "pack-2"]
    online = client.post("/api/commands", json={**CUT, "filter": {"online": True}}).get_json()
    assert [c["device_id"] for c in online["commands"]] == ["pack-2"]
    vehicles = client.post("/api/commands", json={**CUT, "filter": {"kind": "vehicle"}})
    assert [c["device_id"] for c in vehicles.get_json()["commands"]] == ["cart-1"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({}, "device_ids"),
        ({"device_ids": ["pack-1"], "filter": {"model": "M1"}}, "device_ids"),
        ({"filter": {}}, "filter"),
        ({"device_ids": ["pack-1"], "args": {"on": 1}}, "args.on"),
    ],
)
def test_bad_bulk_requests_are_422_and_issue_nothing(client, database, extra, field):
    body = problem_of(client.post("/api/commands", json={**CUT, **extra}), 422)
    assert any((e["field"] or "").startswith(field) for e in body["errors"]), body
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM command").fetchone()[0] == 0


def test_a_bulk_naming_an_unregistered_device_is_a_404_and_issues_nothing(client, database):
    body = problem_of(
        client.post("/api/commands", json={**CUT, "device_ids": ["pack-1", "ghost", "ghost-2"]}),
        404,
    )
    assert body["detail"] == "no device 'ghost' (and 1 more)"
    assert body["errors"][0]["field"] == "device_ids"
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM command").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM command_batch").fetchone()[0] == 0


def test_a_filter_matching_nothing_is_a_422(client):
    problem_of(client.post("/api/commands", json={**CUT, "filter": {"model": "none"}}), 422)


def test_lease_put_get_delete_each_change_a_higher_version(client):
    problem_of(client.get("/api/devices/pack-1/lease"), 404)
    problem_of(client.delete("/api/devices/pack-1/lease"), 404)
    term = {
        "leased": True,
        "leased_until": "2030-01-01T00:00:00Z",
        "grace_s": 600,
        "cutoff_when_not_leased": True,
        "lease_id": "order-7",
    }
    first = client.put("/api/devices/pack-1/lease", json=term)
    assert first.status_code == 200, first.get_data(as_text=True)
    first = first.get_json()
    assert first["leased_until"] == "2030-01-01T00:00:00.000Z"
    assert first["published_version"] == 0 and first["updated_by"] == ROOT_LOGIN
    second = client.put("/api/devices/pack-1/lease", json={**term, "grace_s": 60}).get_json()
    assert second["version"] > first["version"] and second["grace_s"] == 60
    ended = client.delete("/api/devices/pack-1/lease").get_json()
    assert ended["version"] > second["version"]
    assert ended["leased"] is False and ended["leased_until"] is None
    assert ended["cutoff_when_not_leased"] is True and ended["grace_s"] == 60
    assert client.get("/api/devices/pack-1/lease").get_json() == ended


def test_lease_validation_and_unknown_device(client):
    term = {"leased": True, "cutoff_when_not_leased": False}
    problem_of(client.put("/api/devices/ghost/lease", json=term), 404)
    body = problem_of(client.put("/api/devices/pack-1/lease", json={"leased": True}), 422)
    assert [e["field"] for e in body["errors"]] == ["cutoff_when_not_leased"]
    body = problem_of(
        client.put("/api/devices/pack-1/lease", json={"leased": True, "cutoff_when_not_leased":
                                                      True, "grace_s": -1}), 422)  # fmt: skip
    assert [e["field"] for e in body["errors"]] == ["grace_s"]
