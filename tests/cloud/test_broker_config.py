"""Broker credentials and ACL against a real Mosquitto started with the generated files: a
device may publish only under its own up/ and read only its own down/; it cannot publish as
another device, read another's commands or lease, or subscribe to '#'; a revoked device is
refused once the broker reloads."""

from __future__ import annotations

import os
import signal
import threading
import time

import paho.mqtt.client as paho
import psycopg
import pytest
from paho.mqtt.reasoncodes import ReasonCode

from cloud.platform import broker_accounts as accounts
from cloud.platform import broker_files as files
from launcher.broker import MosquittoBroker, find_mosquitto
from tests.cloud.worker_support import register

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.broker,
    pytest.mark.skipif(find_mosquitto() is None, reason="needs mosquitto on PATH"),
]

NOT_AUTHORISED = 135
ACCEPTED = (0, 16)  # 16: accepted, no matching subscribers


class Client:
    """A paho MQTT 5 client that records what happens to it."""

    def __init__(self, port: int, username: str, password: str) -> None:
        self.connected = threading.Event()
        self.refused: ReasonCode | None = None
        self.messages: list[tuple[str, bytes]] = []
        self.subacks: dict[int, list[int]] = {}
        self.pubacks: dict[int, int] = {}
        self._lock = threading.Lock()
        c = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        c.username_pw_set(username, password)
        c.on_connect = self._on_connect
        c.on_message = lambda c_, u, m: self._add(m.topic, m.payload)
        c.on_subscribe = self._on_subscribe
        c.on_publish = self._on_publish
        self.client = c
        c.connect("127.0.0.1", port)
        c.loop_start()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.refused = reason_code
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        with self._lock:
            self.subacks[mid] = [rc.value for rc in reason_codes]

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._lock:
            self.pubacks[mid] = reason_code.value

    def _add(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self.messages.append((topic, payload))

    def ok(self) -> bool:
        assert self.connected.wait(10), "no CONNACK"
        return self.refused is None

    def subscribe(self, topic: str) -> list[int]:
        _, mid = self.client.subscribe(topic, qos=1)
        return _wait(lambda: self.subacks.get(mid), f"SUBACK for {topic}")

    def publish(self, topic: str, payload: bytes = b"{}", retain: bool = False) -> int:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        return _wait(lambda: self.pubacks.get(info.mid), f"PUBACK for {topic}", none_ok=True)

    def got(self) -> list[str]:
        with self._lock:
            return [t for t, _ in self.messages]

    def payloads(self) -> list[bytes]:
        with self._lock:
            return [p for _, p in self.messages]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _accepted(port: int, username: str, password: str) -> bool:
    client = Client(port, username, password)
    try:
        return client.ok()
    finally:
        client.close()


def _wait(condition, what: str, timeout: float = 10.0, none_ok: bool = False):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value is not None and (value or none_ok):
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def secured(database, tmp_path):
    """Two devices and a worker account, and Mosquitto with the generated files."""
    register(database, "pack-a", "pack-b")
    with psycopg.connect(database) as conn:
        passwords = {
            "pack-a": accounts.issue(conn, "pack-a")[0],
            "pack-b": accounts.issue(conn, "pack-b")[0],
            "_worker": accounts.issue(conn, "_worker", service=True)[0],
        }
        written = files.write(conn, tmp_path / "broker-auth")
    assert (written.devices, written.services) == (2, 1)
    assert oct(written.password_file.stat().st_mode & 0o777) == "0o600"
    options = (f"password_file {written.password_file}", f"acl_file {written.acl_file}")
    with MosquittoBroker(data_dir=tmp_path / "mosquitto", listener_options=options,
                         allow_anonymous=False) as broker:  # fmt: skip
        broker.start()
        yield broker, passwords, written


def test_a_device_reaches_only_its_own_topics(secured):
    broker, passwords, _ = secured
    worker = Client(broker.port, "_worker", passwords["_worker"])
    a = Client(broker.port, "pack-a", passwords["pack-a"])
    try:
        assert worker.ok() and a.ok()
        assert worker.subscribe("$share/voltrent/vr/v1/+/up/#") == [1]
        # its own uplink: accepted and delivered
        assert a.publish("vr/v1/pack-a/up/telemetry") == 0
        # another device's uplink, a downlink, anything else: refused, delivered to no one
        assert a.publish("vr/v1/pack-b/up/telemetry") == NOT_AUTHORISED
        assert a.publish("vr/v1/pack-a/down/cmd") == NOT_AUTHORISED
        assert a.publish("vr/v1/pack-b/up/status", retain=True) == NOT_AUTHORISED
        # reading: its own downlink only. Mosquitto 2.0 grants a SUBACK for a filter the ACL
        # does not cover and then checks read access on every message it would deliver, so
        # what counts is what arrives: another device's commands and retained lease never do
        assert worker.publish("vr/v1/pack-b/down/lease", b"{}", retain=True) in ACCEPTED
        assert a.subscribe("vr/v1/pack-a/down/#") == [1]
        for topic in ("vr/v1/pack-b/down/#", "vr/v1/pack-b/down/lease", "#", "vr/v1/+/up/#"):
            a.subscribe(topic)
        assert worker.publish("vr/v1/pack-a/down/cmd") == 0
        assert worker.publish("vr/v1/pack-b/down/cmd") in ACCEPTED
        assert worker.publish("vr/v1/pack-b/up/telemetry") in ACCEPTED
        _wait(lambda: a.got() or None, "pack-a's command")
        # a later command of its own arrives: anything else sent before it would have too
        assert worker.publish("vr/v1/pack-a/down/cmd", b'"later"') == 0
        _wait(lambda: b'"later"' in a.payloads() or None, "pack-a's later command")
        # (twice: its own command matches both its own filter and '#')
        assert set(a.got()) == {"vr/v1/pack-a/down/cmd"}
        assert worker.got() == ["vr/v1/pack-a/up/telemetry", "vr/v1/pack-b/up/telemetry"]
    finally:
        worker.close()
        a.close()


def test_wrong_passwords_and_anonymous_clients_are_refused(secured):
    broker, passwords, _ = secured
    wrong = Client(broker.port, "pack-a", passwords["pack-b"])
    unknown = Client(broker.port, "pack-c", passwords["pack-a"])
    try:
        assert not wrong.ok() and not unknown.ok()
    finally:
        wrong.close()
        unknown.close()


def test_a_revoked_or_rotated_password_is_refused_after_a_reload(secured, database):
    broker, passwords, written = secured
    with psycopg.connect(database) as conn:
        assert accounts.revoke(conn, "pack-a")
        assert not accounts.revoke(conn, "pack-a")  # already revoked
        new_b, _ = accounts.issue(conn, "pack-b")  # rotated
        files.write(conn, written.password_file.parent)
    assert "pack-a:" not in written.password_file.read_text()
    os.kill(broker.pid, signal.SIGHUP)
    # the reload is asynchronous: done once the rotated password is taken
    _wait(lambda: _accepted(broker.port, "pack-b", new_b) or None, "the rotated password")
    clients = {
        "revoked": Client(broker.port, "pack-a", passwords["pack-a"]),
        "old password": Client(broker.port, "pack-b", passwords["pack-b"]),
        "rotated": Client(broker.port, "pack-b", new_b),
    }
    try:
        assert {name: c.ok() for name, c in clients.items()} == {
            "revoked": False, "old password": False, "rotated": True}  # fmt: skip
    finally:
        for c in clients.values():
            c.close()


def test_the_hash_is_mosquittos_own_format():
    stored = accounts.hash_password("s3cret", salt=b"0123456789ab")
    assert stored.startswith("$7$101$MDEyMzQ1Njc4OWFi$")
    assert accounts.verify_password("s3cret", stored)
    assert not accounts.verify_password("s3cret!", stored)
    assert not accounts.verify_password("s3cret", "plain-text")
    with pytest.raises(ValueError, match="service accounts start with"):
        accounts.issue(None, "worker", service=True)  # type: ignore[arg-type]


def test_the_cli_issues_revokes_and_writes_the_files(database, tmp_path, capsys):
    from cloud.cli import _broker_account, _broker_config
    from cloud.config import CloudConfig

    config = CloudConfig(database_url=database)
    register(database, "pack-a")
    assert _broker_account(config, "issue", "pack-a") == 0
    password = capsys.readouterr().out.split("password: ")[1].split()[0]
    assert _broker_account(config, "issue", "pack-zz") == 1  # not registered
    assert "not a registered device" in capsys.readouterr().err
    assert _broker_config(config, str(tmp_path / "auth")) == 0
    line = (tmp_path / "auth" / "passwd").read_text().strip()
    assert line.startswith("pack-a:$7$")
    assert accounts.verify_password(password, line.split(":", 1)[1])
    assert _broker_account(config, "revoke", "pack-a") == 0
    assert _broker_account(config, "revoke", "pack-a") == 1
    assert _broker_config(config, str(tmp_path / "auth")) == 0
    assert (tmp_path / "auth" / "passwd").read_text() == ""


def test_the_http_endpoints_answer_as_the_files_do(database):
    from tests.cloud.api_support import api_client

    register(database, "pack-a", "pack-b")
    with psycopg.connect(database) as conn:
        a = accounts.issue(conn, "pack-a")[0]
        worker = accounts.issue(conn, "_worker", service=True)[0]
        accounts.issue(conn, "pack-b")
        accounts.revoke(conn, "pack-b")
    with api_client(database) as api:

        def authn(username, password):
            body = {"username": username, "password": password, "peerhost": "10.0.0.7"}
            answer = api.post("/api/broker/authn", json=body)
            assert answer.status_code == 200
            return answer.get_json()["result"]

        def authz(username, action, topic):
            body = {"username": username, "action": action, "topic": topic}
            answer = api.post("/api/broker/authz", json=body)
            assert answer.status_code == 200
            return answer.get_json()["result"]

        assert authn("pack-a", a) == "allow"
        assert authn("_worker", worker) == "allow"
        assert authn("pack-a", worker) == "deny"
        assert authn("pack-b", "anything") == "deny"  # revoked
        assert authn("nobody", a) == "deny"
        assert authz("pack-a", "publish", "vr/v1/pack-a/up/telemetry") == "allow"
        assert authz("pack-a", "publish", "vr/v1/pack-b/up/telemetry") == "deny"
        assert authz("pack-a", "publish", "vr/v1/pack-a/down/cmd") == "deny"
        assert authz("pack-a", "publish", "vr/v1/pack-a/up/+") == "deny"
        assert authz("pack-a", "subscribe", "vr/v1/pack-a/down/#") == "allow"
        assert authz("pack-a", "subscribe", "vr/v1/pack-b/down/lease") == "deny"
        assert authz("pack-a", "subscribe", "#") == "deny"
        assert authz("pack-a", "subscribe", "vr/v1/+/down/#") == "deny"
        assert authz("pack-a", "subscribe", "$share/g/vr/v1/pack-a/down/#") == "allow"
        assert authz("_worker", "subscribe", "$share/voltrent/vr/v1/+/up/#") == "allow"
        assert authz("_worker", "publish", "vr/v1/pack-a/down/cmd") == "allow"
        assert authz("_worker", "subscribe", "$SYS/broker/version") == "allow"
        assert authz("_worker", "publish", "other/topic") == "deny"
        assert authz("pack-b", "publish", "vr/v1/pack-b/up/telemetry") == "deny"  # revoked
        bad = api.post("/api/broker/authz", json={"username": "pack-a", "topic": "x"})
        assert bad.status_code == 422
        assert bad.get_json()["errors"][0]["field"] == "action"


def test_the_api_issues_rotates_and_revokes_a_devices_credentials(database):
    from tests.cloud.api_support import api_client

    register(database, "pack-a")
    url = "/api/devices/pack-a/broker-credentials"
    with api_client(database) as api:
        assert api.get(url).status_code == 404
        assert api.post("/api/devices/nope/broker-credentials").status_code == 404
        first = api.post(url)
        assert first.status_code == 201
        issued = first.get_json()
        assert issued["username"] == "pack-a" and issued["active"] is True
        shown = api.get(url).get_json()
        assert "password" not in shown and shown["active"] is True
        second = api.post(url).get_json()  # rotate
        assert second["password"] != issued["password"] and second["rotated_at"]
        with psycopg.connect(database) as conn:
            (stored,) = conn.execute("SELECT password_hash FROM broker_account").fetchone()
        assert issued["password"] not in stored
        assert accounts.verify_password(second["password"], stored)
        assert not accounts.verify_password(issued["password"], stored)
        revoked = api.delete(url)
        assert revoked.status_code == 200 and revoked.get_json()["active"] is False
        assert api.delete(url).status_code == 404
