"""The uplink never lets a bad record block the outbox, and acks only what the broker took."""

import asyncio
import json

import aiomqtt
import pytest

from edge_agent.agent import EdgeAgent
from edge_agent.config import parse_config
from edge_agent.outbox import Outbox, RecordKind
from edge_agent.uplink import Uplink
from protocols import contract
from protocols.contract import Channel, Topic

pytestmark = pytest.mark.broker

GOOD = {"ts": 1_795_000_000_000, "type": "position", "lat": 22.5, "lon": 113.9, "valid": True}


def test_bad_records_are_dropped_and_counted_good_ones_delivered(broker, tmp_path):
    path = tmp_path / "outbox.db"
    with Outbox(path) as outbox:
        good_before = outbox.put(RecordKind.TELEMETRY, json.dumps(GOOD).encode(), captured_ms=1)
        not_json = outbox.put(RecordKind.TELEMETRY, b"{not json", captured_ms=1)
        bad_lat = outbox.put(
            RecordKind.TELEMETRY, json.dumps({**GOOD, "lat": 99}).encode(), captured_ms=1
        )
        good_after = outbox.put(RecordKind.TELEMETRY, json.dumps(GOOD).encode(), captured_ms=1)
    config = parse_config(
        {
            "device_id": "uplink-test",
            "mqtt": {"url": broker.url},
            "outbox": {"path": str(path)},
            "reporting": {"upload_interval_s": 0, "compress": False},
        }
    )

    async def scenario() -> list[contract.Sample]:
        agent = EdgeAgent(config)
        received: list[contract.Sample] = []
        host, port = broker.url.removeprefix("mqtt://").split(":")
        async with aiomqtt.Client(host, int(port)) as client:
            await client.subscribe(str(Topic("uplink-test", Channel.TELEMETRY)), qos=1)
            task = asyncio.create_task(agent.run())
            try:
                async with asyncio.timeout(20):
                    async for message in client.messages:
                        batch = contract.decode(Channel.TELEMETRY, bytes(message.payload))
                        received.extend(batch.samples)
                        if {s.seq for s in received} >= {good_before, good_after}:
                            break
                async with asyncio.timeout(10):
                    while agent.outbox.count(RecordKind.TELEMETRY):
                        await asyncio.sleep(0.05)
                errors = agent.uplink.health.errors
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                agent.close()
        assert errors["invalid_record"] == 2
        return received

    received = asyncio.run(scenario())
    seqs = {s.seq for s in received}
    assert {good_before, good_after} <= seqs
    assert not seqs & {not_json, bad_lat}
    # the records were written by another boot of the agent: backlog, marked resent
    assert all(s.resent for s in received)


def test_status_is_retained_online_and_offline_after_a_clean_stop(broker, tmp_path):
    config = parse_config(
        {
            "device_id": "status-test",
            "mqtt": {"url": broker.url},
            "outbox": {"path": str(tmp_path / "outbox.db")},
        }
    )
    host, port = broker.url.removeprefix("mqtt://").split(":")
    topic = str(Topic("status-test", Channel.STATUS))

    async def retained() -> contract.Status:
        async with aiomqtt.Client(host, int(port)) as client:
            await client.subscribe(topic, qos=1)
            async with asyncio.timeout(10):
                async for message in client.messages:
                    return contract.decode(Channel.STATUS, bytes(message.payload))
        raise AssertionError("no retained status")

    async def scenario() -> tuple[contract.Status, contract.Status]:
        agent = EdgeAgent(config)
        task = asyncio.create_task(agent.run())
        async with asyncio.timeout(10):
            await agent.uplink.connected.wait()
            # until the agent's "online" has replaced whatever status was retained before
            while not (online := await retained()).online:
                await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        agent.close()
        return online, await retained()

    online, offline = asyncio.run(scenario())
    assert online.online and online.agent_version and online.outbox["records"] >= 0
    assert offline.online is False


def test_a_batch_over_the_size_limit_is_sent_in_parts(broker, tmp_path):
    """4,000 valid samples in one batch are more bytes than one payload may carry."""
    path = tmp_path / "outbox.db"
    body = json.dumps(GOOD).encode()
    with Outbox(path) as outbox:
        seqs = outbox.put_many([(RecordKind.TELEMETRY, body, 1)] * 4000)
    config = parse_config(
        {
            "device_id": "split-test",
            "mqtt": {"url": broker.url},
            "outbox": {"path": str(path)},
            "reporting": {"upload_interval_s": 0, "compress": False, "batch_size": 4000},
        }
    )

    async def scenario() -> tuple[set[int], int]:
        agent = EdgeAgent(config)
        received: set[int] = set()
        host, port = broker.url.removeprefix("mqtt://").split(":")
        async with aiomqtt.Client(host, int(port)) as client:
            await client.subscribe(str(Topic("split-test", Channel.TELEMETRY)), qos=1)
            task = asyncio.create_task(agent.run())
            try:
                async with asyncio.timeout(30):
                    async for message in client.messages:
                        assert len(message.payload) <= contract.MAX_PAYLOAD_BYTES
                        batch = contract.decode(Channel.TELEMETRY, bytes(message.payload))
                        received.update(s.seq for s in batch.samples)
                        if received >= set(seqs):
                            break
                messages = agent.uplink.counters["messages_published"]
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                agent.close()
        return received, messages

    received, messages = asyncio.run(scenario())
    assert received >= set(seqs)
    assert messages > 1


def test_a_corrupt_outbox_is_set_aside_and_reported_at_the_broker(broker, tmp_path):
    path = tmp_path / "outbox.db"
    path.write_bytes(b"this is not a database" * 500)
    config = parse_config(
        {
            "device_id": "corrupt-test",
            "mqtt": {"url": broker.url},
            "outbox": {"path": str(path)},
            "reporting": {"upload_interval_s": 0},
        }
    )
    host, port = broker.url.removeprefix("mqtt://").split(":")

    async def scenario() -> list[contract.Event]:
        events: list[contract.Event] = []
        async with aiomqtt.Client(host, int(port)) as client:
            await client.subscribe(str(Topic("corrupt-test", Channel.EVENT)), qos=1)
            agent = EdgeAgent(config)
            task = asyncio.create_task(agent.run())
            try:
                async with asyncio.timeout(20):
                    async for message in client.messages:
                        events += contract.decode(Channel.EVENT, bytes(message.payload)).events
                        if any(e.type == "outbox_corrupt" for e in events):
                            break
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                agent.close()
        return events

    events = asyncio.run(scenario())
    corrupt = next(e for e in events if e.type == "outbox_corrupt")
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("outbox.db.corrupt-")]
    assert kept and kept[0].read_bytes().startswith(b"this is not a database")
    assert corrupt.detail["path"] == str(kept[0])
    assert corrupt.severity == "critical"


def test_a_downlink_handler_that_raises_does_not_end_the_session(broker, tmp_path):
    """The agent refuses bad downlink itself; should its handler still raise, the uplink
    counts it and stays connected, or a retained message would end every session."""
    device_id = "raising-handler-test"
    config = parse_config(
        {
            "device_id": device_id,
            "mqtt": {"url": broker.url},
            "outbox": {"path": str(tmp_path / "outbox.db")},
            "reporting": {"upload_interval_s": 0, "compress": False},
        }
    )
    host, port = broker.url.removeprefix("mqtt://").split(":")

    def broken(topic: Topic, payload: bytes) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    async def scenario() -> tuple[set[int], int, dict[str, int]]:
        received: set[int] = set()
        with Outbox(config.outbox.path) as outbox:
            uplink = Uplink(config, outbox, lambda online: contract.Status(online), broken)
            async with aiomqtt.Client(host, int(port)) as client:
                await client.subscribe(str(Topic(device_id, Channel.TELEMETRY)), qos=1)
                task = asyncio.create_task(uplink.run())
                try:
                    async with asyncio.timeout(10):
                        await uplink.connected.wait()
                    config_topic = str(Topic(device_id, Channel.CONFIG))
                    await client.publish(config_topic, b"[]", qos=1, retain=True)
                    async with asyncio.timeout(10):
                        while not uplink.counters["downlink_errors"]:
                            await asyncio.sleep(0.05)
                    seq = outbox.put(RecordKind.TELEMETRY, json.dumps(GOOD).encode(), captured_ms=1)
                    uplink.wake(True)
                    async with asyncio.timeout(10):
                        async for message in client.messages:
                            batch = contract.decode(Channel.TELEMETRY, bytes(message.payload))
                            received.update(s.seq for s in batch.samples)
                            if seq in received:
                                break
                    assert not task.done()
                finally:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    await client.publish(config_topic, b"", qos=1, retain=True)
        return received, seq, uplink.counters

    received, seq, counters = asyncio.run(scenario())
    assert seq in received
    assert counters["downlink_errors"] == 1 and counters["connects"] == 1
