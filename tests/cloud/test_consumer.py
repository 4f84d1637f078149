"""The ingest consumer against a real Mosquitto: manual acks, kept sessions, shared load."""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterable
from datetime import UTC

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cloud.config import MqttSettings
from cloud.ingest.consumer import Consumer, ConsumerError, Delivery
from launcher.broker import MosquittoBroker, find_mosquitto, free_port
from tests.edge_agent.test_tls import make_certificates

pytestmark = pytest.mark.broker

WAIT_S = 15  # a generous bound for anything the broker should deliver now


# -- helpers -------------------------------------------------------------------------------
def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def publish(port: int, topic: str, payloads: Iterable[bytes], *, retain: bool = False) -> None:
    """Publish QoS 1 and wait for every PUBACK, from a client of the test's own."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        for info in [client.publish(topic, p, qos=1, retain=retain) for p in payloads]:
            info.wait_for_publish(WAIT_S)
    finally:
        client.disconnect()
        client.loop_stop()


def forget_session(port: int, client_id: str) -> None:
    """Connect with a clean start and no expiry, so the broker drops the kept session."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 0
    client.connect("127.0.0.1", port, clean_start=True, properties=properties)
    client.loop_start()
    client.disconnect()
    client.loop_stop()


async def collect(consumer: Consumer, count: int, *, ack: bool = True) -> list[Delivery]:
    """Exactly ``count`` deliveries (acknowledged unless told not to)."""
    got: list[Delivery] = []
    async with asyncio.timeout(WAIT_S):
        while len(got) < count:
            batch = await consumer.next_batch(count - len(got), 0.05)
            if ack:
                consumer.ack(batch)
            got.extend(batch)
    return got


async def collect_until(consumer: Consumer, last: bytes) -> list[Delivery]:
    """Everything up to and including the delivery of ``last``, acknowledged."""
    got: list[Delivery] = []
    async with asyncio.timeout(WAIT_S):
        while last not in {d.payload for d in got}:
            batch = await consumer.next_batch(100, 0.05)
            consumer.ack(batch)
            got.extend(batch)
    return got


def payloads(start: int, stop: int) -> list[bytes]:
    return [f"m{i}".encode() for i in range(start, stop)]


@pytest.fixture
def make_settings(broker):
    """Settings on the shared broker with ids of this test's own; sessions dropped after."""
    made: list[MqttSettings] = []

    def make(protocol: str = "5", group: str | None = None) -> MqttSettings:
        settings = MqttSettings(
            url=broker.url,
            client_id=unique("consumer"),
            group=group or unique("group"),
            protocol=protocol,
        )
        made.append(settings)
        return settings

    yield make
    for settings in made:
        forget_session(broker.port, settings.client_id)


# -- tests ---------------------------------------------------------------------------------
def test_qos1_messages_arrive_as_deliveries(broker, make_settings):
    root = unique("vr")
    settings = make_settings()

    async def scenario() -> tuple[list[Delivery], Consumer]:
        async with Consumer(settings, f"{root}/+/up/#") as consumer:
            assert consumer.connected and consumer.shared
            await asyncio.to_thread(
                publish, broker.port, f"{root}/pack-1/up/status", [b"online"], retain=True
            )
            await asyncio.to_thread(
                publish, broker.port, f"{root}/pack-1/up/telemetry", payloads(0, 3)
            )
            got = await collect(consumer, 4)
        assert not consumer.connected
        return got, consumer

    got, consumer = asyncio.run(scenario())
    assert [(d.topic, d.payload) for d in got] == [
        (f"{root}/pack-1/up/status", b"online"),
        *((f"{root}/pack-1/up/telemetry", p) for p in payloads(0, 3)),
    ]
    assert all(d.qos == 1 and not d.duplicate and d.received_at.tzinfo is UTC for d in got)
    assert [d.retain for d in got] == [False] * 4  # live, not replayed for a new subscriber
    assert consumer.counters["received"] == consumer.counters["acked"] == 4


def _consume_and_hang(url: str, client_id: str, group: str, topic_filter: str, conn) -> None:
    """Child process: take 10 deliveries, acknowledge the first 4, report, wait to be killed."""

    async def run() -> None:
        settings = MqttSettings(url=url, client_id=client_id, group=group)
        async with Consumer(settings, topic_filter) as consumer:
            conn.send("ready")
            got = await collect(consumer, 10, ack=False)
            consumer.ack(got[:4])
            # The broker reads one connection's packets in order: once it has acknowledged a
            # publish sent after the PUBACKs, it has taken the PUBACKs too. Waiting only for
            # paho's queue to empty was not enough: the kill could reset the socket while the
            # last PUBACK still sat unread in the broker's receive buffer (CI saw m3 again).
            barrier = consumer._client.publish(topic_filter.split("/")[0] + "/barrier", b"", qos=1)
            async with asyncio.timeout(WAIT_S):
                while not barrier.is_published():
                    await asyncio.sleep(0.01)
            conn.send([d.payload for d in got])
            await asyncio.Event().wait()

    asyncio.run(run())


def test_unacknowledged_messages_survive_a_killed_worker(broker, make_settings):
    root = unique("vr")
    topic_filter = f"{root}/+/up/#"
    settings = make_settings()
    context = multiprocessing.get_context("spawn")
    parent_end, child_end = context.Pipe()
    child = context.Process(
        target=_consume_and_hang,
        args=(broker.url, settings.client_id, settings.group, topic_filter, child_end),
    )
    child.start()
    try:
        assert parent_end.poll(WAIT_S) and parent_end.recv() == "ready"
        publish(broker.port, f"{root}/pack-1/up/telemetry", payloads(0, 10))
        assert parent_end.poll(WAIT_S)
        assert parent_end.recv() == payloads(0, 10)
    finally:
        child.kill()  # SIGKILL: the socket closes without a DISCONNECT
        child.join(WAIT_S)

    async def restart() -> list[Delivery]:
        async with Consumer(settings, topic_filter) as consumer:
            # broker order: redeliveries first, so once the marker is here nothing else comes
            await asyncio.to_thread(publish, broker.port, f"{root}/pack-1/up/event", [b"end"])
            return await collect_until(consumer, b"end")

    again = asyncio.run(restart())
    assert [d.payload for d in again] == [*payloads(4, 10), b"end"]
    assert [d.duplicate for d in again] == [True] * 6 + [False]


def test_messages_published_while_the_worker_is_down_are_kept(broker, make_settings):
    root = unique("vr")
    settings = make_settings()

    async def scenario() -> list[Delivery]:
        async with Consumer(settings, f"{root}/+/up/#"):
            pass  # the session and its subscription now exist
        await asyncio.to_thread(
            publish, broker.port, f"{root}/pack-1/up/telemetry", payloads(0, 20)
        )
        async with Consumer(settings, f"{root}/+/up/#") as consumer:
            return await collect(consumer, 20)

    assert [d.payload for d in asyncio.run(scenario())] == payloads(0, 20)


def test_two_workers_of_one_group_split_the_load(broker, make_settings):
    root = unique("vr")
    first = make_settings()
    second = make_settings(group=first.group)

    async def scenario() -> tuple[list[Delivery], list[Delivery]]:
        async with (
            Consumer(first, f"{root}/+/up/#") as one,
            Consumer(second, f"{root}/+/up/#") as two,
        ):
            topic = f"{root}/pack-1/up/telemetry"
            await asyncio.to_thread(publish, broker.port, topic, payloads(0, 200))
            got_one: list[Delivery] = []
            got_two: list[Delivery] = []

            async def drain(consumer: Consumer, into: list[Delivery]) -> None:
                while len(got_one) + len(got_two) < 200:
                    batch = await consumer.next_batch(50, 0.05)
                    consumer.ack(batch)
                    into.extend(batch)

            async with asyncio.timeout(WAIT_S):
                tasks = [
                    asyncio.create_task(drain(c, g)) for c, g in ((one, got_one), (two, got_two))
                ]
                done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*done)
            return got_one, got_two

    got_one, got_two = asyncio.run(scenario())
    one, two = {d.payload for d in got_one}, {d.payload for d in got_two}
    assert one and two
    assert not one & two
    assert len(got_one) + len(got_two) == 200
    assert one | two == set(payloads(0, 200))


def test_a_broker_restart_loses_nothing_and_stale_acks_are_harmless(own_broker):
    root = unique("vr")
    settings = MqttSettings(url=own_broker.url, client_id=unique("consumer"), group="g")
    topic = f"{root}/pack-1/up/telemetry"

    async def scenario() -> tuple[list[Delivery], list[Delivery], Consumer]:
        async with Consumer(settings, f"{root}/+/up/#") as consumer:
            await asyncio.to_thread(publish, own_broker.port, topic, payloads(0, 60))
            before = await collect(consumer, 30, ack=False)
            consumer.ack(before[:20])  # 20 stored; 10 in the worker's hands; 30 not taken yet
            await asyncio.to_thread(own_broker.stop)
            await asyncio.to_thread(own_broker.start)
            async with asyncio.timeout(WAIT_S):
                while not (consumer.connected and consumer.counters["reconnects"]):
                    await asyncio.sleep(0.05)
            consumer.ack(before[20:])  # their mids belong to the old connection: skipped
            await asyncio.to_thread(publish, own_broker.port, topic, payloads(60, 80))
            after = await collect_until(consumer, b"m79")
        return before, after, consumer

    before, after, consumer = asyncio.run(scenario())
    assert [d.payload for d in before] == payloads(0, 30)
    # Every message the broker took survives its restart: the unacknowledged ones come again
    # (in order, once each), then the new ones. Some of the 20 acked just before the stop
    # may come again too: the broker can die before it reads those PUBACKs.
    after_payloads = [d.payload for d in after]
    assert [p for p in after_payloads if p not in payloads(0, 20)] == payloads(20, 80)
    assert set(after_payloads) <= set(payloads(0, 80))
    assert all(d.duplicate for d in after if d.payload in payloads(20, 30))
    assert consumer.counters["stale_acks"] == 10
    assert consumer.counters["reconnects"] == 1


def test_mqtt_311_subscribes_without_share_and_keeps_its_session(broker, make_settings):
    root = unique("vr")
    settings = make_settings(protocol="3.1.1")
    status = f"{root}/pack-1/up/status"

    async def scenario() -> tuple[list[Delivery], list[Delivery]]:
        await asyncio.to_thread(publish, broker.port, status, [b"online"], retain=True)
        async with Consumer(settings, f"{root}/+/up/#") as consumer:
            assert not consumer.shared
            first = await collect(consumer, 1)
        await asyncio.to_thread(publish, broker.port, f"{root}/pack-1/up/event", payloads(0, 5))
        async with Consumer(settings, f"{root}/+/up/#") as consumer:
            # the kept subscription is renewed at start, so the retained status comes again
            second = await collect_until(consumer, b"m4")
        return first, second

    first, second = asyncio.run(scenario())
    assert [(d.topic, d.payload, d.retain) for d in first] == [(status, b"online", True)]
    assert sorted(d.payload for d in second if not d.retain) == payloads(0, 5)
    publish(broker.port, status, [b""], retain=True)  # clear the retained message


def test_a_slow_worker_holds_the_broker_back_within_max_pending(broker, make_settings):
    root = unique("vr")
    settings = make_settings()

    async def scenario() -> tuple[list[Delivery], int]:
        most = 0
        got: list[Delivery] = []
        async with Consumer(settings, f"{root}/+/up/#", max_pending=10) as consumer:
            topic = f"{root}/pack-1/up/telemetry"
            await asyncio.to_thread(publish, broker.port, topic, payloads(0, 300))
            async with asyncio.timeout(WAIT_S):
                while len(got) < 300:
                    await asyncio.sleep(0.001)  # a slow store: let the broker run ahead
                    most = max(most, consumer.counters["pending"])
                    batch = await consumer.next_batch(7, 0)
                    consumer.ack(batch)
                    got.extend(batch)
        return got, most

    got, most = asyncio.run(scenario())
    assert [d.payload for d in got] == payloads(0, 300)
    assert most <= 10


def test_an_unreachable_broker_is_a_clear_error():
    url = f"mqtt://127.0.0.1:{free_port()}"

    async def scenario() -> None:
        async with Consumer(MqttSettings(url=url, client_id=unique("consumer"))):
            pass

    with pytest.raises(ConsumerError, match=re.escape(f"MQTT broker at {url}: cannot connect")):
        asyncio.run(scenario())


@pytest.mark.skipif(
    not (find_mosquitto() and shutil.which("openssl") and shutil.which("mosquitto_passwd")),
    reason="needs mosquitto, mosquitto_passwd and openssl",
)
def test_tls_with_credentials_from_the_url(tmp_path):
    certs = make_certificates(tmp_path)
    passwords = tmp_path / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", passwords, "worker", "s3cret/!"],
        check=True,
        capture_output=True,
    )
    options = (
        f"cafile {certs['ca']}",
        f"certfile {certs['server']}",
        f"keyfile {certs['server-key']}",
        f"password_file {passwords}",
    )

    async def connect(password: str) -> bool:
        url = f"mqtts://worker:{password}@127.0.0.1:{broker.port}"
        settings = MqttSettings(url=url, ca_file=str(certs["ca"]), client_id=unique("tls"))
        async with Consumer(settings) as consumer:
            return consumer.connected

    with MosquittoBroker(
        data_dir=tmp_path / "broker", listener_options=options, allow_anonymous=False
    ) as broker:
        assert asyncio.run(connect("s3cret%2F%21"))  # percent-encoded in the URL
        with pytest.raises(ConsumerError, match="refused"):
            asyncio.run(connect("wrong"))
