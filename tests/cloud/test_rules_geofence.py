"""Fences on ingest, through the real writer and PostgreSQL: border wandering with GPS noise
raises nothing, a real exit raises one event and one alarm, actions cut and restore through
the command outbox, and a re-sent backlog is recorded but never acts."""

from __future__ import annotations

import math
import random

import psycopg
import pytest
from psycopg.types.json import Jsonb

from cloud.rules.geofence import LocalFrame
from tests.cloud import wire_support as wire
from tests.cloud.rules_support import Rules, alarms, query
from tests.cloud.worker_support import register

pytestmark = pytest.mark.postgres

LAT0, LON0 = 22.54, 113.93
RADIUS_M = 500.0
FRAME = LocalFrame(LAT0, LON0)


def fence(url: str, *devices: str, kind: str = "keep_in", action: dict | None = None,
          dwell_s: int = 60, margin_m: float = 25.0) -> int:  # fmt: skip
    with psycopg.connect(url) as conn:
        (fence_id,) = conn.execute(
            "INSERT INTO geofence (name, kind, circle_lat, circle_lon, circle_radius_m,"
            " margin_m, dwell_s, action) VALUES ('depot', %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id",
            (kind, LAT0, LON0, RADIUS_M, margin_m, dwell_s, Jsonb(action) if action else None),
        ).fetchone()
        for device_id in devices:
            conn.execute("INSERT INTO geofence_assignment (geofence_id, device_id) VALUES (%s, %s)",
                         (fence_id, device_id))  # fmt: skip
    return fence_id


def at(distance_m: float, bearing_deg: float = 0.0) -> tuple[float, float]:
    """(lat, lon) ``distance_m`` from the fence centre towards ``bearing_deg``."""
    b = math.radians(bearing_deg)
    north, east = distance_m * math.cos(b), distance_m * math.sin(b)
    return LAT0 + north / FRAME.m_per_deg_lat, LON0 + east / FRAME.m_per_deg_lon


def track(start_seq: int, start_ms: int, distances: list[float], *, resent: bool = False,
          bearing: float = 0.0, step_ms: int = 1000):  # fmt: skip
    out = []
    for n, d in enumerate(distances):
        lat, lon = at(d, bearing)
        out.append(wire.position(start_seq + n, start_ms + n * step_ms, lat=lat, lon=lon,
                                 resent=resent))  # fmt: skip
    return out


def crossings(url: str, device_id: str):
    return query(url, "SELECT type, breach, resent, action IS NOT NULL FROM geofence_event"
                      " WHERE device_id = %s ORDER BY time, id", device_id)  # fmt: skip


def rule_commands(url: str, device_id: str):
    return query(url, "SELECT args->>'on', issued_by FROM command WHERE device_id = %s"
                      " ORDER BY created_at", device_id)  # fmt: skip


def write_in_batches(rules: Rules, device_id: str, samples: list, size: int = 30) -> None:
    for i in range(0, len(samples), size):
        rules.samples(device_id, *samples[i : i + size])


def border_walk(start_ms: int) -> list:
    """An hour along the border at 1 Hz: the track drifts up to 15 m either side of it and
    every fix has 5 m of GPS noise (1 sigma), every 5 minutes a 20 m outlier."""
    rng = random.Random(7)
    samples = []
    drift = 0.0
    for n in range(3600):
        drift = max(-15.0, min(15.0, drift + rng.gauss(0, 1.0)))
        noise = rng.gauss(0, 5.0) if n % 300 else rng.choice((-20.0, 20.0))
        lat, lon = at(RADIUS_M + drift + noise, n * 0.1)
        samples.append(wire.position(n, start_ms + n * 1000, lat=lat, lon=lon))
    return samples


@pytest.mark.slow
def test_wandering_along_the_border_with_gps_noise_raises_nothing(database):
    register(database, "p1")
    fence(database, "p1")  # 25 m margin, 60 s dwell
    rules = Rules(database)
    write_in_batches(rules, "p1", border_walk(wire.now_ms() - 3_600_000), size=200)
    assert crossings(database, "p1") == []
    assert alarms(database, "p1") == {}


@pytest.mark.slow
def test_the_same_walk_without_margin_and_dwell_would_flap(database):
    register(database, "p1")
    fence(database, "p1", margin_m=0, dwell_s=0)
    rules = Rules(database)
    write_in_batches(rules, "p1", border_walk(wire.now_ms() - 3_600_000), size=200)
    assert len(crossings(database, "p1")) > 100


def test_leaving_and_coming_back_is_one_event_each_and_one_alarm(database):
    register(database, "p1")
    fence_id = fence(database, "p1")
    rules = Rules(database)
    t = wire.now_ms() - 3_600_000
    out = [100.0] * 10 + [RADIUS_M + 100] * 120 + [100.0] * 120
    write_in_batches(rules, "p1", track(0, t, out))
    assert crossings(database, "p1") == [("left", True, False, False),
                                         ("reentered", False, False, False)]  # fmt: skip
    times = query(database, "SELECT time FROM geofence_event ORDER BY time")
    # confirmed after the 60 s dwell beyond the margin, each way
    assert [r[0] for r in times] == [wire.utc(t + 70_000), wire.utc(t + 190_000)]
    assert alarms(database, "p1") == {("outside_geofence", str(fence_id)): ("resolved", False, 1)}


def test_a_keep_out_fence_is_broken_by_going_in(database):
    register(database, "p1")
    fence(database, "p1", kind="keep_out", dwell_s=10)
    rules = Rules(database)
    t = wire.now_ms() - 3_600_000
    write_in_batches(rules, "p1", track(0, t, [RADIUS_M + 300] * 20 + [50.0] * 20))
    assert crossings(database, "p1") == [("reentered", True, False, False)]
    assert [k for k, v in alarms(database, "p1").items() if v[0] == "open"] == [
        ("outside_geofence", query(database, "SELECT id::text FROM geofence")[0][0])
    ]


def test_the_action_cuts_after_its_time_outside_and_restores_on_return(database):
    register(database, "p1")
    fence_id = fence(database, "p1", dwell_s=30,
                     action={"cut_discharge_after_s": 120, "restore_on_return": True})  # fmt: skip
    rules = Rules(database)
    t = wire.now_ms() - 400_000  # live: the newest samples are about now
    out = [100.0] * 10 + [RADIUS_M + 100] * 200 + [100.0] * 60
    write_in_batches(rules, "p1", track(0, t, out))
    assert rule_commands(database, "p1") == [
        ("false", f"rule:geofence:{fence_id}"),
        ("true", f"rule:geofence:{fence_id}"),
    ]
    cut_at = query(database, "SELECT created_at FROM command ORDER BY created_at LIMIT 1")
    assert cut_at  # the cut is a queued command like any other: the dispatcher sends it
    assert query(database, "SELECT state, type FROM command ORDER BY created_at") == [
        ("queued", "set_discharge"), ("queued", "set_discharge")]  # fmt: skip
    assert crossings(database, "p1") == [("left", True, False, False),
                                         ("reentered", False, False, True)]  # fmt: skip


def test_a_resent_backlog_is_recorded_but_never_acts(database):
    register(database, "p1")
    fence(database, "p1", dwell_s=30, action={"cut_discharge_after_s": 60})
    rules = Rules(database)
    t = wire.now_ms() - 300_000  # recent, but re-sent from the device's backlog
    out = [100.0] * 10 + [RADIUS_M + 100] * 200
    write_in_batches(rules, "p1", track(0, t, out, resent=True))
    assert crossings(database, "p1") == [("left", True, True, False)]
    assert rule_commands(database, "p1") == []
    (resent,) = query(database, "SELECT resent FROM alarm")[0]
    assert resent is True
    # the first live sample still outside acts: the pack is outside now
    rules.samples("p1", *track(500, wire.now_ms(), [RADIUS_M + 100]))
    assert [c[0] for c in rule_commands(database, "p1")] == ["false"]


def test_a_fence_edit_reaches_the_running_engine(database):
    register(database, "p1")
    fence_id = fence(database, "p1", dwell_s=0)
    rules = Rules(database)
    t = wire.now_ms() - 3_600_000
    rules.samples("p1", *track(0, t, [RADIUS_M + 100] * 3))
    assert len(crossings(database, "p1")) == 1
    with psycopg.connect(database) as conn:  # grow the fence: the device is inside again
        conn.execute("UPDATE geofence SET circle_radius_m = 2000, version = version + 1"
                     " WHERE id = %s", (fence_id,))  # fmt: skip
    rules.samples("p1", *track(10, t + 10_000, [RADIUS_M + 100] * 3))
    assert [c[0] for c in crossings(database, "p1")] == ["left", "reentered"]


def test_deleting_a_fence_resolves_its_alarm_and_forgets_its_machines(database):
    register(database, "p1")
    fence_id = fence(database, "p1", dwell_s=0)
    rules = Rules(database)
    rules.samples("p1", *track(0, wire.now_ms() - 60_000, [RADIUS_M + 100] * 3))
    assert alarms(database, "p1") == {("outside_geofence", str(fence_id)): ("open", True, 1)}
    with psycopg.connect(database) as conn:
        conn.execute("DELETE FROM geofence WHERE id = %s", (fence_id,))
    assert alarms(database, "p1") == {("outside_geofence", str(fence_id)): ("resolved", False, 1)}
    assert query(database, "SELECT count(*) FROM rule_state") == [(0,)]
    assert query(database, "SELECT event, by FROM alarm_event ORDER BY id") == [
        ("raised", None), ("resolved", "auto")]  # fmt: skip
    # the crossing stays in the history, with the fence's name
    assert query(database, "SELECT geofence_id, geofence_name FROM geofence_event") == [
        (None, "depot")]  # fmt: skip
