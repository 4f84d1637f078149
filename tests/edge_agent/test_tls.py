"""The agent over TLS with broker credentials, against a real Mosquitto."""

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from edge_agent.agent import EdgeAgent
from edge_agent.config import parse_config
from launcher.broker import MosquittoBroker, find_mosquitto

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(
        not (find_mosquitto() and shutil.which("openssl") and shutil.which("mosquitto_passwd")),
        reason="needs mosquitto, mosquitto_passwd and openssl",
    ),
]


def make_certificates(directory: Path) -> dict[str, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1."""
    files = {name: directory / f"{name}.pem" for name in ("ca", "ca-key", "server", "server-key")}
    run = lambda *args: subprocess.run(args, check=True, capture_output=True)  # noqa: E731
    key, ca = files["ca-key"], files["ca"]
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=voltrent test CA", "-keyout", key, "-out", ca)  # fmt: skip
    csr = directory / "server.csr"
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", files["server-key"], "-out", csr)  # fmt: skip
    extensions = directory / "san.cnf"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    server = files["server"]
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", key,
        "-CAcreateserial", "-days", "2", "-extfile", extensions, "-out", server)  # fmt: skip
    return files


def run_agent_until_connected(config, timeout: float = 10.0) -> tuple[bool, dict]:
    async def scenario():
        agent = EdgeAgent(config)
        task = asyncio.create_task(agent.run())
        try:
            async with asyncio.timeout(timeout):
                await agent.uplink.connected.wait()
            return True, dict(agent.uplink.health.errors)
        except TimeoutError:
            return False, dict(agent.uplink.health.errors)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            agent.close()

    return asyncio.run(scenario())


@pytest.fixture
def tls_broker(tmp_path):
    certs = make_certificates(tmp_path)
    passwords = tmp_path / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", passwords, "pack-0001", "s3cret"],
        check=True,
        capture_output=True,
    )
    options = (
        f"cafile {certs['ca']}",
        f"certfile {certs['server']}",
        f"keyfile {certs['server-key']}",
        f"password_file {passwords}",
    )
    with MosquittoBroker(
        data_dir=tmp_path / "broker", listener_options=options, allow_anonymous=False
    ) as broker:
        yield broker, certs


def config_for(broker, certs, tmp_path, **mqtt):
    return parse_config(
        {
            "device_id": "pack-0001",
            "mqtt": {"url": broker.url, "tls": {"ca_file": str(certs["ca"])}, **mqtt},
            "outbox": {"path": str(tmp_path / "outbox.db")},
        }
    )


def test_agent_connects_over_tls_with_password_file(tls_broker, tmp_path):
    broker, certs = tls_broker
    secret = tmp_path / "mqtt-password"
    secret.write_text("s3cret\n")
    assert broker.url.startswith("mqtts://")
    config = config_for(broker, certs, tmp_path, username="pack-0001", password_file=str(secret))
    connected, errors = run_agent_until_connected(config)
    assert connected, errors


def test_wrong_password_is_refused_and_retried_not_fatal(tls_broker, tmp_path):
    broker, certs = tls_broker
    config = config_for(broker, certs, tmp_path, username="pack-0001", password="wrong")
    connected, errors = run_agent_until_connected(config, timeout=3.0)
    assert not connected
    assert errors["disconnect"] >= 1


def test_unknown_certificate_authority_is_refused(tls_broker, tmp_path):
    broker, _ = tls_broker
    other = make_certificates(
        tmp_path / "other" if (tmp_path / "other").mkdir() is None else tmp_path
    )
    config = config_for(broker, other, tmp_path, username="pack-0001", password="s3cret")
    connected, errors = run_agent_until_connected(config, timeout=3.0)
    assert not connected
    assert errors["disconnect"] >= 1
