"""Who may see and change which geofences and crossings: sibling operators A and B under the
platform never see each other's fences or devices, and a fence watches only devices of its
own operator's subtree."""

from __future__ import annotations

import psycopg
import pytest

from tests.cloud.api_support import add_device, api_client, at, insert, problem_of
from tests.cloud.tenancy_support import PLATFORM, WALL_ROLES, holding, make_operator, siblings

pytestmark = [pytest.mark.postgres]

CIRCLE = {"lat": 22.54, "lon": 114.05, "radius_m": 300}


@pytest.fixture(params=WALL_ROLES, ids=list(WALL_ROLES))
def client(database, request):
    with api_client(database, api_db_role=WALL_ROLES[request.param]) as client:
        yield client


def create(client, headers=None, **body) -> dict:
    body = {"name": "depot", "kind": "keep_in", "circle": CIRCLE, **body}
    answer = client.post("/api/geofences", json=body, headers=headers)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


def ids(answer) -> list:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [item["id"] for item in answer.get_json()]


def test_without_a_bearer_is_a_401_and_without_the_permission_a_403(database):
    tenants = siblings(database)
    reader = holding(database, tenants.a, "reader@a.test", ["geofence.read"])
    nothing = holding(database, tenants.a, "alarms@a.test", ["alarm.read"])
    with api_client(database, secret=None) as client:
        for path in ("/api/geofences", "/api/geofence-events", "/api/devices/pack-a/geofences"):
            problem_of(client.get(path), 401)
        problem_of(client.post("/api/geofences", json={}), 401)
        assert client.get("/api/geofences", headers=reader).status_code == 200
        denied = problem_of(client.post("/api/geofences", json={}, headers=reader), 403)
        assert "geofence.write" in denied["detail"]
        for path in ("/api/geofences", "/api/geofence-events", "/api/devices/pack-a/geofences"):
            assert "geofence.read" in problem_of(client.get(path, headers=nothing), 403)["detail"]


def test_a_sibling_operators_fences_are_not_found(client, database):
    tenants = siblings(database)
    mine = create(client, tenants.as_a, name="a depot")
    theirs = create(client, tenants.as_b, name="b depot")
    platform = create(client, name="platform depot")
    assert (mine["operator_id"], theirs["operator_id"]) == (tenants.a, tenants.b)
    assert platform["operator_id"] == PLATFORM

    assert ids(client.get("/api/geofences", headers=tenants.as_a)) == [mine["id"]]
    assert ids(client.get("/api/geofences")) == [mine["id"], theirs["id"], platform["id"]]
    fence = f"/api/geofences/{theirs['id']}"
    for answer in (
        client.get(fence, headers=tenants.as_a),
        client.patch(fence, json={"name": "taken"}, headers=tenants.as_a),
        client.delete(fence, headers=tenants.as_a),
        client.post(f"{fence}/devices", json={"device_ids": ["pack-a"]}, headers=tenants.as_a),
        client.delete(f"{fence}/devices/pack-b", headers=tenants.as_a),
        client.get(f"/api/geofences/{platform['id']}", headers=tenants.as_a),
    ):
        problem_of(answer, 404)
    assert client.get(fence).get_json()["name"] == "b depot"
    # a fence for the sibling operator: that operator is not found either
    refused = client.post(
        "/api/geofences",
        json={"name": "x", "kind": "keep_in", "circle": CIRCLE, "operator_id": tenants.b},
        headers=tenants.as_a,
    )
    assert problem_of(refused, 404)["detail"] == f"no operator {tenants.b}"


def test_assignments_reach_only_the_callers_devices_of_the_fence_operators_subtree(
    client, database
):
    tenants = siblings(database)
    with psycopg.connect(database, autocommit=True) as conn:
        child = make_operator(conn, "A1", parent=tenants.a)
        add_device(conn, "pack-a1", operator_id=child)
        add_device(conn, "pack-a2", operator_id=tenants.a)
    fence = create(client, tenants.as_a)
    url = f"/api/geofences/{fence['id']}/devices"
    # B's device is not found for A, exactly like a missing one
    for missing in ("pack-b", "ghost"):
        body = {"device_ids": ["pack-a", missing]}
        problem = problem_of(client.post(url, json=body, headers=tenants.as_a), 422)
        assert problem["detail"] == f"unknown devices: {missing!r}"
        assert problem["errors"][0]["field"] == "device_ids"
    # a filter selects only A's devices (its sub-operator's included)
    by_filter = client.post(url, json={"filter": {"kind": "pack"}}, headers=tenants.as_a)
    assert by_filter.get_json()["matched"] == 3
    # the platform may see every device, but A's fence never watches B's
    beyond = problem_of(client.post(url, json={"device_ids": ["pack-b"]}), 422)
    assert "pack-b" in beyond["detail"] and f"operator {tenants.a}" in beyond["detail"]

    # a fence of the sub-operator A1 cannot watch its parent's devices
    childs = create(client, tenants.as_a, name="child depot", operator_id=child)
    assert childs["operator_id"] == child
    child_url = f"/api/geofences/{childs['id']}/devices"
    problem_of(client.post(child_url, json={"device_ids": ["pack-a"]}, headers=tenants.as_a), 422)
    answer = client.post(child_url, json={"filter": {"kind": "pack"}}, headers=tenants.as_a)
    assert answer.get_json()["matched"] == 1
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "SELECT geofence_id, device_id FROM geofence_assignment ORDER BY 1, 2"
        ).fetchall()
    assert rows == [(fence["id"], d) for d in ("pack-a", "pack-a1", "pack-a2")] + [
        (childs["id"], "pack-a1")
    ]


def test_a_devices_fences_and_the_crossings_are_the_callers_only(client, database):
    tenants = siblings(database)
    mine = create(client, tenants.as_a)
    platform = create(client, name="platform depot")
    for fence in (mine, platform):
        body = {"device_ids": ["pack-a"]}
        answer = client.post(f"/api/geofences/{fence['id']}/devices", json=body)
        assert answer.status_code == 200, answer.get_data(as_text=True)
    assert ids(client.get("/api/devices/pack-a/geofences", headers=tenants.as_a)) == [mine["id"]]
    assert ids(client.get("/api/devices/pack-a/geofences")) == [mine["id"], platform["id"]]
    problem_of(client.get("/api/devices/pack-b/geofences", headers=tenants.as_a), 404)
    listed = client.get("/api/geofences?device_id=pack-a", headers=tenants.as_a)
    assert ids(listed) == [mine["id"]]
    assert listed.get_json()[0]["device_count"] == 1

    with psycopg.connect(database, autocommit=True) as conn:
        for minute, device_id in ((0, "pack-a"), (1, "pack-b")):
            insert(conn, "geofence_event", device_id=device_id, geofence_id=platform["id"],
                   geofence_name="platform depot", type="left", breach=True, time=at(minute),
                   received_at=at(minute))  # fmt: skip
    crossings = client.get("/api/geofence-events", headers=tenants.as_a).get_json()
    assert [c["device_id"] for c in crossings] == ["pack-a"]
    named = client.get("/api/geofence-events?device_id=pack-b", headers=tenants.as_a)
    assert named.get_json() == []
    assert [c["device_id"] for c in client.get("/api/geofence-events").get_json()] == [
        "pack-b",
        "pack-a",
    ]


def test_a_store_account_sees_the_fences_of_its_devices_and_changes_none(client, database):
    tenants = siblings(database)
    with psycopg.connect(database, autocommit=True) as conn:
        store = conn.execute(
            "INSERT INTO store (operator_id, name) VALUES (%s, 'north') RETURNING id", (tenants.a,)
        ).fetchone()[0]
        add_device(conn, "pack-north", operator_id=tenants.a, store_id=store)
    staff = holding(database, tenants.a, "staff@a.test", ["geofence.read", "geofence.write"])
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("UPDATE account SET store_id = %s WHERE login = 'staff@a.test'", (store,))
    fence = create(client, tenants.as_a)
    elsewhere = create(client, tenants.as_a, name="another store's yard")
    url = f"/api/geofences/{fence['id']}/devices"
    body = {"device_ids": ["pack-a", "pack-north"]}
    assert client.post(url, json=body, headers=tenants.as_a).status_code == 200
    other = f"/api/geofences/{elsewhere['id']}"
    assert client.post(f"{other}/devices", json={"device_ids": ["pack-a"]},
                       headers=tenants.as_a).status_code == 200  # fmt: skip
    seen = client.get(f"/api/geofences/{fence['id']}", headers=staff).get_json()
    assert seen["device_count"] == 1
    assert ids(client.get("/api/geofences", headers=staff)) == [fence["id"]]
    assert ids(client.get("/api/devices/pack-north/geofences", headers=staff)) == [fence["id"]]
    problem_of(client.get(other, headers=staff), 404)
    # the fence is the operator's: its action would cut packs of other stores (pack-a)
    cut = {"action": {"cut_discharge_after_s": 60}}
    for answer in (
        client.patch(f"/api/geofences/{fence['id']}", json=cut, headers=staff),
        client.delete(f"/api/geofences/{fence['id']}", headers=staff),
        client.post(url, json={"device_ids": ["pack-north"]}, headers=staff),
        client.delete(f"{url}/pack-north", headers=staff),
        client.post("/api/geofences", json={"name": "mine", "kind": "keep_in", "circle": CIRCLE},
                    headers=staff),
    ):  # fmt: skip
        assert "geofence.write" in problem_of(answer, 403)["detail"]
    after = client.get(f"/api/geofences/{fence['id']}", headers=tenants.as_a).get_json()
    assert (after["action"], after["version"], after["device_count"]) == (None, 1, 2)
    assert len(ids(client.get("/api/geofences", headers=tenants.as_a))) == 2
