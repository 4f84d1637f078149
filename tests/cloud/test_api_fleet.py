"""Fleet summary, dead letters and health, against a real PostgreSQL."""

from __future__ import annotations

import base64
import json
import zlib

import psycopg
import pytest

from tests.cloud.api_support import (
    add_device,
    at,
    iso,
    offline_api_client,
    problem_of,
    set_state,
)
from tests.cloud.tenancy_support import DEVICES, WALLS, make_tenancy

pytestmark = pytest.mark.postgres


def _dead_letter(db, payload: bytes, *, device_id=None, reason="schema", hours_ago=0.0, size=None):
    db.execute(
        """INSERT INTO dead_letter (received_at, topic, device_id, reason, payload, payload_bytes)
           VALUES (now() - make_interval(secs => %s), %s, %s, %s, %s, %s)""",
        (
            hours_ago * 3600,
            f"vr/v1/{device_id or 'x'}/up/telemetry",
            device_id,
            reason,
            payload,
            size or len(payload),
        ),
    )


def test_fleet_summary_counts(client, db):
    fleet = {
        # id: kind, online, seen, current, SOC, discharge MOS
        "p1": ("pack", True, True, 2.0, 85.0, True),
        "p2": ("pack", False, True, -3.0, 15.0, False),
        "v1": ("vehicle", True, True, 0.2, 50.0, True),
        "v2": ("vehicle", False, True, -0.5, 20.0, False),
    }
    for device_id, (kind, online, seen, current, soc, mos) in fleet.items():
        add_device(db, device_id, kind=kind)
        set_state(
            db,
            device_id,
            online=online,
            last_seen_at=at(0) if seen else None,
            current_a=current,
            soc_percent=soc,
            discharge_mos=mos,
        )
    add_device(db, "p3")  # registered, never heard from
    for ghost in ("g1", "g2"):
        db.execute(
            "INSERT INTO unknown_device VALUES (%s, now(), now(), 1, 'vr/v1/g/up/status')", (ghost,)
        )
    _dead_letter(db, b"{}")
    _dead_letter(db, b"{}", hours_ago=23)
    _dead_letter(db, b"{}", hours_ago=25)  # too old to count
    response = client.get("/api/fleet/summary")
    assert response.status_code == 200
    assert response.get_json() == {
        "total": 5,
        "online": 2,
        "offline": 2,
        "never_seen": 1,
        "by_kind": {"pack": 3, "vehicle": 2},
        "by_state": {"charging": 1, "discharging": 1, "idle": 2, "no_bms_data": 1},
        "discharge_mos_off": 2,
        "soc_bands": {"<20": 1, "20-50": 1, "50-80": 1, ">=80": 1},
        "unknown_devices": 2,
        "dead_letters_24h": 2,
    }


def test_fleet_summary_of_an_empty_store(client):
    summary = client.get("/api/fleet/summary").get_json()
    assert summary["total"] == 0 and summary["soc_bands"] == {
        "<20": 0,
        "20-50": 0,
        "50-80": 0,
        ">=80": 0,
    }


def test_dead_letters_newest_first_with_payloads(client, db):
    text = b'{"seq": "not a number"}'
    packed = zlib.compress(b"x" * 100)
    _dead_letter(db, text, device_id="pack-1", reason="schema: seq is not an integer", hours_ago=2)
    _dead_letter(db, packed, device_id="pack-2", reason="unknown device", hours_ago=1, size=70_000)
    response = client.get("/api/dead-letters")
    assert response.status_code == 200
    newest, oldest = response.get_json()
    assert (newest["device_id"], oldest["device_id"]) == ("pack-2", "pack-1")
    assert oldest["payload_preview"] == text.decode()
    assert base64.b64decode(oldest["payload_base64"]) == text
    assert (oldest["payload_bytes"], oldest["truncated"]) == (len(text), False)
    assert oldest["topic"] == "vr/v1/pack-1/up/telemetry"
    assert oldest["reason"] == "schema: seq is not an integer"
    assert oldest["received_at"].endswith("Z")
    assert newest["payload_preview"] is None  # zlib bytes are not text
    assert base64.b64decode(newest["payload_base64"]) == packed
    assert newest["truncated"] is True


def test_dead_letter_filters_and_pages(client, db):
    for n in range(5):
        _dead_letter(db, b"{}", device_id=f"pack-{n % 2}", reason=f"Schema {n}", hours_ago=n)

    def ids(**args):
        response = client.get("/api/dead-letters", query_string=args)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [d["reason"] for d in response.get_json()]

    assert ids(device_id="pack-1") == ["Schema 1", "Schema 3"]
    assert ids(reason="schema 2") == ["Schema 2"]
    since = db.execute("SELECT now() - interval '150 minutes'").fetchone()[0]
    assert ids(since=iso(since)) == ["Schema 0", "Schema 1", "Schema 2"]
    assert ids(page=2, page_size=2) == ["Schema 2", "Schema 3"]
    meta = json.loads(client.get("/api/dead-letters?page_size=2").headers["X-Pagination"])
    assert (meta["total"], meta["total_pages"], meta["next_page"]) == (5, 3, 2)
    problem = problem_of(client.get("/api/dead-letters?since=today"), 422)
    assert problem["errors"][0]["field"] == "since"


def test_health_ok(client):
    response = client.get("/api/health")
    assert (response.status_code, response.get_json()) == (200, {"database": "ok"})


def test_health_is_a_503_problem_when_the_database_is_down():
    with offline_api_client() as client:
        problem = problem_of(client.get("/api/health"), 503)
        assert "database" in problem["detail"]
        # every endpoint that needs the store, from checking the caller's bearer on
        client.environ_base["HTTP_AUTHORIZATION"] = "Bearer vrt_unchecked"
        problem_of(client.get("/api/fleet/summary"), 503)


def test_fleet_summary_and_dead_letters_need_a_bearer_health_does_not(database):
    tenants = make_tenancy(database)
    with tenants.client(None) as client:
        problem_of(client.get("/api/fleet/summary"), 401)
        problem_of(client.get("/api/dead-letters"), 401)
        assert client.get("/api/health").get_json() == {"database": "ok"}
    with tenants.client("blind") as client:
        assert "device.read" in problem_of(client.get("/api/fleet/summary"), 403)["detail"]
    with tenants.client("a") as client:  # an operator's administrator is no platform
        assert "platform.dead_letters" in problem_of(client.get("/api/dead-letters"), 403)["detail"]


@pytest.mark.parametrize("role", WALLS)
def test_fleet_summary_counts_only_the_callers_subtree_or_store(database, role):
    tenants = make_tenancy(database)
    with psycopg.connect(database, autocommit=True) as conn:
        for device_id in DEVICES:
            set_state(conn, device_id, online=True, last_seen_at=at(0), soc_percent=90.0)
        conn.execute("INSERT INTO unknown_device VALUES ('g1', now(), now(), 1, 'vr/v1/g1/up')")
        _dead_letter(conn, b"{}")
    expected = {"a": 3, "a1": 1, "shop": 1, "b": 1, "root": 5}
    for who, total in expected.items():
        with tenants.client(who, role=role) as client:
            summary = client.get("/api/fleet/summary").get_json()
        assert (summary["total"], summary["online"], summary["soc_bands"][">=80"]) == (
            total,
            total,
            total,
        ), who
        platform = (1, 1) if who == "root" else (None, None)
        assert (summary["unknown_devices"], summary["dead_letters_24h"]) == platform, who
