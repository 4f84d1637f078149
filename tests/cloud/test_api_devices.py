"""The device registry over HTTP, against a real PostgreSQL."""

from __future__ import annotations

import json

import pytest

from tests.cloud.api_support import (
    add_device,
    at,
    iso,
    problem_of,
    set_state,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def offline(client):
    """Answers decided before the store is read (the name is older than sign-in, which needs
    the store: these now run on a real one)."""
    return client


def test_create_then_get_a_device(client):
    body = {
        "id": "pack-0001",
        "serial": "SN-1",
        "kind": "pack",
        "model": "JBD-16S",
        "name": "Shelf 3",
        "attributes": {"store": "Nanshan"},
    }
    created = client.post("/api/devices", json=body)
    assert created.status_code == 201
    assert created.headers["Location"] == "/api/devices/pack-0001"
    device = created.get_json()
    assert {k: device[k] for k in body} == body
    assert device["state"] == {
        "online": False,
        "last_seen_at": None,
        "soc_percent": None,
        "lat": None,
        "lon": None,
    }
    assert device["created_at"].endswith("Z") and len(device["created_at"]) == 24
    assert client.get(created.headers["Location"]).get_json() == device


def test_create_fills_defaults(client):
    device = client.post("/api/devices", json={"id": "v.7"}).get_json()
    assert (device["kind"], device["model"], device["name"], device["serial"]) == (
        "pack",
        "",
        "",
        None,
    )
    assert device["attributes"] == {}


def test_create_conflicts_on_id_and_on_serial(client, db):
    add_device(db, "pack-1", serial="SN-1")
    problem = problem_of(client.post("/api/devices", json={"id": "pack-1"}), 409)
    assert "pack-1" in problem["detail"] and "already exists" in problem["detail"]
    problem = problem_of(client.post("/api/devices", json={"id": "pack-2", "serial": "SN-1"}), 409)
    assert "SN-1" in problem["detail"] and "'pack-1'" in problem["detail"]
    assert db.execute("SELECT count(*) FROM device").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({}, "id", "Missing data for required field."),
        ({"id": "-leading-dash"}, "id", "Not a valid device id"),
        ({"id": "pack-1\n"}, "id", "Not a valid device id"),
        ({"id": "x" * 65}, "id", "Not a valid device id"),
        ({"id": "p", "kind": "scooter"}, "kind", "Must be one of: pack, vehicle."),
        ({"id": "p", "attributes": [1]}, "attributes", "Not a valid mapping type."),
        ({"id": "p", "colour": "red"}, "colour", "Unknown field."),
    ],
)
def test_create_refuses_bad_bodies_naming_the_field(offline, body, field, reason):
    problem = problem_of(offline.post("/api/devices", json=body), 422)
    assert len(problem["errors"]) == 1
    error = problem["errors"][0]
    assert (error["field"], error["in"]) == (field, "body")
    assert error["reason"].startswith(reason)
    assert field in problem["detail"]


def test_a_body_that_is_not_json_is_a_400_problem(offline):
    response = offline.post("/api/devices", data="{not json", content_type="application/json")
    problem = problem_of(response, 400)
    [error] = problem["errors"]
    assert (error["field"], error["in"]) == (None, "body")
    assert error["reason"].startswith("Not valid JSON: Expecting property name")


def test_patch_changes_only_the_given_fields(client, db):
    add_device(db, "pack-1", serial="SN-1", model="A", name="old", attributes={"a": 1})
    response = client.patch("/api/devices/pack-1", json={"name": "new", "attributes": {"b": 2}})
    assert response.status_code == 200
    device = response.get_json()
    assert (device["serial"], device["model"], device["name"]) == ("SN-1", "A", "new")
    assert device["attributes"] == {"b": 2}
    cleared = client.patch("/api/devices/pack-1", json={"serial": None}).get_json()
    assert cleared["serial"] is None and cleared["name"] == "new"


def test_patch_conflict_missing_and_invalid(client, db):
    add_device(db, "pack-1", serial="SN-1")
    add_device(db, "pack-2")
    problem_of(client.patch("/api/devices/pack-2", json={"serial": "SN-1"}), 409)
    problem_of(client.patch("/api/devices/nope", json={"name": "x"}), 404)
    problem = problem_of(client.patch("/api/devices/pack-2", json={"id": "other"}), 422)
    assert problem["errors"][0]["field"] == "id"


def test_delete_removes_the_device_and_its_state(client, db):
    add_device(db, "pack-1")
    assert client.delete("/api/devices/pack-1").status_code == 204
    problem_of(client.get("/api/devices/pack-1"), 404)
    problem_of(client.delete("/api/devices/pack-1"), 404)
    assert db.execute("SELECT count(*) FROM device_state").fetchone()[0] == 0


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [device["id"] for device in response.get_json()]


def test_list_filters(client, db):
    add_device(db, "pack-a", kind="pack", model="M1", name="Front desk", serial="SN-XY-1")
    add_device(db, "pack-b", kind="pack", model="M2")
    add_device(db, "cart-1", kind="vehicle", model="M1")
    set_state(db, "pack-b", online=True, last_seen_at=at(0), soc_percent=77.5, lat=22.5, lon=113.9)
    assert _ids(client.get("/api/devices")) == ["cart-1", "pack-a", "pack-b"]
    assert _ids(client.get("/api/devices?kind=vehicle")) == ["cart-1"]
    assert _ids(client.get("/api/devices?model=M1")) == ["cart-1", "pack-a"]
    assert _ids(client.get("/api/devices?online=true")) == ["pack-b"]
    assert _ids(client.get("/api/devices?online=false&kind=pack")) == ["pack-a"]
    assert _ids(client.get("/api/devices?q=DESK")) == ["pack-a"]  # name
    assert _ids(client.get("/api/devices?q=xy-")) == ["pack-a"]  # serial
    assert _ids(client.get("/api/devices?q=CART")) == ["cart-1"]  # id
    listed = client.get("/api/devices?online=true").get_json()[0]
    assert listed["state"] == {
        "online": True,
        "last_seen_at": iso(at(0)),
        "soc_percent": 77.5,
        "lat": 22.5,
        "lon": 113.9,
    }


def test_list_refuses_unknown_and_bad_query_arguments(offline):
    problem = problem_of(offline.get("/api/devices?onlin=true"), 422)
    assert problem["errors"] == [{"field": "onlin", "in": "query", "reason": "Unknown field."}]
    problem = problem_of(offline.get("/api/devices?kind=boat&online=maybe"), 422)
    assert sorted(e["field"] for e in problem["errors"]) == ["kind", "online"]
    problem = problem_of(offline.get("/api/devices?page=0"), 422)
    assert problem["errors"][0]["field"] == "page"
    problem_of(offline.get("/api/devices?page_size=501"), 422)


def test_list_pages_are_stable_and_complete(client, db):
    for n in range(7):
        add_device(db, f"pack-{n:02d}")
    seen = []
    for page in (1, 2, 3):
        response = client.get(f"/api/devices?page={page}&page_size=3")
        meta = json.loads(response.headers["X-Pagination"])
        assert (meta["total"], meta["total_pages"], meta["page"]) == (7, 3, page)
        seen += _ids(response)
    assert seen == [f"pack-{n:02d}" for n in range(7)]
    assert _ids(client.get("/api/devices?page=4&page_size=3")) == []


def test_state_of_a_device(client, db):
    add_device(db, "pack-1")
    set_state(
        db,
        "pack-1",
        online=True,
        bms_time=at(1),
        pack_voltage_v=52.3,
        cell_voltages_v=[3.7, 3.71],
        protection=["cell_overvoltage"],
        status={"agent": "1.0"},
    )
    state = client.get("/api/devices/pack-1/state").get_json()
    assert state["device_id"] == "pack-1" and state["online"] is True
    assert state["bms_time"] == iso(at(1))
    assert state["pack_voltage_v"] == 52.3
    assert state["cell_voltages_v"] == [3.7, 3.71]
    assert state["protection"] == ["cell_overvoltage"]
    assert state["status"] == {"agent": "1.0"}
    assert state["lat"] is None
    problem_of(client.get("/api/devices/nope/state"), 404)


def test_unknown_devices_newest_first(client, db):
    for device_id, minutes in (("ghost-1", 1), ("ghost-2", 5)):
        db.execute(
            """INSERT INTO unknown_device (device_id, first_seen_at, last_seen_at, messages,
               last_topic) VALUES (%s, %s, %s, 3, %s)""",
            (device_id, at(0), at(minutes), f"vr/v1/{device_id}/up/telemetry"),
        )
    response = client.get("/api/unknown-devices")
    assert response.status_code == 200
    unknown = response.get_json()
    assert [u["device_id"] for u in unknown] == ["ghost-2", "ghost-1"]
    assert unknown[0] == {
        "device_id": "ghost-2",
        "first_seen_at": iso(at(0)),
        "last_seen_at": iso(at(5)),
        "messages": 3,
        "last_topic": "vr/v1/ghost-2/up/telemetry",
    }
    assert json.loads(response.headers["X-Pagination"])["total"] == 2
    client.post("/api/devices", json={"id": "ghost-1"})
    assert [u["device_id"] for u in client.get("/api/unknown-devices").get_json()] == ["ghost-2"]
