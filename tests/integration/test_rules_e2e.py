"""Rules end to end: faults injected into the simulated pack (on a pty, read by a real edge
agent, published through Mosquitto, stored and evaluated by a real worker process) raise
exactly the alarms they should, a repeat counts on the open alarm, and a vehicle riding out of
its fence raises one crossing and one alarm."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.cloud.worker_support import WorkerProcess, register
from tests.integration.control_support import PARKED, RIDING, control_rig
from tests.integration.edge_support import unique_device_id, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.slow]

START = datetime(2000, 1, 1, tzinfo=UTC)


def open_alarms(url: str, device_id: str) -> dict[tuple[str, str], tuple[bool, int]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT type, subject, active, count FROM alarm WHERE device_id = %s"
            " AND state = 'open'",
            (device_id,),
        ).fetchall()
    return {(t, s): (active, count) for t, s, active, count in rows}


# two of the agent's report intervals (Timing: 0.5 s): every reading taken before a
# moment has been sent, stored and evaluated once one taken this long after it is stored
LATER = timedelta(seconds=1.0)


def stored_since(url: str, device_id: str, table: str, moment: datetime) -> int:
    """How many of the device's readings in ``table`` taken after ``moment`` are stored
    (the rules evaluate a batch in the transaction that stores it)."""
    with psycopg.connect(url) as conn:
        query = f"SELECT count(*) FROM {table} WHERE device_id = %s AND time > %s"
        return conn.execute(query, (device_id, moment)).fetchone()[0]


async def later_readings(url: str, device_id: str, table: str = "bms_sample") -> None:
    """Wait until a reading taken well after now is stored, and so has been evaluated
    with every one taken before it."""
    moment = datetime.now(UTC) + LATER
    await wait_until(
        lambda: stored_since(url, device_id, table, moment) > 0,
        f"a {table} row taken after {moment:%H:%M:%S.%f}", timeout=60, every=0.1,
    )  # fmt: skip


async def settle(url: str, device_id: str, expected: dict, what: str) -> None:
    """Wait until the open alarms are ``expected``, then make sure they stay so once the
    readings in flight, and those after them, are evaluated too (nothing else turns up
    a few batches later)."""
    await wait_until(lambda: open_alarms(url, device_id) == expected, what, timeout=60, every=0.2)
    await later_readings(url, device_id)
    assert open_alarms(url, device_id) == expected, what


def test_injected_pack_faults_raise_exactly_their_alarms(database, broker, tmp_path):
    device_id = unique_device_id("rules")
    register(database, device_id)
    worker = WorkerProcess(database, broker.url, tmp_path / "worker.log").start()
    try:
        worker.wait_subscribed()

        async def scenario() -> None:
            async with control_rig(broker.url, tmp_path, PARKED, device_id=device_id) as rig:
                pack = rig.device.pack
                # healthy telemetry first: some readings stored and evaluated
                await wait_until(
                    lambda: stored_since(database, device_id, "bms_sample", START) >= 5,
                    "5 healthy readings stored", timeout=60, every=0.1,
                )  # fmt: skip
                await later_readings(database, device_id)
                assert open_alarms(database, device_id) == {}
                pack.inject_cell_over_voltage(3)  # 3.70 V on an LFP pack
                over_voltage = {
                    ("cell_over_voltage", ""): (True, 1),
                    ("cell_imbalance", ""): (True, 1),
                    ("bms_protection", "cell_over_voltage"): (True, 1),
                }
                await settle(database, device_id, over_voltage, "over-voltage alarms")
                pack.clear_faults()
                # the condition clears: over-voltage stays open (it needs a person), the
                # imbalance resolves itself, the protection releases by its own hysteresis
                cleared = {
                    ("cell_over_voltage", ""): (False, 1),
                    ("bms_protection", "cell_over_voltage"): (False, 1),
                }
                await settle(database, device_id, cleared, "over-voltage cleared")
                pack.inject_cell_over_voltage(3)
                again = {
                    ("cell_over_voltage", ""): (True, 2),
                    ("cell_imbalance", ""): (True, 1),
                    ("bms_protection", "cell_over_voltage"): (True, 2),
                }
                await settle(database, device_id, again, "a repeat counts")
                pack.clear_faults()
                await settle(database, device_id, {
                    ("cell_over_voltage", ""): (False, 2),
                    ("bms_protection", "cell_over_voltage"): (False, 2),
                }, "cleared again")  # fmt: skip
                pack.inject_over_temperature(65.0)  # parked, so the discharge limits apply
                hot = {
                    ("cell_over_voltage", ""): (False, 2),
                    ("bms_protection", "cell_over_voltage"): (False, 2),
                    ("discharge_over_temperature", ""): (True, 1),
                    ("bms_protection", "charge_over_temperature"): (True, 1),
                    ("bms_protection", "discharge_over_temperature"): (True, 1),
                }
                await settle(database, device_id, hot, "over-temperature alarms")

        asyncio.run(scenario())
    finally:
        worker.stop()
    # every occurrence kept the sample that raised it
    with psycopg.connect(database) as conn:
        missing = conn.execute(
            "SELECT count(*) FROM alarm_occurrence o JOIN alarm a ON a.id = o.alarm_id"
            " WHERE a.device_id = %s AND o.sample IS NULL",
            (device_id,),
        ).fetchone()
    assert missing == (0,)


def test_riding_out_of_a_fence_raises_one_crossing_and_one_alarm(database, broker, tmp_path):
    device_id = unique_device_id("fence")
    register(database, device_id)
    worker = WorkerProcess(database, broker.url, tmp_path / "worker.log").start()
    try:
        worker.wait_subscribed()

        async def scenario() -> int:
            async with control_rig(broker.url, tmp_path, RIDING, device_id=device_id) as rig:
                lat, lon, _ = rig.device.vehicle.position
                with psycopg.connect(database) as conn:
                    (fence_id,) = conn.execute(
                        "INSERT INTO geofence (name, kind, circle_lat, circle_lon,"
                        " circle_radius_m, margin_m, dwell_s) VALUES ('start', 'keep_in',"
                        " %s, %s, 80, 5, 3) RETURNING id",
                        (lat, lon),
                    ).fetchone()
                    conn.execute(
                        "INSERT INTO geofence_assignment (geofence_id, device_id) VALUES (%s, %s)",
                        (fence_id, device_id),
                    )
                key = ("outside_geofence", str(fence_id))
                await wait_until(
                    lambda: key in open_alarms(database, device_id), "outside the fence",
                    timeout=90, every=0.2,
                )  # fmt: skip
                # more positions, taken after the alarm, are evaluated: no second crossing
                await later_readings(database, device_id, "position")
                return fence_id

        fence_id = asyncio.run(scenario())
    finally:
        worker.stop()
    with psycopg.connect(database) as conn:
        crossings = conn.execute(
            "SELECT type, breach, geofence_id FROM geofence_event WHERE device_id = %s",
            (device_id,),
        ).fetchall()
    assert crossings == [("left", True, fence_id)]
    assert open_alarms(database, device_id) == {("outside_geofence", str(fence_id)): (True, 1)}
