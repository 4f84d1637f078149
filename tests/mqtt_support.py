"""A paho MQTT client for the broker tests (no tests here): what it receives lands in a
queue, and what the broker answers (CONNACK, SUBACK) is returned or checked."""

from __future__ import annotations

import queue

import paho.mqtt.client as mqtt

WAIT_S = 30  # a broker on a loaded machine (amqtt beside the browser tests) answers late


class Client:
    """A paho MQTT 3.1.1 client whose received messages land in a queue."""

    def __init__(
        self, port: int, client_id: str, *, clean_session: bool = True,
        password: str | None = None, username: str | None = None, will: str | None = None,
        refused: bool = False,
    ):  # fmt: skip
        """Connected to 127.0.0.1:``port`` as ``client_id``, with ``password`` for the
        account ``username`` (default: the client id) if given; ``refused``: expect the
        broker to refuse the connection instead."""
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._connected: queue.Queue[bool] = queue.Queue()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
        )
        if password is not None:
            self.client.username_pw_set(username or client_id, password)
        if will is not None:
            self.client.will_set(will, b'{"online": false}', qos=1, retain=True)
        self.client.on_message = lambda _client, _userdata, message: self.messages.put(message)
        self.client.on_connect = lambda _c, _u, _f, code, _p: self._connected.put(code.is_failure)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._connected.get(timeout=WAIT_S) is refused

    def subscribe(self, topic_filter: str) -> list[int]:
        """Subscribe at QoS 1; the SUBACK's codes (1: granted, 128: refused)."""
        subscribed: queue.Queue[list[int]] = queue.Queue()
        self.client.on_subscribe = lambda _c, _u, _m, codes, _p: subscribed.put(
            [c.value for c in codes]
        )
        self.client.subscribe(topic_filter, qos=1)
        return subscribed.get(timeout=WAIT_S)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(WAIT_S)  # returns once the broker's PUBACK arrived
        assert info.is_published()

    def received(self, count: int) -> list[mqtt.MQTTMessage]:
        return [self.messages.get(timeout=WAIT_S) for _ in range(count)]

    def received_until(self, topic: str, payload: bytes) -> list[mqtt.MQTTMessage]:
        """Every message received up to and including this one."""
        got = [self.messages.get(timeout=WAIT_S)]
        while (got[-1].topic, got[-1].payload) != (topic, payload):
            got.append(self.messages.get(timeout=WAIT_S))
        return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def clear_retained(port: int) -> int:
    """Remove every retained message from the broker at 127.0.0.1:``port``, so that the
    next test's subscribers get none of an earlier test's (a device's retained status, a
    lease term); how many there were. The broker sends a new subscription's retained
    messages before anything published after it, so a marker published once subscribed
    arrives after the last of them."""
    import threading
    import uuid

    marker = f"voltrent-test/clear/{uuid.uuid4().hex}"
    retained: set[str] = set()
    done = threading.Event()

    def on_message(client, userdata, message) -> None:
        if message.topic == marker:
            done.set()
        elif message.retain and message.payload:
            retained.add(message.topic)

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"clear-{marker[-8:]}")
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.subscribe("#", qos=1)
        subscribed = threading.Event()
        client.on_subscribe = lambda *args: subscribed.set()
        client.subscribe(marker, qos=1)
        assert subscribed.wait(WAIT_S), "no SUBACK"
        client.publish(marker, b"", qos=1).wait_for_publish(WAIT_S)
        assert done.wait(WAIT_S), "the marker did not come back"
        for topic in retained:
            client.publish(topic, b"", qos=1, retain=True).wait_for_publish(WAIT_S)
    finally:
        client.disconnect()
        client.loop_stop()
    return len(retained)
