"""The amqtt fallback broker: what the edge agents and the cloud worker rely on, and, given
a password file, the same accounts and topic rules as Mosquitto with the generated ACL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psutil
import pytest

from cloud.platform.broker_accounts import hash_password, new_password
from launcher.amqtt_broker import AmqttBroker, mqtt_protocol, start_broker
from launcher.broker import MosquittoBroker, find_mosquitto, port_open
from tests.mqtt_support import Client

Opener = Callable[..., Client]


@pytest.fixture
def amqtt_broker(tmp_path):
    with AmqttBroker(data_dir=tmp_path / "amqtt") as broker:
        yield broker


@contextmanager
def opened_clients(port: int, passwords: dict[str, str] | None = None) -> Iterator[Opener]:
    """A way to connect clients to the broker on ``port``, each as the account of its name
    in ``passwords`` (else anonymously, or with the ``password`` given); all closed after."""
    opened: list[Client] = []

    def open_client(client_id: str, **options: Any) -> Client:
        options.setdefault("password", (passwords or {}).get(client_id))
        client = Client(port, client_id, **options)
        opened.append(client)
        return client

    try:
        yield open_client
    finally:
        for client in opened:
            client.close()


@pytest.fixture
def clients(amqtt_broker):
    with opened_clients(amqtt_broker.port) as open_client:
        yield open_client


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


def test_clients_that_connect_while_others_subscribe_are_all_served(amqtt_broker, clients):
    """amqtt 0.12 walks the broker's subscriptions as a client connects, awaiting as it goes:
    a subscription made meanwhile killed that client's session ("dictionary changed size
    during iteration" in the log, and no SUBACK ever). CheckedBroker's table hands out
    copies to walk."""
    holder = clients("holder")
    holder.publish("r/1", b"kept", retain=True)
    holder.subscribe("r/#")  # the walk awaits at this filter: it has a retained message
    churn = clients("churn")
    stop = threading.Event()

    def subscribe_all_the_time() -> None:
        n = 0
        while not stop.is_set():
            churn.client.subscribe(f"churn/{n}", qos=0)
            n += 1
            time.sleep(0.002)

    thread = threading.Thread(target=subscribe_all_the_time, daemon=True)
    thread.start()
    try:
        granted = [clients(f"late-{i}").subscribe(f"late/{i}") for i in range(30)]
    finally:
        stop.set()
        thread.join()
    assert granted == [[1]] * 30
    assert "Unhandled exception" not in amqtt_broker.log_path.read_text()


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


# --- with the demo's accounts -----------------------------------------------------------


@pytest.fixture
def locked(tmp_path):
    """amqtt with a password file of two devices and a service account, as `voltrent cloud
    broker-config` writes it; and a way to connect as each."""
    passwords = {name: new_password() for name in ("pack-a", "pack-b", "_worker")}
    password_file = tmp_path / "passwd"
    password_file.write_text(
        "".join(f"{name}:{hash_password(password)}\n" for name, password in passwords.items())
    )
    broker = AmqttBroker(data_dir=tmp_path / "amqtt", password_file=password_file)
    with broker, opened_clients(broker.start().port, passwords) as connect:
        yield connect


def test_only_accounts_of_the_password_file_get_in(locked):
    locked("pack-a")
    locked("_worker")
    locked("pack-a", password="not-the-password", refused=True)
    locked("pack-c", password="anything", refused=True)
    locked("nobody", refused=True)  # no username at all


def test_a_device_reaches_only_its_own_topics(locked):
    worker = locked("_worker")
    box_a = locked("pack-a")
    assert worker.subscribe("vr/v1/+/up/#") == [1]
    assert box_a.subscribe("vr/v1/pack-a/down/#") == [1]
    assert box_a.subscribe("vr/v1/pack-b/down/#") == [128]
    assert box_a.subscribe("vr/v1/+/down/#") == [128]
    assert box_a.subscribe("#") == [128]

    box_a.publish("vr/v1/pack-b/up/ack", b'{"forged": true}')  # an ack for another device
    box_a.publish("vr/v1/pack-b/up/telemetry", b"forged")
    box_a.publish("vr/v1/pack-a/up/ack", b"own")  # after the forged ones, on the same wire
    worker.publish("vr/v1/pack-b/down/cmd", b"for b")
    worker.publish("vr/v1/pack-a/down/cmd", b"for a")

    assert [(m.topic, m.payload) for m in worker.received(1)] == [("vr/v1/pack-a/up/ack", b"own")]
    assert [(m.topic, m.payload) for m in box_a.received(1)] == [
        ("vr/v1/pack-a/down/cmd", b"for a")
    ]


def test_a_will_on_another_devices_topic_is_refused(locked):
    locked("pack-a", will="vr/v1/pack-b/up/status", refused=True)
    locked("pack-a", will="vr/v1/pack-a/up/status")


def test_another_devices_retained_messages_never_reach_a_device(locked):
    worker = locked("_worker")
    assert worker.subscribe("vr/v1/+/up/#") == [1]
    box_b = locked("pack-b")
    assert box_b.subscribe("vr/v1/pack-b/down/#") == [1]
    box_b.publish("vr/v1/pack-b/up/status", b'{"online": true}', retain=True)
    worker.publish("vr/v1/pack-b/down/lease", b"b's lease", retain=True)
    worker.publish("vr/v1/pack-a/down/lease", b"a's lease", retain=True)

    box_a = locked("pack-a")  # connects after: amqtt itself would send it all of the above
    assert box_a.subscribe("vr/v1/pack-a/down/#") == [1]
    worker.publish("vr/v1/pack-a/down/cmd", b"marker")

    got = box_a.received_until("vr/v1/pack-a/down/cmd", b"marker")
    assert [(m.topic, m.payload) for m in got] == [
        ("vr/v1/pack-a/down/lease", b"a's lease"),
        ("vr/v1/pack-a/down/cmd", b"marker"),
    ]
