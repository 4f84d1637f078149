"""``GET /api/live/devices``: the snapshot behind the console's map, in the caller's scope;
and what the live streams refuse before they start."""

from __future__ import annotations

import psycopg
import pytest

from tests.cloud.api_support import problem_of
from tests.cloud.live_support import WAIT_S
from tests.cloud.tenancy_support import make_tenancy

pytestmark = pytest.mark.postgres

COLUMNS = [
    "id", "kind", "model", "operator_id", "store_id", "lat", "lon", "soc_percent",
    "pack_voltage_v", "current_a", "speed_kmh", "online", "last_seen_at", "discharge_mos",
    "charge_mos", "alarm_severity", "lease",
]  # fmt: skip
assert WAIT_S  # the streams' own tests are in test_live_stream.py


@pytest.fixture
def tenancy(database):
    return make_tenancy(database)


def _alarm(conn: psycopg.Connection, device_id: str, kind: str, severity: str, state: str):
    conn.execute(
        "INSERT INTO alarm (device_id, type, severity, state, first_at, latest_at, message)"
        " VALUES (%s, %s, %s, %s, now(), now(), 'test')",
        (device_id, kind, severity, state),
    )


def _lease(conn: psycopg.Connection, device_id: str, leased: bool, until: str | None):
    conn.execute(
        "INSERT INTO lease_term (device_id, leased, leased_until, cutoff_when_not_leased)"
        " VALUES (%s, %s, now() + %s::interval, false)",
        (device_id, leased, until),
    )


def _snapshot(tenancy, who: str) -> dict[str, dict]:
    with tenancy.client(who) as client:
        response = client.get("/api/live/devices")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["columns"] == COLUMNS and body["cursor"]
    return {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in body["rows"]}


def test_each_caller_gets_the_devices_of_its_scope(tenancy):
    assert sorted(_snapshot(tenancy, "root")) == ["a-1", "a-2", "a1-1", "b-1", "p-1"]
    assert sorted(_snapshot(tenancy, "a")) == ["a-1", "a-2", "a1-1"]
    assert sorted(_snapshot(tenancy, "a1")) == ["a1-1"]  # a sub-operator: its own
    assert sorted(_snapshot(tenancy, "shop")) == ["a-1"]  # a store's account: its store


def test_a_row_carries_state_alarm_severity_and_lease(tenancy):
    with psycopg.connect(tenancy.database, autocommit=True) as conn:
        conn.execute(
            "UPDATE device_state SET lat = 47.5, lon = 8.25, soc_percent = 81.3, online = true,"
            " pack_voltage_v = 52.1, discharge_mos = true, charge_mos = false,"
            " last_seen_at = '2026-11-23T14:05:00.123Z' WHERE device_id = 'a-1'"
        )
        _alarm(conn, "a-1", "low_soc", "warning", "open")
        _alarm(conn, "a-1", "cell_overvoltage", "critical", "open")
        _alarm(conn, "a-2", "overtemperature", "critical", "resolved")
        _alarm(conn, "a-2", "low_soc", "info", "open")
        _lease(conn, "a-1", True, "1 day")
        _lease(conn, "a-2", True, "-1 minute")
        _lease(conn, "a1-1", False, None)
    rows = _snapshot(tenancy, "a")
    a1 = rows["a-1"]
    assert a1 == {
        "id": "a-1", "kind": "pack", "model": "M1", "operator_id": tenancy.operators["a"],
        "store_id": tenancy.shop, "lat": 47.5, "lon": 8.25, "soc_percent": 81.3,
        "pack_voltage_v": 52.1, "current_a": None, "speed_kmh": None, "online": True,
        "last_seen_at": "2026-11-23T14:05:00.123Z", "discharge_mos": True,
        "charge_mos": False, "alarm_severity": "critical", "lease": "leased",
    }  # fmt: skip
    assert (rows["a-2"]["alarm_severity"], rows["a-2"]["lease"]) == ("info", "expired")
    assert (rows["a1-1"]["alarm_severity"], rows["a1-1"]["lease"]) == (None, "none")
    assert rows["a-2"]["online"] is False and rows["a-2"]["lat"] is None


def test_a_caller_without_device_read_is_refused(tenancy):
    with tenancy.client("blind") as client:
        problem_of(client.get("/api/live/devices"), 403)
        problem_of(client.get("/api/live/stream"), 403)


@pytest.mark.parametrize("path", ["/api/live/stream", "/api/devices/a-1/live"])
def test_a_stream_needs_a_signed_in_caller(tenancy, path):
    with tenancy.client(None) as client:
        problem_of(client.get(path), 401)


@pytest.mark.parametrize("path", ["/api/live/stream", "/api/devices/a-1/live"])
@pytest.mark.parametrize(
    ("query", "field"), [("cursor=nonsense", "cursor"), ("cursor=", "cursor"), ("since=1", "since")]
)
def test_a_malformed_query_is_a_422_naming_the_field(tenancy, path, query, field):
    with tenancy.client("a") as client:
        problem = problem_of(client.get(f"{path}?{query}"), 422)
    assert [e["field"] for e in problem["errors"]] == [field]
