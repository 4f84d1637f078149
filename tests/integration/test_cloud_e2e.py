"""Simulator -> edge agents -> Mosquitto -> ingest worker -> PostgreSQL: every sample the
edge published is in the store with the same values, and the latest state matches the
simulated pack."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from cloud.app import create_app
from cloud.config import CloudConfig
from edge_agent.outbox import Outbox, RecordKind
from launcher.sim import FleetOptions, SimulatedFleet
from protocols.contract import payloads
from protocols.contract.topics import Channel
from tests.cloud.tenancy_support import root_token
from tests.cloud.worker_support import Publisher, WorkerProcess, register, wait_for
from tests.integration.edge_support import UplinkCollector

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.slow]


def _published(collector: UplinkCollector) -> dict[tuple[str, int], payloads.Sample]:
    out = {}
    for received in collector.messages(Channel.TELEMETRY):
        for sample in received.message.samples:
            out[(received.device_id, sample.seq)] = sample
    return out


def test_what_the_simulated_fleet_publishes_is_what_the_store_holds(database, broker, tmp_path):
    prefix = f"e2e{uuid.uuid4().hex[:6]}"
    options = FleetOptions(
        devices=3, prefix=prefix, work_dir=tmp_path / "fleet", report_interval_s=1.0,
        upload_interval_s=2.0, status_interval_s=5.0,
    )  # fmt: skip
    device_ids = [f"{prefix}-{n:04d}" for n in range(1, 4)]
    register(database, *device_ids)
    worker = WorkerProcess(database, broker.url, tmp_path / "worker.log").start()
    worker.wait_subscribed()
    collector = UplinkCollector(broker.url).start()
    fleet = SimulatedFleet(options, broker.url)

    async def ride() -> None:
        task = asyncio.create_task(fleet.run())
        try:
            for _ in range(600):
                if (
                    len(collector.samples("bms")) >= 3 * 8
                    and len(collector.samples("position")) >= 3 * 5
                ):
                    break
                await asyncio.sleep(0.1)
        finally:
            await _stop_fleet(task)

    try:
        asyncio.run(ride())
        truth = {d.device_id: d.pack.soc_percent for d in fleet.devices}
        _wait_delivered(collector, broker.url, prefix)  # the agents' last batches
        published = _published(collector)
        assert published, "the fleet published nothing"
        wait_for(
            lambda: _stored_count(database) == len(published),
            f"{len(published)} published samples stored",
        )
    finally:
        collector.stop()
        worker.stop()

    with psycopg.connect(database) as conn:
        for (device_id, seq), sample in published.items():
            if isinstance(sample, payloads.BmsSample):
                row = conn.execute(
                    """SELECT pack_voltage_v, current_a, soc_percent, cell_voltages_v,
                              temperatures_c, charge_mos, discharge_mos, time
                       FROM bms_sample WHERE device_id = %s AND seq = %s""",
                    (device_id, seq),
                ).fetchone()
                expected = (
                    sample.pack_voltage_v, sample.current_a, sample.soc_percent,
                    list(sample.cell_voltages_v), list(sample.temperatures_c),
                    sample.charge_mos, sample.discharge_mos,
                )  # fmt: skip
                assert row is not None, f"{device_id} bms seq {seq} missing"
                assert _approx(row[:7]) == expected
                assert int(row[7].timestamp() * 1000) == sample.ts
            elif isinstance(sample, payloads.PositionSample):
                row = conn.execute(
                    "SELECT lat, lon, valid, speed_kmh FROM position"
                    " WHERE device_id = %s AND seq = %s",
                    (device_id, seq),
                ).fetchone()
                assert row is not None, f"{device_id} position seq {seq} missing"
                assert row[:3] == (sample.lat, sample.lon, sample.valid)
        state = dict(conn.execute("SELECT device_id, soc_percent FROM device_state").fetchall())
        online = dict(conn.execute("SELECT device_id, online FROM device_state").fetchall())
    for device_id in device_ids:
        latest = max(
            (s for (d, _), s in published.items() if d == device_id and s.TYPE == "bms"),
            key=lambda s: s.ts,
        )
        assert state[device_id] == pytest.approx(latest.soc_percent, abs=0.051)
        # the pack moved on a little since its last report, not more than a percent
        assert state[device_id] == pytest.approx(truth[device_id], abs=1.0)
        assert online[device_id] is False  # the agents stopped cleanly: offline status

    # and the API serves what the store holds
    client = create_app(CloudConfig(database_url=database)).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {root_token(database)}"
    for device_id in device_ids:
        served = client.get(f"/api/devices/{device_id}/state").get_json()
        assert served["soc_percent"] == pytest.approx(state[device_id])
        assert served["online"] is False
        bms = client.get(f"/api/devices/{device_id}/bms?limit=100000").get_json()["rows"]
        published_seqs = {
            seq for (d, seq), s in published.items() if d == device_id and s.TYPE == "bms"
        }
        assert {row["seq"] for row in bms} == published_seqs


def _wait_delivered(collector: UplinkCollector, url: str, prefix: str) -> None:
    """Wait until what the stopped agents published has reached ``collector``: a message
    published after theirs (undecodable, so it counts as no sample) reaches it after them."""
    topic = f"vr/v1/{prefix}-marker/up/status"
    with Publisher(url) as publisher:
        publisher.publish([(topic, b"marker")])
    wait_for(lambda: any(t == topic for t, _ in collector.undecodable), "the marker")


def _stored_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return sum(
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("bms_sample", "position", "vehicle_sample")
        )


def _approx(values):
    return tuple(
        pytest.approx(v, abs=1e-3) if isinstance(v, float) else
        [pytest.approx(x, abs=1e-3) for x in v] if isinstance(v, list) else v
        for v in values
    )  # fmt: skip


def test_a_backlog_replayed_after_a_broker_outage_is_stored_whole_and_once(
    database, own_broker, tmp_path
):
    prefix = f"out{uuid.uuid4().hex[:6]}"
    options = FleetOptions(
        devices=2, prefix=prefix, work_dir=tmp_path / "fleet", report_interval_s=1.0,
        upload_interval_s=2.0, status_interval_s=5.0, can=False,
    )  # fmt: skip
    register(database, *(f"{prefix}-{n:04d}" for n in range(1, 3)))
    # The durable setup for one Mosquitto: an MQTT 3.1.1 session is the only kind whose
    # subscription Mosquitto 2.0 restores after its own restart, so what the agents replay
    # before the worker is back is queued for it (README, "Operations").
    worker = WorkerProcess(
        database, own_broker.url, tmp_path / "worker.log", protocol="3.1.1"
    ).start()
    worker.wait_subscribed()
    fleet = SimulatedFleet(options, own_broker.url)
    outage: list[datetime] = []

    async def ride_through_an_outage() -> None:
        task = asyncio.create_task(fleet.run())
        try:
            await _until(lambda: _stored_count(database) >= 10, "rows before the outage")
            own_broker.stop()
            outage[:] = [datetime.now(UTC)]
            # the agents keep sampling into their outboxes: 6 BMS samples each
            await _until(
                lambda: all(_bms_since(a.outbox, outage[0]) >= 6 for a in fleet.agents),
                "6 BMS samples of each agent in its outbox since the outage began",
            )
            outage.append(datetime.now(UTC))
            own_broker.start()
            await _until(
                lambda: _stored_between(database, *outage) >= 2 * 6,
                "samples taken during the outage, replayed and stored",
            )
            resumed = datetime.now(UTC)
            await _until(
                lambda: _stored_between(database, resumed, datetime.now(UTC)) >= 2 * 3,
                "samples taken after the outage stored too",
            )
        finally:
            await _stop_fleet(task)

    try:
        asyncio.run(ride_through_an_outage())
        # every sample the agents took is in the store once: seq has no gap, no repeat
        wait_for(lambda: _gaps(database) == {}, "every device's seqs stored without gaps")
    finally:
        worker.stop()
    with psycopg.connect(database) as conn:
        total, distinct = conn.execute(
            """SELECT count(*), count(DISTINCT (device_id, seq)) FROM (
                   SELECT device_id, seq FROM bms_sample UNION ALL
                   SELECT device_id, seq FROM position) AS s"""
        ).fetchone()
    assert total == distinct


async def _stop_fleet(task: asyncio.Task) -> None:
    """Cancel the fleet; if a part of it will not stop, show which and where it is."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=30)
    if not done:
        stuck = [t for t in asyncio.all_tasks() if not t.done() and t is not asyncio.current_task()]
        for running in stuck:
            running.print_stack()
        raise AssertionError(f"the fleet did not stop: {[t.get_name() for t in stuck]}")
    with contextlib.suppress(asyncio.CancelledError):
        task.result()


async def _until(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.2)


def _bms_since(outbox: Outbox, start: datetime) -> int:
    """How many BMS samples captured since ``start`` wait in ``outbox``."""
    since_ms = int(start.timestamp() * 1000)
    return sum(
        json.loads(record.payload).get("type") == payloads.BmsSample.TYPE
        for record in outbox.batch(100_000, RecordKind.TELEMETRY)
        if record.captured_ms >= since_ms
    )


def _stored_between(url: str, start: datetime, end: datetime) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FROM bms_sample WHERE time >= %s AND time < %s", (start, end)
        ).fetchone()[0]


def _gaps(url: str) -> dict[str, int]:
    """Per device: how many seqs between its first and last stored sample or event are
    missing (events share the counter, so they count too)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """SELECT device_id, max(seq) - min(seq) + 1 - count(DISTINCT seq) FROM (
                   SELECT device_id, seq FROM bms_sample UNION ALL
                   SELECT device_id, seq FROM position UNION ALL
                   SELECT device_id, seq FROM device_event) AS s
               GROUP BY device_id"""
        ).fetchall()
    return {device: missing for device, missing in rows if missing}
