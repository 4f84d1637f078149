"""`voltrent cloud doctor` against the real store and broker, and with each one missing."""

from __future__ import annotations

import re

import pytest

from cloud.config import CloudConfig, MqttSettings
from cloud.errors import ConfigError
from cloud.platform.doctor import run_doctor
from launcher.broker import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.broker]


def test_a_healthy_setup_reports_layout_versions_and_no_failure(database, broker, capsys):
    config = CloudConfig(database_url=database, mqtt=MqttSettings(url=broker.url))
    assert run_doctor(config) == 0
    out = capsys.readouterr().out
    assert re.search(r"^ok +layout +plain PostgreSQL: day partitions", out, re.M)
    assert "PostgreSQL 1" in out  # the server's version
    assert "mosquitto version" in out
    assert "migrations applied" in out
    assert "no ingest worker reported" in out  # a warning, not a failure
    assert "Mosquitto restores no MQTT 5 or shared subscription" in out
    assert "0 fences on 0 devices; open alarms: 0 critical, 0 warning, 0 info" in out
    assert "0 enabled webhooks, 0 deliveries pending" in out
    # nobody can sign in to a new store yet, and the API's requests run under the policies
    assert re.search(
        r"^warn +accounts +1 operators, 0 active accounts, 0 platform admin", out, re.M
    )
    assert re.search(r"^ok +row security +signed-in requests run as voltrent_api", out, re.M)


def test_an_unmigrated_store_and_a_missing_broker_fail_with_what_to_do(empty_database, capsys):
    url = f"mqtt://127.0.0.1:{free_port()}"
    config = CloudConfig(database_url=empty_database, mqtt=MqttSettings(url=url))
    assert run_doctor(config) == 1
    out = capsys.readouterr().out
    assert "FAIL  schema" in out and "voltrent cloud migrate" in out
    assert "FAIL  broker" in out and "set MQTT_URL" in out


def test_an_unreachable_database_is_named_without_its_password(capsys):
    url = f"postgresql://voltrent:secret@127.0.0.1:{free_port()}/voltrent"
    config = CloudConfig(database_url=url, mqtt=MqttSettings(url=f"mqtt://127.0.0.1:{free_port()}"))
    assert run_doctor(config) == 1
    out = capsys.readouterr().out
    assert "FAIL  database" in out and "127.0.0.1" in out
    assert "secret" not in out


def test_configuration_errors_name_the_variable():
    with pytest.raises(ConfigError, match="DATABASE_URL: expected postgresql://"):
        CloudConfig.from_env({"DATABASE_URL": "mysql://x"})
    with pytest.raises(ConfigError, match="VOLTRENT_RETENTION_DAYS: expected an integer"):
        CloudConfig.from_env({"VOLTRENT_RETENTION_DAYS": "forever"})
    with pytest.raises(ConfigError, match=r"MQTT_PROTOCOL: expected one of 5, 3\.1\.1"):
        CloudConfig.from_env({"MQTT_PROTOCOL": "4"})
    with pytest.raises(ConfigError, match="VOLTRENT_TRUSTED_PROXIES: must be at least 0"):
        CloudConfig.from_env({"VOLTRENT_TRUSTED_PROXIES": "-1"})
    assert CloudConfig.from_env({"VOLTRENT_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    config = CloudConfig.from_env({"MQTT_URL": "mqtts://u:p@broker.example:8883"})
    assert (config.mqtt.host, config.mqtt.port, config.mqtt.tls) == ("broker.example", 8883, True)
    assert (config.mqtt.username, config.mqtt.password) == ("u", "p")


def test_the_dispatcher_may_publish_with_an_account_of_its_own():
    worker_only = CloudConfig.from_env({"MQTT_URL": "mqtt://_worker:w@broker:1883"})
    assert worker_only.mqtt.for_dispatcher().username == "_worker"
    config = CloudConfig.from_env(
        {"MQTT_URL": "mqtt://_worker:w@broker:1883",
         "MQTT_DISPATCH_URL": "mqtt://_dispatcher:d%40x@broker:1883"}
    )  # fmt: skip
    dispatcher = config.mqtt.for_dispatcher()
    assert (dispatcher.username, dispatcher.password) == ("_dispatcher", "d@x")
    assert (config.mqtt.username, dispatcher.client_id) == ("_worker", config.mqtt.client_id)
    assert "d%40x" not in repr(config)
    with pytest.raises(ConfigError, match="MQTT_DISPATCH_URL: expected mqtt://"):
        CloudConfig.from_env({"MQTT_DISPATCH_URL": "http://broker"})


def _wait_for_sys(port: int, topic: str, good) -> None:
    """Until the broker publishes a number on ``topic`` that ``good`` takes."""
    import threading

    import paho.mqtt.client as paho

    seen = threading.Event()

    def on_message(client, userdata, message) -> None:
        if good(float(message.payload)):
            seen.set()

    watcher = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="sys-watcher")
    watcher.on_message = on_message
    watcher.on_connect = lambda client, *args: client.subscribe(topic)
    watcher.connect("127.0.0.1", port)
    watcher.loop_start()
    try:
        assert seen.wait(30), f"no {topic} as expected within 30 s"
    finally:
        watcher.disconnect()
        watcher.loop_stop()


def test_messages_the_broker_dropped_are_reported(tmp_path, capsys, empty_database):
    """A subscriber's queue overflows (max_queued_messages 10): doctor names the drops."""
    import paho.mqtt.client as paho

    from launcher.broker import MosquittoBroker, find_mosquitto

    if not find_mosquitto():
        pytest.skip("needs a broker of its own: install mosquitto")
    with MosquittoBroker(
        data_dir=tmp_path / "broker", max_queued_messages=10, listener_options=("sys_interval 1",)
    ) as small:
        away = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="away", clean_session=False)
        away.connect("127.0.0.1", small.port)
        away.subscribe("vr/v1/+/up/#", qos=1)
        away.loop(1.0)
        away.disconnect()
        publisher = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="pub")
        publisher.connect("127.0.0.1", small.port)
        publisher.loop_start()
        for _ in range(50):
            publisher.publish("vr/v1/pack-1/up/event", b"{}", qos=1).wait_for_publish(5)
        publisher.disconnect()
        publisher.loop_stop()
        # $SYS is published every second (sys_interval 1): wait for the count with the drops
        _wait_for_sys(small.port, "$SYS/broker/publish/messages/dropped", lambda v: v >= 40)
        config = CloudConfig(database_url=empty_database, mqtt=MqttSettings(url=small.url))
        run_doctor(config)
    out = capsys.readouterr().out
    assert "warn  dropped" in out and "the broker dropped 40 messages" in out
