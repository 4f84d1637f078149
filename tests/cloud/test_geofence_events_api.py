"""Fence crossings on a real PostgreSQL: newest first, paged, filtered; a deleted fence keeps
its crossings."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.cloud.api_support import add_device, api_client, at, insert, iso, problem_of

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def client(database):
    with psycopg.connect(database, autocommit=True) as conn:
        add_device(conn, "pack-1")
        add_device(conn, "pack-2")
    with api_client(database) as client:
        yield client


def add_fence(database: str, name: str) -> int:
    with psycopg.connect(database, autocommit=True) as conn:
        return conn.execute(
            "INSERT INTO geofence (name, kind, circle_lat, circle_lon, circle_radius_m)"
            " VALUES (%s, 'keep_in', 22.5, 113.9, 500) RETURNING id",
            (name,),
        ).fetchone()[0]


def add_crossing(database: str, device_id: str, fence: int, type_: str, minute: float, **extra):
    """A crossing of a keep-in fence as the worker records it (leaving it is the breach)."""
    with psycopg.connect(database, autocommit=True) as conn:
        name = conn.execute("SELECT name FROM geofence WHERE id = %s", (fence,)).fetchone()[0]
        insert(conn, "geofence_event", device_id=device_id, geofence_id=fence,
               geofence_name=name, type=type_, breach=type_ == "left", time=at(minute),
               received_at=at(minute), lat=22.51, lon=113.9, **extra)  # fmt: skip


def listed(client, query: str = "") -> list[tuple[str, str, str]]:
    answer = client.get(f"/api/geofence-events?{query}")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [(e["device_id"], e["type"], e["time"]) for e in answer.get_json()]


def test_crossings_newest_first_paged_and_filtered(client, database):
    depot = add_fence(database, "depot")
    yard = add_fence(database, "yard")
    action = {"cmd_id": "c-1", "type": "set_discharge", "args": {"on": False}}
    add_crossing(database, "pack-1", depot, "left", 0, action=action)
    add_crossing(database, "pack-1", depot, "reentered", 10)
    add_crossing(database, "pack-2", yard, "left", 5, resent=True)
    add_crossing(database, "pack-2", depot, "left", 20)

    assert listed(client) == [
        ("pack-2", "left", iso(at(20))),
        ("pack-1", "reentered", iso(at(10))),
        ("pack-2", "left", iso(at(5))),
        ("pack-1", "left", iso(at(0))),
    ]
    page = client.get("/api/geofence-events?page_size=3&page=2")
    assert [e["time"] for e in page.get_json()] == [iso(at(0))]
    assert json.loads(page.headers["X-Pagination"])["total"] == 4
    oldest = page.get_json()[0]
    assert oldest | {"id": None, "created_at": None} == {
        "id": None, "device_id": "pack-1", "geofence_id": depot, "geofence_name": "depot",
        "type": "left", "breach": True, "time": iso(at(0)), "received_at": iso(at(0)), "lat": 22.51,
        "lon": 113.9, "resent": False, "action": action, "created_at": None,
    }  # fmt: skip

    assert listed(client, "device_id=pack-1") == [
        ("pack-1", "reentered", iso(at(10))),
        ("pack-1", "left", iso(at(0))),
    ]
    assert [t for _, _, t in listed(client, f"geofence_id={yard}")] == [iso(at(5))]
    assert len(listed(client, "type=left")) == 3
    assert listed(client, "breach=false") == [("pack-1", "reentered", iso(at(10)))]
    assert len(listed(client, "breach=true")) == 3
    assert listed(client, "type=left&device_id=pack-2&geofence_id=" + str(depot)) == [
        ("pack-2", "left", iso(at(20)))
    ]
    window = {"from": iso(at(5)), "to": iso(at(20))}  # `to` excluded
    answer = client.get("/api/geofence-events", query_string=window).get_json()
    assert [e["time"] for e in answer] == [iso(at(10)), iso(at(5))]


def test_a_deleted_fence_keeps_its_crossings(client, database):
    depot = add_fence(database, "depot")
    add_crossing(database, "pack-1", depot, "left", 0)
    assert client.delete(f"/api/geofences/{depot}").status_code == 204
    (event,) = client.get("/api/geofence-events").get_json()
    assert (event["geofence_id"], event["geofence_name"]) == (None, "depot")
    assert client.get(f"/api/geofence-events?geofence_id={depot}").get_json() == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=entered", "type"),
        ("breach=sometimes", "breach"),
        ("geofence_id=fence", "geofence_id"),
        ("geofence_id=0", "geofence_id"),
        ("geofence_id=9223372036854775808", "geofence_id"),
        ("device_id=no%20such", "device_id"),
        ("from=today", "from"),
        (f"from={iso(at(5))}&to={iso(at(5))}", "to"),
        ("kind=left", "kind"),
    ],
)
def test_bad_arguments_are_a_422_naming_them(client, query, field):
    problem = problem_of(client.get(f"/api/geofence-events?{query}"), 422)
    assert [e["field"] for e in problem["errors"]] == [field], problem
