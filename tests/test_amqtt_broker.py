"""The amqtt fallback broker: what the edge agents and the cloud worker rely on."""

from __future__ import annotations

import queue

import paho.mqtt.client as mqtt
import psutil
import pytest

from launcher.amqtt_broker import AmqttBroker, mqtt_protocol, start_broker
from launcher.broker import MosquittoBroker, find_mosquitto, port_open

WAIT_S = 10


class Client:
    """A paho MQTT 3.1.1 client whose received messages land in a queue."""

    def __init__(self, broker: AmqttBroker, client_id: str, *, clean_session: bool = True):
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._connected: queue.Queue[bool] = queue.Queue()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
        )
        self.client.on_message = lambda _client, _userdata, message: self.messages.put(message)
        self.client.on_connect = lambda *args: self._connected.put(True)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self._connected.get(timeout=WAIT_S)

    def subscribe(self, topic_filter: str) -> None:
        subscribed: queue.Queue[bool] = queue.Queue()
        self.client.on_subscribe = lambda *args: subscribed.put(True)
        self.client.subscribe(topic_filter, qos=1)
        assert subscribed.get(timeout=WAIT_S)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(WAIT_S)  # returns once the broker's PUBACK arrived
        assert info.is_published()

    def received(self, count: int) -> list[mqtt.MQTTMessage]:
        return [self.messages.get(timeout=WAIT_S) for _ in range(count)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def amqtt_broker(tmp_path):
    with AmqttBroker(data_dir=tmp_path / "amqtt") as broker:
        yield broker


@pytest.fixture
def clients(amqtt_broker):
    opened: list[Client] = []

    def open_client(client_id: str, **options: bool) -> Client:
        client = Client(amqtt_broker, client_id, **options)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


def test_qos1_messages_arrive_in_order(clients):
    subscriber = clients("worker")
    subscriber.subscribe("vr/v1/+/up/#")
    box = clients("sim-0001")
    for n in range(20):
        box.publish("vr/v1/sim-0001/up/telemetry", f"batch {n}".encode())

    received = subscriber.received(20)

    assert [m.payload for m in received] == [f"batch {n}".encode() for n in range(20)]
    assert {m.qos for m in received} == {1}
    assert {m.topic for m in received} == {"vr/v1/sim-0001/up/telemetry"}


def test_a_late_subscriber_gets_the_retained_status(clients):
    box = clients("sim-0001")
    box.publish("vr/v1/sim-0001/up/status", b'{"online": false}', retain=True)
    box.publish("vr/v1/sim-0001/up/status", b'{"online": true}', retain=True)

    late = clients("console")
    late.subscribe("vr/v1/+/up/status")

    (message,) = late.received(1)
    assert (message.topic, message.payload, message.retain) == (
        "vr/v1/sim-0001/up/status",
        b'{"online": true}',
        True,
    )
    assert late.messages.empty()


def test_a_persistent_session_gets_what_was_published_while_it_was_away(clients):
    worker = clients("worker", clean_session=False)
    worker.subscribe("vr/v1/+/up/#")
    worker.close()
    box = clients("sim-0001")
    for n in range(3):
        box.publish("vr/v1/sim-0001/up/telemetry", f"while away {n}".encode())

    back = clients("worker", clean_session=False)  # no new subscription: the session has it

    payloads = [m.payload for m in back.received(3)]
    assert payloads == [f"while away {n}".encode() for n in range(3)]


def test_a_clean_session_gets_nothing_from_while_it_was_away(clients):
    worker = clients("worker")
    worker.subscribe("vr/v1/+/up/#")
    worker.close()
    clients("sim-0001").publish("vr/v1/sim-0001/up/telemetry", b"while away")

    back = clients("worker")
    back.subscribe("vr/v1/+/up/#")
    back.publish("vr/v1/sim-0001/up/telemetry", b"after")  # a marker: anything queued came first

    assert [m.payload for m in back.received(1)] == [b"after"]


def test_restart_keeps_the_port(amqtt_broker, clients):
    port = amqtt_broker.port
    amqtt_broker.stop()
    assert not port_open("127.0.0.1", port)
    amqtt_broker.start()

    assert amqtt_broker.port == port
    subscriber = clients("worker")
    subscriber.subscribe("t")
    subscriber.publish("t", b"again")
    assert [m.payload for m in subscriber.received(1)] == [b"again"]


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_stop_and_kill_leave_no_process(tmp_path, how):
    broker = AmqttBroker(data_dir=tmp_path).start()
    process = psutil.Process(broker.pid)
    assert process.is_running()

    getattr(broker, how)()

    assert not broker.running
    assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    assert not port_open("127.0.0.1", broker.port)


def test_start_broker_amqtt(tmp_path):
    broker = start_broker(tmp_path / "broker", "amqtt")
    try:
        assert isinstance(broker, AmqttBroker)
        assert broker.running
        assert mqtt_protocol(broker) == "3.1.1"
        assert broker.log_path.parent == tmp_path / "broker"
    finally:
        broker.stop()


@pytest.mark.skipif(not find_mosquitto(), reason="mosquitto is not installed")
def test_start_broker_prefers_mosquitto(tmp_path):
    broker = start_broker(tmp_path / "broker")
    try:
        assert isinstance(broker, MosquittoBroker)
        assert broker.running
        assert mqtt_protocol(broker) == "5"
    finally:
        broker.stop()


def test_start_broker_refuses_an_unknown_kind(tmp_path):
    with pytest.raises(ValueError, match="expected auto, mosquitto or amqtt, got 'emqx'"):
        start_broker(tmp_path, "emqx")
