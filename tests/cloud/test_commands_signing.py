"""The cloud's side of signed commands: the master key from the environment, the dispatcher
signing each command and lease term with its device's current key, the command-key API and
CLI (show, rotate), and the doctor's line. Real PostgreSQL; the device side is checked with
the same verify() a gateway runs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from flask.testing import FlaskClient
from psycopg.types.json import Jsonb

from cloud.app import create_app
from cloud.commands import outbox, states
from cloud.commands.keys import Signer
from cloud.config import CloudConfig
from cloud.errors import ConfigError
from cloud.http.db import database as app_database
from edge_agent.config import parse_config
from protocols.contract import UnknownKey, decode, signing
from tests.cloud.api_support import add_device, problem_of, set_state
from tests.cloud.tenancy_support import root_token
from tests.cloud.worker_support import REPO_ROOT

pytestmark = [pytest.mark.postgres]

MASTER = bytes(range(50, 82))
MASTER_B64 = signing.encode_key(MASTER)


def test_the_master_key_comes_from_the_environment_or_a_file(tmp_path):
    assert CloudConfig.from_env({}).command_key is None
    assert CloudConfig.from_env({"VOLTRENT_COMMAND_KEY": MASTER_B64}).command_key == MASTER
    key_file = tmp_path / "command.key"
    key_file.write_text(MASTER_B64 + "\n")
    config = CloudConfig.from_env({"VOLTRENT_COMMAND_KEY_FILE": str(key_file)})
    assert config.command_key == MASTER
    assert MASTER_B64 not in repr(config) and repr(MASTER) not in repr(config)
    bad = {
        "VOLTRENT_COMMAND_KEY: not base64": {"VOLTRENT_COMMAND_KEY": "secret!"},
        "VOLTRENT_COMMAND_KEY: 16 bytes, at least 32": {
            "VOLTRENT_COMMAND_KEY": signing.encode_key(MASTER[:16])
        },
        "VOLTRENT_COMMAND_KEY_FILE: cannot read": {
            "VOLTRENT_COMMAND_KEY_FILE": str(tmp_path / "missing")
        },
        "set only one": {
            "VOLTRENT_COMMAND_KEY": MASTER_B64,
            "VOLTRENT_COMMAND_KEY_FILE": str(key_file),
        },
    }
    for message, env in bad.items():
        with pytest.raises(ConfigError, match=message):
            CloudConfig.from_env(env)


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []

    async def publish(self, messages: list[tuple[str, bytes, bool]]) -> None:
        self.messages += messages


def _dispatch(database: str, signer: Signer | None) -> list:
    async def run() -> list:
        sink = Sink()
        async with await psycopg.AsyncConnection.connect(database, autocommit=True) as conn:
            await outbox.dispatch_commands(conn, sink, signer=signer)
            await outbox.publish_leases(conn, sink, signer=signer)
        return [decode(topic.split("/", 3)[3], payload) for topic, payload, _ in sink.messages]

    return asyncio.run(run())


def _queue(conn: psycopg.Connection, device_id: str, cmd_id: str) -> None:
    conn.execute(
        states.INSERT_COMMAND,
        {"cmd_id": cmd_id, "device_id": device_id, "type": "locate", "args": Jsonb({}),
         "issued_by": "test", "reason": None, "expires_in_s": 60},
    )  # fmt: skip


def test_the_dispatcher_signs_with_each_devices_current_key(database):
    with psycopg.connect(database, autocommit=True) as conn:
        for device_id in ("pack-1", "pack-2"):
            add_device(conn, device_id)
            set_state(conn, device_id, online=True)
            _queue(conn, device_id, f"c-{device_id}")
        conn.execute(
            "INSERT INTO lease_term (device_id, leased, cutoff_when_not_leased)"
            " VALUES ('pack-1', false, true)"
        )
    signer = Signer(MASTER)
    messages = _dispatch(database, signer)
    assert {getattr(m, "cmd_id", "lease") for m in messages} == {"c-pack-1", "c-pack-2", "lease"}
    keys = {d: dict([(signing.key_id(MASTER, 1), signing.device_key(MASTER, d, 1))])
            for d in ("pack-1", "pack-2")}  # fmt: skip
    command_1, command_2, lease = messages
    assert signing.verify(command_1, "pack-1", keys["pack-1"]) == signing.key_id(MASTER, 1)
    assert signing.verify(command_2, "pack-2", keys["pack-2"])
    assert signing.verify(lease, "pack-1", keys["pack-1"])
    # pack-1's key rotates: its next command and its lease term again, under generation 2
    from cloud.commands import keys as command_keys

    with psycopg.connect(database, autocommit=True) as conn:
        assert command_keys.rotate(conn, "pack-1") == 2
        _queue(conn, "pack-1", "c-after")
    command, lease = _dispatch(database, signer)
    assert command.cmd_id == "c-after" and lease.version == messages[2].version
    with pytest.raises(UnknownKey):
        signing.verify(command, "pack-1", keys["pack-1"])
    rotated = {signing.key_id(MASTER, 2): signing.device_key(MASTER, "pack-1", 2)}
    assert signing.verify(command, "pack-1", rotated) and signing.verify(lease, "pack-1", rotated)


def test_without_a_master_key_the_dispatcher_publishes_unsigned(database):
    with psycopg.connect(database, autocommit=True) as conn:
        add_device(conn, "pack-1")
        set_state(conn, "pack-1", online=True)
        _queue(conn, "pack-1", "c-1")
    (command,) = _dispatch(database, None)
    assert command.sig is None


@contextmanager
def keyed_client(database: str, master: bytes | None) -> Iterator[FlaskClient]:
    app = create_app(CloudConfig(database_url=database, command_key=master))
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {root_token(database)}"
    try:
        yield client
    finally:
        app_database(app).close()


def test_the_api_shows_and_rotates_a_devices_command_key(database):
    with psycopg.connect(database, autocommit=True) as conn:
        add_device(conn, "pack-1")
    kid_1, kid_2 = signing.key_id(MASTER, 1), signing.key_id(MASTER, 2)
    with keyed_client(database, MASTER) as client:
        shown = client.get("/api/devices/pack-1/command-key")
        assert shown.status_code == 200, shown.get_json()
        assert shown.get_json() == {
            "device_id": "pack-1", "kid": kid_1, "generation": 1, "signing": True,
        }  # fmt: skip
        rotated = client.post("/api/devices/pack-1/command-key")
        assert rotated.status_code == 200, rotated.get_json()
        body = rotated.get_json()
        assert (body["kid"], body["generation"]) == (kid_2, 2)
        assert signing.decode_key(body["key"]) == signing.device_key(MASTER, "pack-1", 2)
        # the snippet is what the gateway's edge.toml needs, checked the way the agent loads it
        import tomllib

        edge = parse_config({"device_id": "pack-1", **tomllib.loads(body["edge_toml"])})
        assert dict(edge.commands.keys) == {kid_2: signing.device_key(MASTER, "pack-1", 2)}
        after = client.get("/api/devices/pack-1/command-key").get_json()
        assert (after["kid"], after["generation"]) == (kid_2, 2) and "key" not in after
        assert "pack-2" in problem_of(client.get("/api/devices/pack-2/command-key"), 404)["detail"]
        problem_of(client.post("/api/devices/pack-2/command-key"), 404)
    with keyed_client(database, None) as client:
        off = client.get("/api/devices/pack-1/command-key").get_json()
        assert off == {"device_id": "pack-1", "kid": None, "generation": 2, "signing": False}
        detail = problem_of(client.post("/api/devices/pack-1/command-key"), 503)["detail"]
        assert "VOLTRENT_COMMAND_KEY" in detail
    with psycopg.connect(database) as conn:
        row = conn.execute("SELECT command_key_generation FROM device WHERE id = 'pack-1'")
        assert row.fetchone()[0] == 2  # the 503 rotated nothing


def _cli(database: str, *args: str, key: str | None = MASTER_B64) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database}
    env.pop("VOLTRENT_COMMAND_KEY", None)
    if key is not None:
        env["VOLTRENT_COMMAND_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "launcher.cli", "cloud", "command-key", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_cli_prints_the_edge_toml_and_rotates(database):
    import tomllib

    with psycopg.connect(database, autocommit=True) as conn:
        add_device(conn, "pack-1")
    shown = _cli(database, "pack-1")
    assert shown.returncode == 0, shown.stderr
    keys = tomllib.loads(shown.stdout)["commands"]["keys"]
    assert keys == {signing.key_id(MASTER, 1): signing.encode_key(
        signing.device_key(MASTER, "pack-1", 1))}  # fmt: skip
    rotated = _cli(database, "pack-1", "--rotate")
    assert list(tomllib.loads(rotated.stdout)["commands"]["keys"]) == [signing.key_id(MASTER, 2)]
    unknown = _cli(database, "pack-9")
    assert unknown.returncode == 1 and "pack-9: not a registered device" in unknown.stderr
    off = _cli(database, "pack-1", key=None)
    assert off.returncode == 1 and "set VOLTRENT_COMMAND_KEY" in off.stderr


def test_the_doctor_says_whether_commands_are_signed(database, broker, capsys):
    from cloud.platform.doctor import run_doctor

    run_doctor(CloudConfig(database_url=database, mqtt=broker_settings(broker)))
    assert "off: set VOLTRENT_COMMAND_KEY" in capsys.readouterr().out
    config = CloudConfig(database_url=database, mqtt=broker_settings(broker), command_key=MASTER)
    run_doctor(config)
    out = capsys.readouterr().out
    assert f"command signing  on (kid fingerprint {signing.fingerprint(MASTER)})" in out
    assert MASTER_B64 not in out


def broker_settings(broker):
    from cloud.config import MqttSettings

    return MqttSettings(url=broker.url)
