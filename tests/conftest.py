"""Shared fixtures: a real MQTT broker for the tests that need one.

A throwaway Mosquitto (on PATH or in /usr/sbin) is started on a free port so tests can
stop and restart it. Where none is installed, the broker at $MQTT_URL (or
127.0.0.1:1883) is used if it answers; tests that must restart the broker are then
skipped with that reason.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from launcher.broker import MosquittoBroker, find_mosquitto, port_open


class ExternalBroker:
    """A broker we did not start and cannot restart."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 1883
        self.url = f"mqtt://{self.host}:{self.port}"

    def start(self) -> None:
        pytest.skip("needs a broker it can restart: install mosquitto")

    stop = kill = start


@pytest.fixture(scope="session")
def _session_broker(tmp_path_factory):
    if find_mosquitto():
        with MosquittoBroker(data_dir=tmp_path_factory.mktemp("mosquitto")) as broker:
            yield broker
        return
    external = ExternalBroker(os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883"))
    if not port_open(external.host, external.port):
        pytest.fail(f"no mosquitto on PATH and no broker answering at {external.url}")
    yield external


@pytest.fixture
def broker(_session_broker):
    """A running broker; a test that stopped it gets it back running afterwards."""
    yield _session_broker
    if isinstance(_session_broker, MosquittoBroker):
        _session_broker.start()


@pytest.fixture
def own_broker(tmp_path):
    """A broker of this test's own, for tests that stop it."""
    if not find_mosquitto():
        pytest.skip("needs a broker it can restart: install mosquitto")
    # persistent, so subscribers' sessions and queued messages survive a restart
    with MosquittoBroker(data_dir=tmp_path / "mosquitto", persistence=True) as broker:
        yield broker
