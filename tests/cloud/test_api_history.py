"""History endpoints: ranges, raw rows, buckets checked against hand-computed values, on
each store layout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import psycopg
import pytest

from tests.cloud.api_support import (
    add_device,
    at,
    insert_bms,
    insert_event,
    insert_position,
    insert_vehicle,
    iso,
    problem_of,
)
from tests.cloud.tenancy_support import DEVICES, WALLS, make_tenancy
from tests.store_layouts import partitioned_only

pytestmark = pytest.mark.postgres

RANGE = {"from": iso(at(0)), "to": iso(at(60))}


@pytest.fixture
def database(layout_database):
    """Each test's database, of each store layout (tests/store_layouts.py): the queries that
    read the time series run on both, the checks of arguments on the plain one."""
    return layout_database


@pytest.fixture
def db(database):
    with psycopg.connect(database, autocommit=True) as conn:
        add_device(conn, "pack-1")
        add_device(conn, "pack-2")
        yield conn


def get(client, path: str, **args) -> dict:
    response = client.get(f"{path}?{urlencode(args)}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _seven_bms_samples(db) -> None:
    # minute n: voltage 50+n, current n-2, SOC 90-n, cells 3.5+n/10 and 3.9, temperatures 20+n
    for n in range(7):
        insert_bms(
            db,
            "pack-1",
            at(n),
            seq=n,
            pack_voltage_v=50 + n,
            current_a=n - 2,
            soc_percent=90 - n,
            cell_voltages_v=[3.5 + n / 10, 3.9],
            temperatures_c=[20.0, 20.0 + n],
        )
    insert_bms(db, "pack-2", at(1), seq=1, pack_voltage_v=99)  # never in pack-1's answers


def test_bms_raw_rows_in_time_order(client, db):
    _seven_bms_samples(db)
    body = get(client, "/api/devices/pack-1/bms", **RANGE)
    assert (body["from"], body["to"], body["bucket_s"], body["truncated"]) == (
        RANGE["from"],
        RANGE["to"],
        None,
        False,
    )
    assert [row["seq"] for row in body["rows"]] == list(range(7))
    assert body["rows"][2] == {
        "time": iso(at(2)),
        "seq": 2,
        "received_at": iso(at(2)),
        "pack_voltage_v": 52.0,
        "current_a": 0.0,
        "soc_percent": 88.0,
        "cell_voltages_v": [3.7, 3.9],
        "temperatures_c": [20.0, 22.0],
        "cell_min_v": 3.7,
        "cell_max_v": 3.9,
        "temperature_min_c": 20.0,
        "temperature_max_c": 22.0,
        "charge_mos": True,
        "discharge_mos": True,
        "remaining_ah": None,
        "full_capacity_ah": None,
        "cycles": None,
        "protection": [],
        "balancing": [],
        "resent": False,
    }


def test_bms_range_is_from_inclusive_to_exclusive_and_limit_truncates(client, db):
    _seven_bms_samples(db)
    body = get(client, "/api/devices/pack-1/bms", **{"from": iso(at(1)), "to": iso(at(6))})
    assert [row["seq"] for row in body["rows"]] == [1, 2, 3, 4, 5]
    body = get(client, "/api/devices/pack-1/bms", limit=3, **RANGE)
    assert ([row["seq"] for row in body["rows"]], body["truncated"], body["limit"]) == (
        [0, 1, 2],
        True,
        3,
    )
    assert get(client, "/api/devices/pack-1/bms", limit=7, **RANGE)["truncated"] is False


def test_bms_buckets_min_avg_max(client, db):
    _seven_bms_samples(db)
    body = get(client, "/api/devices/pack-1/bms", bucket="5m", **RANGE)
    assert body["bucket_s"] == 300 and "rows" not in body
    first, second = body["buckets"]
    # minutes 0-4 in the first bucket, 5-6 in the second
    assert (first["time"], first["samples"]) == (iso(at(0)), 5)
    assert (second["time"], second["samples"]) == (iso(at(5)), 2)
    expected_first = {
        "pack_voltage_v": (50, 52, 54),
        "current_a": (-2, 0, 2),
        "soc_percent": (86, 88, 90),
        "cell_min_v": (3.5, 3.7, 3.9),
        "cell_max_v": (3.9, 3.9, 3.9),
        "temperature_max_c": (20, 22, 24),
    }
    for quantity, (low, mean, high) in expected_first.items():
        stats = first[quantity]
        assert (stats["min"], stats["avg"], stats["max"]) == pytest.approx(
            (low, mean, high), abs=1e-5
        ), quantity
    assert second["pack_voltage_v"] == {"min": 55.0, "avg": 55.5, "max": 56.0}
    assert second["current_a"] == {"min": 3.0, "avg": 3.5, "max": 4.0}


@partitioned_only
def test_bucket_spellings_and_epoch_alignment(client, db):
    _seven_bms_samples(db)
    for spelling in ("120", "120s", "2m"):
        body = get(client, "/api/devices/pack-1/bms", bucket=spelling, **RANGE)
        assert [b["samples"] for b in body["buckets"]] == [2, 2, 2, 1], spelling
    day = get(client, "/api/devices/pack-1/bms", bucket="1d", **RANGE)["buckets"]
    midnight = at(0).replace(hour=0)
    assert [(b["time"], b["samples"]) for b in day] == [(iso(midnight), 7)]
    hours = get(client, "/api/devices/pack-1/bms", bucket="1h", limit=1, **RANGE)
    assert hours["truncated"] is False and len(hours["buckets"]) == 1


def test_positions_valid_only_and_last_per_bucket(client, db):
    for n in range(10):
        insert_position(db, "pack-1", at(n), seq=n, lat=22.0 + n / 100, valid=n != 4)
    body = get(client, "/api/devices/pack-1/positions", **RANGE)
    assert [row["seq"] for row in body["rows"]] == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    assert body["rows"][1] == {
        "time": iso(at(1)),
        "seq": 1,
        "lat": 22.01,
        "lon": 113.9,
        "speed_kmh": 10.0,
        "course_deg": 90.0,
        "valid": True,
    }
    everything = get(client, "/api/devices/pack-1/positions", valid_only="false", **RANGE)
    assert len(everything["rows"]) == 10
    thinned = get(client, "/api/devices/pack-1/positions", bucket="5m", **RANGE)["buckets"]
    assert [row["seq"] for row in thinned] == [3, 9]  # minute 4 is invalid
    thinned = get(
        client, "/api/devices/pack-1/positions", bucket="5m", valid_only="false", **RANGE
    )["buckets"]
    assert [(row["seq"], row["time"]) for row in thinned] == [(4, iso(at(4))), (9, iso(at(9)))]


def _vehicle_samples(db) -> None:
    for n in range(6):
        signals = {"speed_kmh": 10 * n, "brake": n % 2 == 0, "gear": "D"}
        if n != 2:
            signals["motor_rpm"] = 1000 + 100 * n
        insert_vehicle(db, "pack-1", at(n), seq=n, signals=signals)
    insert_vehicle(db, "pack-1", at(12), seq=12, signals={"gear": "N"})


def test_can_raw_and_selected_signals(client, db):
    _vehicle_samples(db)
    rows = get(client, "/api/devices/pack-1/can", **RANGE)["rows"]
    assert len(rows) == 7
    assert rows[0] == {
        "time": iso(at(0)),
        "seq": 0,
        "signals": {"speed_kmh": 0, "brake": True, "gear": "D", "motor_rpm": 1000},
    }
    rows = get(client, "/api/devices/pack-1/can", signals="motor_rpm,nothing", **RANGE)["rows"]
    assert [(row["seq"], row["signals"]) for row in rows] == [
        (n, {"motor_rpm": 1000 + 100 * n}) for n in (0, 1, 3, 4, 5)
    ]


def test_can_buckets_per_numeric_signal(client, db):
    _vehicle_samples(db)
    buckets = get(client, "/api/devices/pack-1/can", bucket="5m", **RANGE)["buckets"]
    assert buckets == [
        {
            "time": iso(at(0)),
            "samples": 5,
            "signals": {
                "motor_rpm": {"min": 1000, "avg": 1200, "max": 1400, "count": 4},
                "speed_kmh": {"min": 0, "avg": 20, "max": 40, "count": 5},
            },
        },
        {
            "time": iso(at(5)),
            "samples": 1,
            "signals": {
                "motor_rpm": {"min": 1500, "avg": 1500, "max": 1500, "count": 1},
                "speed_kmh": {"min": 50, "avg": 50, "max": 50, "count": 1},
            },
        },
        {"time": iso(at(10)), "samples": 1, "signals": {}},  # no numeric signal in it
    ]
    chosen = get(client, "/api/devices/pack-1/can", bucket="1h", signals="speed_kmh", **RANGE)
    assert chosen["buckets"] == [
        {
            "time": iso(at(0)),
            "samples": 6,
            "signals": {"speed_kmh": {"min": 0, "avg": 25, "max": 50, "count": 6}},
        }
    ]


@partitioned_only
def test_events_filtered_by_type(client, db):
    insert_event(db, "pack-1", at(1), 1, "boot", severity="info", detail={"version": "1.2"})
    insert_event(db, "pack-1", at(2), 2, "protection_trip", severity="critical")
    insert_event(db, "pack-1", at(3), 3, "boot")
    rows = get(client, "/api/devices/pack-1/events", **RANGE)["rows"]
    assert [row["type"] for row in rows] == ["boot", "protection_trip", "boot"]
    assert rows[0] == {
        "time": iso(at(1)),
        "seq": 1,
        "received_at": iso(at(1)),
        "type": "boot",
        "severity": "info",
        "detail": {"version": "1.2"},
        "resent": False,
    }
    rows = get(client, "/api/devices/pack-1/events", type="boot", **RANGE)["rows"]
    assert [row["seq"] for row in rows] == [1, 3]


@partitioned_only
def test_default_range_is_the_last_hour(client, db):
    now = datetime.now(UTC)
    for seq, moment in enumerate([now - timedelta(hours=2), now - timedelta(minutes=10)]):
        insert_bms(db, "pack-1", moment, seq=seq)
    insert_bms(db, "pack-1", now + timedelta(minutes=10), seq=9)  # ahead of the clock
    body = get(client, "/api/devices/pack-1/bms")
    assert [row["seq"] for row in body["rows"]] == [1]
    start, end = (datetime.fromisoformat(body[k]) for k in ("from", "to"))
    assert end - start == timedelta(hours=1)
    only_to = get(client, "/api/devices/pack-1/bms", to=iso(now - timedelta(minutes=90)))
    assert [row["seq"] for row in only_to["rows"]] == [0]


@partitioned_only
def test_times_are_utc_with_milliseconds(client, db):
    moment = at(0).replace(microsecond=123456)
    insert_bms(db, "pack-1", moment, seq=1)
    offset = iso(at(0)).replace("Z", "+08:00")  # 01:00+08:00 is 17:00 UTC the day before
    body = get(client, "/api/devices/pack-1/bms", **{"from": offset, "to": RANGE["to"]})
    assert body["from"] == iso(at(-8 * 60))
    assert body["rows"][0]["time"] == iso(at(0)).replace(".000Z", ".123Z")


@partitioned_only
@pytest.mark.parametrize(
    ("path", "args", "field", "reason"),
    [
        ("bms", {"from": iso(at(5)), "to": iso(at(5))}, "to", "Must be later than `from`."),
        ("bms", {"from": iso(at(5)), "to": iso(at(1))}, "to", "Must be later than `from`."),
        ("bms", {"from": "yesterday"}, "from", "Not a valid datetime."),
        ("bms", {"from": "2026-01-01T00:00:00"}, "from", "Not a valid aware datetime."),
        ("bms", {"bucket": "5x"}, "bucket", "Not a valid interval"),
        ("bms", {"bucket": "0"}, "bucket", "Must be between"),
        ("bms", {"limit": "100001"}, "limit", "Must be greater than or equal to 1"),
        ("positions", {"valid_only": "perhaps"}, "valid_only", "Not a valid boolean: use true"),
        ("events", {"bucket": "5m"}, "bucket", "Unknown field."),
        ("can", {"signal": "rpm"}, "signal", "Unknown field."),
    ],
)
def test_bad_arguments_are_422_naming_the_field(client, db, path, args, field, reason):
    response = client.get(f"/api/devices/pack-1/{path}?{urlencode(args)}")
    problem = problem_of(response, 422)
    assert [(e["field"], e["in"]) for e in problem["errors"]] == [(field, "query")]
    assert problem["errors"][0]["reason"].startswith(reason)


@partitioned_only
def test_history_of_a_missing_device_is_404(client, db):
    for path in ("bms", "positions", "can", "events"):
        assert "nope" in problem_of(client.get(f"/api/devices/nope/{path}"), 404)["detail"], path


@partitioned_only
def test_history_needs_a_bearer_and_device_read(database):
    tenants = make_tenancy(database)
    for path in ("bms", "positions", "can", "events"):
        with tenants.client(None) as client:
            problem_of(client.get(f"/api/devices/a-2/{path}"), 401)
        with tenants.client("blind") as client:
            refused = problem_of(client.get(f"/api/devices/a-2/{path}"), 403)
            assert "device.read" in refused["detail"]


@pytest.mark.slow
@pytest.mark.parametrize("role", WALLS)
def test_history_shows_only_the_callers_devices(database, role):
    tenants = make_tenancy(database)
    with psycopg.connect(database, autocommit=True) as conn:
        for n, device_id in enumerate(DEVICES):
            insert_bms(conn, device_id, at(1), seq=n)
            insert_position(conn, device_id, at(1), seq=n)
            insert_vehicle(conn, device_id, at(1), seq=n, signals={"speed_kmh": 10})
            insert_event(conn, device_id, at(1), seq=n, type="boot")
    visible = {
        "a": {"a-1", "a-2", "a1-1"},
        "a1": {"a1-1"},
        "shop": {"a-1"},
        "b": {"b-1"},
        "root": set(DEVICES),
    }
    for who, mine in visible.items():
        with tenants.client(who, role=role) as client:
            for device_id in DEVICES:
                for path in ("bms", "positions", "can", "events"):
                    answer = client.get(f"/api/devices/{device_id}/{path}?{urlencode(RANGE)}")
                    if device_id in mine:
                        assert answer.status_code == 200, (who, device_id, path)
                        assert len(answer.get_json()["rows"]) == 1
                    else:
                        detail = problem_of(answer, 404)["detail"]
                        assert detail == f"no device {device_id!r}", (who, device_id, path)
