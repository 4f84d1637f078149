"""Shared fixtures: a real MQTT broker and a real PostgreSQL for the tests that need them.

A throwaway Mosquitto (on PATH or in /usr/sbin) is started on a free port so tests can
stop and restart it. Where none is installed, the broker at $MQTT_URL (or
127.0.0.1:1883) is used if it answers; tests that must restart the broker are then
skipped with that reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
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


# --- PostgreSQL -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """A PostgreSQL server URL (database `postgres`): $DATABASE_URL, the machine's server at
    127.0.0.1:5432, or else an embedded one started for this session."""
    from launcher.postgres import EmbeddedPostgres

    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    if port_open("127.0.0.1", 5432):
        yield "postgresql://postgres@127.0.0.1:5432/postgres"
        return
    with EmbeddedPostgres(tmp_path_factory.mktemp("postgres") / "data") as server:
        yield server.url()


def _admin(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"/{name}").geturl()


@pytest.fixture(scope="session")
def store_template(pg_server):
    """A migrated database that each test's database is cloned from (fast: no migrate)."""
    from cloud.store.migrate import migrate

    name = f"voltrent_template_{os.getpid()}"
    with _admin(pg_server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    migrate(_with_database(pg_server, name), layout="partitioned")
    yield name
    with _admin(pg_server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_databases = iter(range(1, 1_000_000))


@contextmanager
def _cloned(pg_server: str, template: str) -> Iterator[str]:
    name = f"voltrent_test_{os.getpid()}_{next(_databases)}"
    with _admin(pg_server) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _with_database(pg_server, name)
    with _admin(pg_server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database(pg_server, store_template):
    """The URL of a fresh, migrated database of this test's own, dropped afterwards."""
    with _cloned(pg_server, store_template) as url:
        yield url


@pytest.fixture(scope="module")
def module_database(pg_server, store_template):
    """Like ``database``, shared by the tests of one module (a fuzz's hundreds of cases)."""
    with _cloned(pg_server, store_template) as url:
        yield url


@pytest.fixture
def empty_database(pg_server):
    """The URL of a fresh database with nothing in it (for migration tests)."""
    name = f"voltrent_empty_{os.getpid()}_{next(_databases)}"
    with _admin(pg_server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(pg_server, name)
    with _admin(pg_server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Both store layouts: store_layout, layout_database, layout_empty_database (TimescaleDB on a
# throwaway cluster of its own).
from tests.store_layouts import (  # noqa: E402, F401
    layout_database,
    layout_empty_database,
    store_layout,
    timescale_server,
    timescale_template,
)

# --- the API's answers ------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _api_answers_checked_against_its_document():
    """Every Flask test client checks each answer against the API's OpenAPI document
    (tests/cloud/conformance_support.py), so no test can get an undocumented one."""
    try:
        from flask import Flask

        from tests.cloud.conformance_support import ConformingClient
    except ImportError:  # an install without the cloud extras: no API to check
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "test_client_class", ConformingClient)
        yield
