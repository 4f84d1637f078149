"""`voltrent watch` shows a compressed payload as JSON and explains a bad one."""

import asyncio
import io
import json

import aiomqtt
import pytest

from launcher.watch import watch
from protocols import contract
from protocols.contract import Channel, PositionSample, TelemetryBatch, Topic

pytestmark = pytest.mark.broker


def test_watch_decodes_compressed_telemetry_and_reports_garbage(broker):
    sample = PositionSample(seq=4, ts=1_795_000_000_000, lat=22.53, lon=113.93, valid=True)
    good = contract.encode(TelemetryBatch((sample,)), compress=True)
    topic = str(Topic("watch-0001", Channel.TELEMETRY))
    host, port = broker.url.removeprefix("mqtt://").split(":")
    out = io.StringIO()

    async def scenario() -> None:
        subscribed = asyncio.Event()
        watcher = asyncio.create_task(watch(broker.url, "watch-0001", 2, out, subscribed))
        await asyncio.wait_for(subscribed.wait(), 10)
        async with aiomqtt.Client(host, int(port)) as client:
            await client.publish(topic, good, qos=1)
            await client.publish(topic, b"\x00garbage", qos=1)
        await asyncio.wait_for(watcher, 10)

    asyncio.run(scenario())
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["device"] == "watch-0001" and first["channel"] == "up/telemetry"
    assert first["payload"]["samples"][0]["lat"] == 22.53
    assert "not UTF-8" in second["error"] or "not JSON" in second["error"]
