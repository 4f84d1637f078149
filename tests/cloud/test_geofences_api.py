"""The geofence API on a real PostgreSQL: shapes checked by the geofence core, edits,
assignment to devices in bulk, and what deleting either side does to assignments."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.cloud.api_support import add_device, api_client, problem_of

pytestmark = [pytest.mark.postgres]

# About 1.1 km by 1.1 km in Shenzhen, [lon, lat] as GeoJSON has it.
SQUARE = [[113.90, 22.50], [113.91, 22.50], [113.91, 22.51], [113.90, 22.51], [113.90, 22.50]]
POLYGON = {"type": "Polygon", "coordinates": [SQUARE]}
SHIFTED = [[lon + 0.05, lat] for lon, lat in SQUARE]
MULTI = {"type": "MultiPolygon", "coordinates": [[SQUARE], [SHIFTED]]}
CIRCLE = {"lat": 22.54, "lon": 114.05, "radius_m": 300}


@pytest.fixture
def client(database):
    with psycopg.connect(database, autocommit=True) as conn:
        add_device(conn, "pack-1", model="M1")
        add_device(conn, "pack-2", model="M1")
        add_device(conn, "pack-3", model="M2")
        add_device(conn, "cart-1", kind="vehicle")
    with api_client(database) as client:
        yield client


def create(client, **body):
    answer = client.post("/api/geofences", json={"name": "depot", "kind": "keep_in", **body})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


def assignments(database) -> set[tuple[int, str]]:
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT geofence_id, device_id FROM geofence_assignment").fetchall()
    return set(rows)


def test_create_a_polygon_fence_and_read_it_back(client):
    answer = client.post(
        "/api/geofences", json={"name": "depot", "kind": "keep_in", "geometry": POLYGON}
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    fence = answer.get_json()
    assert fence["geometry"] == POLYGON and fence["circle"] is None
    assert (fence["margin_m"], fence["dwell_s"], fence["action"]) == (25.0, 60, None)
    assert fence["version"] == 1 and fence["device_count"] == 0
    assert answer.headers["Location"].endswith(f"/api/geofences/{fence['id']}")
    assert client.get(f"/api/geofences/{fence['id']}").get_json() == fence


def test_create_a_multipolygon_and_a_circle(client):
    multi = create(client, kind="keep_out", geometry=MULTI, margin_m=5, dwell_s=0)
    assert multi["geometry"] == MULTI and multi["kind"] == "keep_out"
    assert (multi["margin_m"], multi["dwell_s"]) == (5.0, 0)
    action = {"cut_discharge_after_s": 600, "restore_on_return": True}
    round_fence = create(client, circle=CIRCLE, action=action)
    assert round_fence["circle"] == CIRCLE and round_fence["geometry"] is None
    assert round_fence["action"] == action


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"geometry": {"type": "Polygon", "coordinates": [[*SQUARE[:-1], [113.9, 22.505]]]}},
         "geometry", "ring 0 is not closed"),
        ({"geometry": {"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE[:3]]]}},
         "geometry", "polygon 1 ring 0 needs at least 4 positions"),
        ({"geometry": {"type": "Point", "coordinates": [113.9, 22.5]}},
         "geometry", "Polygon or MultiPolygon"),
        ({"geometry": {"type": "Polygon", "coordinates": [
            [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}, "geometry", "Self-intersection"),
        ({"circle": {**CIRCLE, "lat": 95}}, "circle", "latitude 95"),
        ({"circle": {**CIRCLE, "radius_m": -3}}, "circle", "radius_m must be a positive"),
        ({"circle": {**CIRCLE, "radius_m": 40}, "margin_m": 50}, "margin_m", "leaves nothing"),
        ({"circle": CIRCLE, "margin_m": -1}, "margin_m", "margin_m must be >= 0"),
        ({"circle": CIRCLE, "geometry": POLYGON}, "circle", "either geometry or circle"),
        ({}, "geometry", "give geometry"),
        ({"circle": {"lat": 22.5}}, "circle.lon", "Missing data"),
        ({"circle": CIRCLE, "kind": "keep_near"}, "kind", "Must be one of"),
        ({"circle": CIRCLE, "dwell_s": -1}, "dwell_s", "greater than or equal to 0"),
    ],
)  # fmt: skip
def test_an_unusable_fence_is_a_422_naming_the_field(client, database, body, field, says):
    problem = problem_of(
        client.post("/api/geofences", json={"name": "x", "kind": "keep_in", **body}), 422
    )
    reasons = [e["reason"] for e in problem["errors"] if e["field"] == field]
    assert reasons and says in reasons[0], problem
    assert f"{field}: {reasons[0]}" in problem["detail"]
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM geofence").fetchone()[0] == 0


def test_an_edit_is_checked_bumps_the_version_and_may_replace_the_shape(client):
    fence = create(client, geometry=POLYGON)
    answer = client.patch(f"/api/geofences/{fence['id']}", json={"name": "yard", "dwell_s": 5})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    edited = answer.get_json()
    assert (edited["name"], edited["dwell_s"], edited["version"]) == ("yard", 5, 2)
    assert edited["geometry"] == POLYGON and edited["updated_at"] >= fence["updated_at"]

    circled = client.patch(f"/api/geofences/{fence['id']}", json={"circle": CIRCLE}).get_json()
    assert circled["circle"] == CIRCLE and circled["geometry"] is None
    assert circled["version"] == 3

    # the margin is checked against the shape it will be used with, the stored one
    problem = problem_of(client.patch(f"/api/geofences/{fence['id']}", json={"margin_m": 400}), 422)
    assert problem["errors"][0]["field"] == "margin_m"
    stale = client.patch(f"/api/geofences/{fence['id']}", json={"version": 2, "name": "late"})
    assert "version 3" in problem_of(stale, 409)["detail"]
    assert client.get(f"/api/geofences/{fence['id']}").get_json() == circled
    problem_of(client.patch("/api/geofences/999999", json={"name": "x"}), 404)


def test_bulk_assignment_by_list_and_by_filter(client, database):
    fence = create(client, circle=CIRCLE)
    url = f"/api/geofences/{fence['id']}/devices"
    by_list = client.post(url, json={"device_ids": ["pack-1", "cart-1", "pack-1"]})
    assert by_list.status_code == 200, by_list.get_data(as_text=True)
    assert by_list.get_json() == {
        "matched": 2, "assigned": 2, "already_assigned": 0, "device_count": 2
    }  # fmt: skip
    by_filter = client.post(url, json={"filter": {"kind": "pack", "model": "M1"}}).get_json()
    assert by_filter == {"matched": 2, "assigned": 1, "already_assigned": 1, "device_count": 3}
    assert assignments(database) == {(fence["id"], d) for d in ("pack-1", "pack-2", "cart-1")}

    unknown = problem_of(client.post(url, json={"device_ids": ["pack-1", "ghost"]}), 422)
    assert unknown["errors"][0]["field"] == "device_ids" and "ghost" in unknown["detail"]
    problem_of(client.post(url, json={"filter": {"model": "none-such"}}), 422)
    problem_of(client.post(url, json={"device_ids": ["pack-3"], "filter": {"kind": "pack"}}), 422)
    problem_of(client.post("/api/geofences/999999/devices", json={"device_ids": ["pack-1"]}), 404)
    assert len(assignments(database)) == 3


def test_a_device_lists_its_fences_and_the_list_filters_by_device(client):
    depot = create(client, geometry=POLYGON)
    city = create(client, name="city", kind="keep_out", circle=CIRCLE)
    create(client, name="elsewhere", geometry=MULTI)
    for fence in (depot, city):
        client.post(f"/api/geofences/{fence['id']}/devices", json={"device_ids": ["pack-1"]})
    mine = client.get("/api/devices/pack-1/geofences").get_json()
    assert [f["id"] for f in mine] == [depot["id"], city["id"]]
    assert client.get("/api/devices/pack-2/geofences").get_json() == []
    problem_of(client.get("/api/devices/ghost/geofences"), 404)
    listed = client.get("/api/geofences?device_id=pack-1&kind=keep_out").get_json()
    assert [f["id"] for f in listed] == [city["id"]]

    gone = client.delete(f"/api/geofences/{depot['id']}/devices/pack-1")
    assert gone.status_code == 204
    problem_of(client.delete(f"/api/geofences/{depot['id']}/devices/pack-1"), 404)
    assert [f["id"] for f in client.get("/api/devices/pack-1/geofences").get_json()] == [city["id"]]


def test_deleting_a_fence_or_a_device_drops_their_assignments(client, database):
    kept = create(client, circle=CIRCLE)
    dropped = create(client, geometry=POLYGON)
    for fence in (kept, dropped):
        body = {"device_ids": ["pack-1", "pack-2"]}
        assert client.post(f"/api/geofences/{fence['id']}/devices", json=body).status_code == 200
    assert client.delete(f"/api/geofences/{dropped['id']}").status_code == 204
    problem_of(client.get(f"/api/geofences/{dropped['id']}"), 404)
    problem_of(client.delete(f"/api/geofences/{dropped['id']}"), 404)
    assert assignments(database) == {(kept["id"], "pack-1"), (kept["id"], "pack-2")}
    assert client.delete("/api/devices/pack-1").status_code == 204
    assert assignments(database) == {(kept["id"], "pack-2")}
    assert client.get(f"/api/geofences/{kept['id']}").get_json()["device_count"] == 1


def test_the_list_is_paginated_and_filtered_by_kind(client):
    ids = [create(client, name=f"f{n}", kind=("keep_in", "keep_out")[n % 2], circle=CIRCLE)["id"]
           for n in range(5)]  # fmt: skip
    first = client.get("/api/geofences?page_size=2")
    assert [f["id"] for f in first.get_json()] == ids[:2]
    pages = json.loads(first.headers["X-Pagination"])
    assert pages["total"] == 5 and pages["total_pages"] == 3
    third = client.get("/api/geofences?page_size=2&page=3").get_json()
    assert [f["id"] for f in third] == ids[4:]
    keep_out = client.get("/api/geofences?kind=keep_out").get_json()
    assert [f["id"] for f in keep_out] == [ids[1], ids[3]]
    problem_of(client.get("/api/geofences?kind=round"), 422)
    problem_of(client.get("/api/geofences?knd=keep_in"), 422)
