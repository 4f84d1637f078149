"""The agent's TOML file: a good one loads, a bad one names the exact key."""

from pathlib import Path

import pytest

from edge_agent.cli import main
from edge_agent.config import CanSourceConfig, ConfigError, JbdSourceConfig, load_config

GOOD = """
device_id = "pack-0001"

[mqtt]
url = "mqtts://broker.example.com"
username = "pack-0001"
password_file = "secrets/mqtt-password"

[mqtt.tls]
ca_file = "/etc/voltrent/ca.pem"

[outbox]
path = "/var/lib/voltrent/outbox.db"
max_records = 100000

[reporting]
report_interval_s = 10
upload_interval_s = 60

[sources.bms]
type = "jbd"
port = "/dev/ttyUSB0"
baudrate = 9600
poll_interval_s = 1

[sources.gnss]
type = "nmea"
port = "/dev/ttyS1"

[sources.vehicle]
type = "can"
interface = "socketcan"
channel = "can0"
enabled = false
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edge.toml"
    path.write_text(text)
    return path


def test_good_file_loads_with_defaults_and_resolved_paths(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.device_id == "pack-0001"
    assert config.mqtt.use_tls and config.mqtt.port == 8883
    assert config.mqtt.password_file == tmp_path / "secrets/mqtt-password"
    assert config.outbox.max_records == 100_000
    assert config.reporting.report_interval_s == 10.0
    assert isinstance(config.reporting.report_interval_s, float)
    bms, gnss, vehicle = config.sources
    assert isinstance(bms.settings, JbdSourceConfig) and bms.settings.poll_interval_s == 1.0
    assert gnss.settings.baudrate == 9600  # default
    assert isinstance(vehicle.settings, CanSourceConfig) and not vehicle.enabled


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("baudrate = 9600", 'baudrate = "fast"'), "sources.bms.baudrate: expected an integer"),
        (("baudrate = 9600", "baud = 9600"), "sources.bms.baud: unknown key (did you mean"),
        (('type = "jbd"', 'type = "daly"'), "sources.bms.type: expected one of jbd, nmea, can"),
        (('device_id = "pack-0001"', 'device_id = "pack/1"'), "device_id: device id 'pack/1'"),
        (('device_id = "pack-0001"', ""), "device_id: required key is missing"),
        (("max_records = 100000", "max_records = -5"), "outbox.max_records: expected a number"),
        (('url = "mqtts://broker.example.com"', 'url = "http://x"'), "mqtt.url: expected"),
        (("report_interval_s = 10", "report_interval_s = 0"), "report_interval_s: must be"),
        (('ca_file = "/etc/voltrent/ca.pem"', "ca_file = 3"), "mqtt.tls.ca_file: expected a file"),
        (("enabled = false", "enabled = 1"), "sources.vehicle.enabled: expected true or false"),
        (('port = "/dev/ttyUSB0"', ""), "sources.bms.port: required key is missing"),
        (("[reporting]", "[reportin]"), "reportin: unknown key (did you mean reporting?)"),
    ],
)
def test_bad_key_is_named(tmp_path, change, says):
    old, new = change
    assert old in GOOD
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, GOOD.replace(old, new, 1)))
    assert str(info.value).startswith("edge.toml: ")
    assert says in str(info.value)


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "device_id = "))
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")


def test_check_command(tmp_path, capsys):
    assert main(["--config", str(write(tmp_path, GOOD)), "--check"]) == 0
    assert "OK: device pack-0001, sources: bms (jbd), gnss (nmea), vehicle (can)" in (
        capsys.readouterr().out
    )
    bad = write(tmp_path, GOOD.replace("baudrate = 9600", "baudrate = 9600.5"))
    assert main(["--config", str(bad), "--check"]) == 2
    assert "sources.bms.baudrate: expected an integer, got 9600.5" in capsys.readouterr().err
