"""Rules in a real worker process: telemetry through Mosquitto raises an alarm, and its
webhook notification reaches a receiver that was down when the alarm was raised, once."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.cloud import wire_support as wire
from tests.cloud.rules_support import one_cell, pack
from tests.cloud.webhook_support import LOCAL_RECEIVERS_ENV, Receiver, add_webhook, closed_port
from tests.cloud.worker_support import Publisher, WorkerProcess, register, scalar, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.slow]


def test_an_alarm_raised_on_ingest_reaches_a_webhook_that_comes_up_late(database, broker, tmp_path):
    device_id = f"hook-{tmp_path.name[-8:]}".replace("_", "-")
    register(database, device_id)
    port = closed_port()
    with psycopg.connect(database) as conn:
        add_webhook(conn, f"http://127.0.0.1:{port}/alarms", types=["cell_over_voltage"])
    worker = WorkerProcess(database, broker.url, tmp_path / "worker.log")
    worker.env["VOLTRENT_WEBHOOK_ALLOW"] = LOCAL_RECEIVERS_ENV
    worker.start()
    try:
        worker.wait_subscribed()
        t = wire.now_ms()
        with Publisher(broker.url) as publisher:
            publisher.publish([(wire.topic(device_id), wire.telemetry(
                pack(1, t), pack(2, t + 1000, cells=one_cell(3.70)),
                pack(3, t + 2000, cells=one_cell(3.71))))])  # fmt: skip
        attempts = "SELECT coalesce(max(attempts), 0) FROM alarm_notification"
        wait_for(lambda: scalar(database, attempts) >= 1, "an attempt while the receiver is down")
        assert scalar(database, "SELECT count(*) FROM alarm") >= 1  # stored, not held up
        receiver = Receiver(port=port)
        try:
            got = wait_for(lambda: receiver.got(), "the delivery once the receiver is up")
            delivered = "SELECT count(*) FROM alarm_notification WHERE state = 'delivered'"
            wait_for(lambda: scalar(database, delivered) == 1, "delivered")
            assert len(receiver.got()) == 1 and got[0].verified
            body = json.loads(got[0].body)
            assert body["event"] == "raised"
            assert body["alarm"]["type"] == "cell_over_voltage"
            assert body["alarm"]["device_id"] == device_id
        finally:
            receiver.close()
    finally:
        worker.stop()
