"""Who may see and resolve which alarms, and whose mutes apply: sibling operators A and B
under the platform never see or touch each other's alarms; mutes belong to one account;
alarm profiles are the platform's to change."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from tests.cloud.alarm_support import add_alarm
from tests.cloud.api_support import T0, api_client, problem_of
from tests.cloud.tenancy_support import ROOT_LOGIN, WALL_ROLES, holding, siblings

pytestmark = [pytest.mark.postgres]

PAST = T0 - timedelta(days=2)


@pytest.fixture(params=WALL_ROLES, ids=list(WALL_ROLES))
def client(database, request):
    with api_client(database, api_db_role=WALL_ROLES[request.param]) as client:
        yield client


def ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [item["id"] for item in answer.get_json()]


def states(database: str) -> dict[int, tuple[str, str | None]]:
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT id, state, resolved_by FROM alarm").fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def test_without_a_bearer_is_a_401_and_without_the_permission_a_403(database):
    tenants = siblings(database)
    alarm_id = add_alarm(database, "pack-a", "low_soc", PAST)
    reader = holding(database, tenants.a, "reader@a.test", ["alarm.read"])
    nothing = holding(database, tenants.a, "fences@a.test", ["geofence.read"])
    reads = ["/api/alarms", f"/api/alarms/{alarm_id}", f"/api/alarms/{alarm_id}/occurrences",
             f"/api/alarms/{alarm_id}/curve", "/api/alarm-mutes", "/api/alarm-types",
             "/api/alarm-profiles", "/api/alarm-profile"]  # fmt: skip
    with api_client(database, secret=None) as client:
        for path in reads:
            problem_of(client.get(path), 401)
            assert "alarm.read" in problem_of(client.get(path, headers=nothing), 403)["detail"]
        problem_of(client.post(f"/api/alarms/{alarm_id}/resolve", json={"note": "x"}), 401)
        assert ids(client.get("/api/alarms", headers=reader)) == [alarm_id]
        for path in (f"/api/alarms/{alarm_id}/resolve", "/api/alarms/resolve"):
            denied = problem_of(client.post(path, json={"note": "x"}, headers=reader), 403)
            assert "alarm.resolve" in denied["detail"]
        # profiles are fleet-wide: even an operator's administrator only reads them
        for put in ("/api/alarm-profile", "/api/alarm-profiles/EB-48V"):
            denied = problem_of(client.put(put, json={}, headers=tenants.as_a), 403)
            assert "platform.alarm_profiles" in denied["detail"]
            problem_of(client.delete(put, headers=tenants.as_a), 403)
    assert states(database) == {alarm_id: ("open", None)}


def test_a_sibling_operators_alarms_are_not_found(client, database):
    tenants = siblings(database)
    mine = add_alarm(database, "pack-a", "low_soc", PAST)
    theirs = add_alarm(database, "pack-b", "low_soc", PAST + timedelta(minutes=1))

    assert ids(client.get("/api/alarms", headers=tenants.as_a)) == [mine]
    assert ids(client.get("/api/alarms?device_id=pack-b", headers=tenants.as_a)) == []
    assert ids(client.get("/api/alarms")) == [theirs, mine]
    for path in ("", "/occurrences", "/curve"):
        problem_of(client.get(f"/api/alarms/{theirs}{path}", headers=tenants.as_a), 404)
    resolve = client.post(f"/api/alarms/{theirs}/resolve", json={"note": "x"}, headers=tenants.as_a)
    problem_of(resolve, 404)
    # a list naming another operator's alarm: a 404 naming it, and nothing resolved
    batch = {"alarm_ids": [mine, theirs], "note": "x"}
    refused = client.post("/api/alarms/resolve", json=batch, headers=tenants.as_a)
    assert problem_of(refused, 404)["detail"] == f"no alarm {theirs}"
    assert states(database) == {mine: ("open", None), theirs: ("open", None)}
    # a filter never reaches past the caller's devices
    by_filter = {"filter": {"type": "low_soc"}, "note": "charged"}
    answer = client.post("/api/alarms/resolve", json=by_filter, headers=tenants.as_a)
    assert answer.get_json()["results"] == [{"id": mine, "result": "resolved"}]
    assert states(database) == {mine: ("resolved", "admin@a.test"), theirs: ("open", None)}
    by_device = {"filter": {"device_id": "pack-b"}, "note": "x"}
    answer = client.post("/api/alarms/resolve", json=by_device, headers=tenants.as_a)
    assert answer.get_json()["resolved"] == 0
    assert states(database)[theirs] == ("open", None)


def test_mutes_belong_to_the_signed_in_account(client, database):
    tenants = siblings(database)
    soc = add_alarm(database, "pack-a", "low_soc", PAST)
    shake = add_alarm(database, "pack-a", "vibration", PAST + timedelta(minutes=1))
    colleague = holding(database, tenants.a, "colleague@a.test", ["alarm.read"])

    muted = client.put("/api/alarm-mutes/vibration", json={}, headers=tenants.as_a)
    assert muted.status_code == 200, muted.get_data(as_text=True)
    assert muted.get_json()["login"] == "admin@a.test"
    assert ids(client.get("/api/alarms", headers=tenants.as_a)) == [soc]
    assert ids(client.get("/api/alarms", headers=colleague)) == [shake, soc]
    assert ids(client.get("/api/alarms")) == [shake, soc]
    assert client.get("/api/alarm-mutes", headers=colleague).get_json() == []
    assert client.get("/api/alarm-mutes", headers=tenants.as_b).get_json() == []
    problem_of(client.delete("/api/alarm-mutes/vibration", headers=colleague), 404)
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT operator, type FROM alarm_mute").fetchall()
    assert rows == [("admin@a.test", "vibration")]

    assert client.put("/api/alarm-mutes/low_soc", json={}).get_json()["login"] == ROOT_LOGIN
    assert ids(client.get("/api/alarms", headers=tenants.as_a)) == [soc]
    assert ids(client.get("/api/alarms")) == [shake]
