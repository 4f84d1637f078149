"""A defect of the cloud's own that one message finds (not a bad payload: one the code
fails on) dead-letters that message and spares the rest; a job of the worker that fails
starts again."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import pytest

from cloud.config import CloudConfig
from cloud.ingest.consumer import Delivery
from cloud.ingest.ingester import Ingester
from cloud.rules.engine import RuleEngine
from cloud.worker import supervise
from tests.cloud import wire_support as wire
from tests.cloud.worker_support import register, scalar

pytestmark = pytest.mark.postgres


class RulesWithADefect(RuleEngine):
    """The real rule engine, plus a defect that packs named 'pack-bad' trigger."""

    async def evaluate(self, conn, stored) -> None:
        if any(row[0] == "pack-bad" for row in stored.bms):
            raise KeyError("pack-bad")
        await super().evaluate(conn, stored)


def _delivery(topic: str, payload: bytes, arrival: int) -> Delivery:
    return Delivery(topic, payload, datetime.now(UTC), arrival, 1, False, False, arrival)


def test_a_message_our_code_fails_on_is_dead_lettered_and_the_batch_is_stored(database):
    register(database, "pack-ok", "pack-bad")
    ingest = Ingester(CloudConfig(database_url=database), rules=RulesWithADefect())
    t = wire.now_ms()
    batch = [
        _delivery(wire.topic("pack-ok"), wire.telemetry(wire.bms(1, t)), 1),
        _delivery(wire.topic("pack-bad"), wire.telemetry(wire.bms(1, t)), 2),
        _delivery(wire.topic("pack-ok"), wire.telemetry(wire.bms(2, t + 1000)), 3),
    ]

    async def store() -> None:
        try:
            await ingest.store(batch)
        finally:
            await ingest.close()

    asyncio.run(store())
    assert scalar(database, "SELECT array_agg(seq ORDER BY seq) FROM bms_sample") == [1, 2]
    assert scalar(database, "SELECT device_id FROM dead_letter") == "pack-bad"
    reason = scalar(database, "SELECT reason FROM dead_letter")
    assert reason == "storing this message failed in the cloud (KeyError: 'pack-bad')"
    assert ingest.counters["batch_faults"] == 1 and ingest.counters["message_faults"] == 1


def test_a_job_that_fails_is_started_again_and_counted():
    runs = []

    async def job() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError("a defect")

    counters: Counter[str] = Counter()
    asyncio.run(supervise("dispatcher", job, counters, first_delay_s=0.01))
    assert runs == [0, 1, 2]
    assert counters["dispatcher_faults"] == 2
