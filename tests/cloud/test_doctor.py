"""`voltrent cloud doctor` against the real store and broker, and with each one missing."""

from __future__ import annotations

import pytest

from cloud.config import CloudConfig, MqttSettings
from cloud.doctor import run_doctor
from cloud.errors import ConfigError
from launcher.broker import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.broker]


def test_a_healthy_setup_reports_layout_versions_and_no_failure(database, broker, capsys):
    config = CloudConfig(database_url=database, mqtt=MqttSettings(url=broker.url))
    assert run_doctor(config) == 0
    out = capsys.readouterr().out
    assert "layout        plain PostgreSQL: day partitions" in out
    assert "PostgreSQL 1" in out  # the server's version
    assert "mosquitto version" in out
    assert "migrations applied" in out
    assert "no ingest worker reported" in out  # a warning, not a failure
    assert "Mosquitto restores no MQTT 5 or shared subscription" in out


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
    config = CloudConfig.from_env({"MQTT_URL": "mqtts://u:p@broker.example:8883"})
    assert (config.mqtt.host, config.mqtt.port, config.mqtt.tls) == ("broker.example", 8883, True)
    assert (config.mqtt.username, config.mqtt.password) == ("u", "p")
