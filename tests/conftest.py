"""Shared fixtures: a real MQTT broker and a real PostgreSQL for the tests that need them.

A throwaway Mosquitto (on PATH or in /usr/sbin) is started on a free port so tests can
stop and restart it. Where none is installed, the broker at $MQTT_URL (or
127.0.0.1:1883) is used if it answers; tests that must restart the broker are then
skipped with that reason.

Modules that hold no tests but what tests share are named ``*_support.py`` (the tenancy
builder is tests/cloud/tenancy_support.py); tests/edge_agent/outbox_writer.py is a program
a test runs, not a module it imports. ``./run-tests --fast`` is the daily loop.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from launcher.broker import MosquittoBroker, find_mosquitto, port_open

# a test that uses one of these fixtures gets the marker, so that -m selects by what it needs
_MARKED_BY_FIXTURE = {
    "broker": {"broker", "own_broker", "_session_broker"},
    "postgres": {
        "pg_server",
        "database",
        "module_database",
        "empty_database",
        "store_template",
        "layout_database",
        "layout_empty_database",
    },
    "browser": {"browser", "demo"},  # tests/console/conftest.py: Chromium, the running demo
}


def pytest_collection_modifyitems(items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in _MARKED_BY_FIXTURE.items():
            if used & fixtures and not item.get_closest_marker(marker):
                item.add_marker(marker)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "timescale" in callspec.params.values():
            item.add_marker("timescale")  # a case on the TimescaleDB layout


def pytest_configure(config):
    """Hypothesis' too-slow health check and its per-example deadline measure the machine,
    not the code: on a loaded one (xdist's workers on two cores) they fail tests that are
    merely slowed down, and tests never assert wall-clock time."""
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:
        return
    from tests.hypothesis_support import examples

    settings.register_profile(
        "voltrent",
        suppress_health_check=[HealthCheck.too_slow],
        deadline=None,
        max_examples=examples(),  # fewer in the fast loop (tests/hypothesis_support.py)
    )
    settings.load_profile("voltrent")


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
    """A running broker; a test that stopped it gets it back running afterwards, and
    what it left retained is removed (the next test's subscribers would get it)."""
    yield _session_broker
    if isinstance(_session_broker, MosquittoBroker):
        from tests.mqtt_support import clear_retained

        _session_broker.start()
        clear_retained(_session_broker.port)


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


@pytest.fixture(scope="session")
def _databases(pg_server):
    from tests.postgres_support import Databases

    databases = Databases(pg_server)
    databases.make_template()
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def store_template(_databases):
    """The name of the migrated database that test databases are cloned from."""
    return _databases.template_name


@pytest.fixture
def database(_databases):
    """The URL of a fresh, migrated database of this test's own (tests/postgres_support.py
    puts it back to the template's state afterwards, for the next test under a new name)."""
    with _databases.fresh() as url:
        yield url


@pytest.fixture(scope="module")
def module_database(_databases):
    """Like ``database``, shared by the tests of one module (a fuzz's hundreds of cases)."""
    with _databases.fresh() as url:
        yield url


_empty = iter(range(1, 1_000_000))


@pytest.fixture
def empty_database(pg_server):
    """The URL of a fresh database with nothing in it (for migration tests)."""
    from tests.postgres_support import admin, with_database

    name = f"voltrent_empty_{os.getpid()}_{next(_empty)}"
    with admin(pg_server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield with_database(pg_server, name)
    with admin(pg_server) as conn:
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
