"""Both store layouts for the tests: the partitioned one on the usual server (tests/conftest.py)
and the TimescaleDB one on a throwaway cluster that preloads the extension, started once per
session where this machine has TimescaleDB for PostgreSQL 15 (``./run-tests`` installs the
build in ../shared/timescaledb when it can). Where it has not, the TimescaleDB cases are
skipped, saying why.

A test takes ``store_layout`` (parametrized: "partitioned", "timescale") with
``layout_database`` (a migrated database of that layout of its own) or
``layout_empty_database`` (an empty one on the server that layout needs). A module whose
``database`` fixture returns ``layout_database`` runs every test on both; ``partitioned_only``
keeps one of them on the plain layout.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from launcher.broker import free_port

LAYOUTS = ("partitioned", "timescale")
# For a test of a module that runs on both layouts which needs only the plain one.
partitioned_only = pytest.mark.parametrize("store_layout", ["partitioned"])
_SERVICE_USER = "postgres"  # PostgreSQL refuses to run as root


def _pg_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if not pg_config:
        return None
    out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
    return Path(out.stdout.strip()) if out.returncode == 0 else None


def timescaledb_missing() -> str | None:
    """Why no TimescaleDB cluster can be started here, or None."""
    pg_config = shutil.which("pg_config")
    if not pg_config:
        return "no pg_config on PATH (PostgreSQL's server package)"
    sharedir = subprocess.run(
        [pg_config, "--sharedir"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not Path(sharedir, "extension", "timescaledb.control").exists():
        return (
            f"TimescaleDB is not installed into {sharedir} (./run-tests installs"
            " ../shared/timescaledb as root, or install the timescaledb package)"
        )
    bindir = _pg_bindir()
    if bindir is None or not (bindir / "initdb").exists() or not (bindir / "pg_ctl").exists():
        return "no initdb/pg_ctl beside pg_config"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(_SERVICE_USER)
        except KeyError:
            return f"running as root and there is no user {_SERVICE_USER!r} to run PostgreSQL as"
    return None


class TimescaleCluster:
    """initdb + pg_ctl in a temporary directory under /tmp, on a free port, with TimescaleDB
    preloaded; run as ``postgres`` when we are root."""

    def __init__(self) -> None:
        self.bindir = _pg_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="voltrent-tsdb-", dir="/tmp"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = _SERVICE_USER if os.geteuid() == 0 else None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        assert self.bindir is not None  # timescaledb_missing() found it
        done = subprocess.run(
            [str(self.bindir / command[0]), *command[1:]],
            capture_output=True, text=True, user=self.user, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {(done.stderr or done.stdout)[-800:]}")

    def start(self) -> TimescaleCluster:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--encoding=UTF8", "--no-instructions")  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            " -c shared_preload_libraries=timescaledb -c timescaledb.telemetry_level=off"
            # no background jobs (compression, retention): the tests' rows stay as written,
            # and a database with the extension can be a template only while no job is
            # connected to it
            " -c timescaledb.max_background_workers=0 -c max_connections=100"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "-t", "60", "start")  # fmt: skip
        return self

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def timescale_server():
    """The URL (database ``postgres``) of a throwaway cluster that preloads TimescaleDB."""
    why_not = timescaledb_missing()
    if why_not:
        pytest.skip(f"no TimescaleDB store layout: {why_not}")
    cluster = TimescaleCluster().start()
    try:
        yield cluster.url()
    finally:
        cluster.stop()


_numbers = iter(range(1, 1_000_000))


def _admin(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def _with_database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


@contextmanager
def _new_database(server: str, prefix: str, template: str | None = None) -> Iterator[str]:
    name = f"{prefix}_{os.getpid()}_{next(_numbers)}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with _admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    yield _with_database(server, name)
    with _admin(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def timescale_template(timescale_server):
    """A database migrated with the TimescaleDB layout, cloned for each test."""
    from cloud.store.migrate import migrate

    with _new_database(timescale_server, "voltrent_template") as url:
        migrate(url, layout="timescale")
        yield urlsplit(url).path.lstrip("/")


@pytest.fixture(params=LAYOUTS)
def store_layout(request) -> str:
    """Each store layout in turn."""
    return request.param


@pytest.fixture
def layout_database(request, store_layout):
    """A fresh database of this test's own, migrated with ``store_layout``: on the plain
    layout the usual ``database`` (the conftest's also in a module whose own ``database``
    returns this fixture: pytest hands an overriding fixture's dependents the overridden one)."""
    if store_layout != "timescale":
        yield request.getfixturevalue("database")
        return
    server = request.getfixturevalue("timescale_server")
    template = request.getfixturevalue("timescale_template")
    with _new_database(server, "voltrent_test", template) as url:
        yield url


@pytest.fixture
def layout_empty_database(request, store_layout):
    """An empty database on the server ``store_layout`` needs (for migration tests)."""
    if store_layout != "timescale":
        yield request.getfixturevalue("empty_database")
        return
    with _new_database(request.getfixturevalue("timescale_server"), "voltrent_empty") as url:
        yield url
