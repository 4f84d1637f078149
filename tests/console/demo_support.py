"""One running demo shared by every xdist worker of a test session, for the browser tests
(no tests here).

The first worker that needs it starts ``voltrent demo`` (12 packs reporting every second,
a fresh database on the test PostgreSQL, the demo's own locked-down broker) and notes it in
a state file beside a lock file in the session's shared temporary directory; the others
find it there. Each worker adds its pid to the state's users; the last one out stops it.

The demo dies with the worker that started it (``die_with_parent``), so that worker waits
until the others are done with it before it leaves, and a run killed midway leaves nothing
behind: the demo stops its own children on SIGTERM, and they too die with it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from launcher.children import die_with_parent
from launcher.demo_access import ADMIN_LOGIN
from launcher.demo_tenancy import COMPANY_ADMIN, STORES, password_file
from tests.postgres_support import admin, with_database

DEVICES = 12
START_TIMEOUT_S = 180  # migrations, the business through the API, then every pack's data
STOP_TIMEOUT_S = 30
# how long the worker that started the demo waits for the others to finish with it
LAST_USER_TIMEOUT_S = 900
STATE = "voltrent-demo.json"
DATABASE_PREFIX = "voltrent_demo_"  # then the starter's pid
LOCK = "voltrent-demo.lock"
CONSOLE_LINE = re.compile(r"Console +(http://\S+/)\n")

DEVICE_HOMES = """
SELECT d.id, d.operator_id, o.name AS operator, d.store_id, s.name AS store
FROM device d JOIN operator o ON o.id = d.operator_id LEFT JOIN store s ON s.id = d.store_id
ORDER BY d.id
"""
ACCOUNTS = "SELECT login, operator_id, store_id FROM account ORDER BY id"
EXPIRED_LEASE = "SELECT device_id FROM lease_term WHERE leased_until < now() ORDER BY device_id"
ALL_REPORTING = """
SELECT count(*) FROM device_state WHERE online AND lat IS NOT NULL AND soc_percent IS NOT NULL
"""


@dataclass(frozen=True)
class Account:
    login: str
    password: str
    operator_id: int
    store_id: int | None


@dataclass(frozen=True)
class DeviceHome:
    operator_id: int
    operator: str
    store_id: int | None
    store: str | None


@dataclass(frozen=True)
class RunningDemo:
    """What a test knows of the shared demo.

    ``accounts`` by role: ``admin`` (the platform's administrator), ``company`` (the rental
    company's administrator) and one per store by its key (``keji``, ``houhai``: staff of
    that store only). ``devices``: every device id and where it belongs. ``expired_lease``:
    the packs whose lease ran out (their power is cut: pick another one to cut by hand);
    ``low_soc``: the pack that raises a low_soc alarm soon after the start."""

    base_url: str  # the console, ending in /
    api_url: str  # ending in /api
    database_url: str
    work_dir: Path
    accounts: dict[str, Account]
    devices: dict[str, DeviceHome]
    expired_lease: list[str]
    low_soc: str

    def devices_of(self, key: str) -> list[str]:
        """The device ids ``accounts[key]`` may see: all of its operator's subtree for an
        operator's account, its store's for a store's."""
        account = self.accounts[key]
        if account.operator_id == 1 and account.store_id is None:
            return sorted(self.devices)
        if account.store_id is None:
            mine = [d for d, h in self.devices.items() if h.operator_id == account.operator_id]
        else:
            mine = [d for d, h in self.devices.items() if h.store_id == account.store_id]
        return sorted(mine)

    @contextlib.contextmanager
    def store(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection to the demo's database (autocommit), to read what a page changed."""
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            yield conn


class SharedDemo:
    """The demo of a test session, shared through ``root`` (a directory all workers see)."""

    def __init__(self, root: Path, pg_server: str) -> None:
        self.root = root
        self.pg_server = pg_server
        self.state_path = root / STATE
        self._process: subprocess.Popen[bytes] | None = None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any] | None]:
        """The state (None: no demo runs) while holding the lock."""
        with (self.root / LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = None
                if self.state_path.exists():
                    state = json.loads(self.state_path.read_text())
                if state is not None and not _alive(state["pid"]):
                    state = None  # a demo whose starter died with it
                yield state
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def join(self) -> RunningDemo:
        """The running demo, started if none runs; this process counts as a user."""
        with self._locked() as state:
            if state is None:
                state = self._start()
            state["users"] = [p for p in state["users"] if _alive(p)] + [os.getpid()]
            self._write(state)
        return _describe(state)

    def leave(self) -> None:
        """No longer a user; the last user stops the demo. The worker that started it waits
        for the others first (the demo dies with it)."""
        deadline = time.monotonic() + LAST_USER_TIMEOUT_S
        while True:
            with self._locked() as state:
                if state is None:
                    return
                users = [p for p in state["users"] if _alive(p) and p != os.getpid()]
                state["users"] = users
                self._write(state)
                starter = state["starter"] == os.getpid()
                if not users or (starter and time.monotonic() > deadline):
                    _stop(state, self._process)
                    self.state_path.unlink()
                    _drop_database(self.pg_server, state["database"])
                    return
                if not starter:
                    return
            time.sleep(1)

    def _write(self, state: dict[str, Any]) -> None:
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state))
        temporary.replace(self.state_path)

    def _start(self) -> dict[str, Any]:
        database = f"{DATABASE_PREFIX}{os.getpid()}_{time.monotonic_ns()}"
        with admin(self.pg_server) as conn:
            _drop_orphans(conn)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        work_dir = self.root / f"demo-{os.getpid()}"
        log_path = work_dir.with_suffix(".log")
        database_url = with_database(self.pg_server, database)
        env = {
            name: value
            for name, value in os.environ.items()
            if name not in ("MQTT_URL", "MQTT_PROTOCOL") and not name.startswith("VOLTRENT_")
        }
        env["DATABASE_URL"] = database_url
        command = [sys.executable, "-m", "launcher.cli", "demo", "--dir", str(work_dir),
                   "--devices", str(DEVICES), "--report-interval", "1",
                   "--upload-interval", "1", "--api-port", "0"]  # fmt: skip
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent,
            )  # fmt: skip
        state = {
            "pid": self._process.pid, "starter": os.getpid(), "users": [],
            "database": database, "database_url": database_url,
            "work_dir": str(work_dir), "log": str(log_path),
        }  # fmt: skip
        try:
            state["base_url"] = self._wait_for_console(log_path)
            _wait_for_reports(database_url, log_path, self._process)
        except BaseException:
            _stop(state, self._process)
            _drop_database(self.pg_server, database)
            raise
        return state

    def _wait_for_console(self, log_path: Path) -> str:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            found = CONSOLE_LINE.search(log_path.read_text(errors="replace"))
            if found:
                return found[1]
            if self._process.poll() is not None:
                raise RuntimeError(f"the demo exited with {self._process.returncode}:"
                                   f"\n{_tail(log_path)}")  # fmt: skip
            time.sleep(0.2)
        raise RuntimeError(f"no Console line within {START_TIMEOUT_S} s:\n{_tail(log_path)}")


def _wait_for_reports(database_url: str, log_path: Path, process: subprocess.Popen[bytes]) -> None:
    """Until every pack has reported a position and a charge lately (the map shows all)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(ALL_REPORTING).fetchone()
            if row is not None and row[0] >= DEVICES:
                return
            if process.poll() is not None:
                raise RuntimeError(f"the demo exited with {process.returncode}:"
                                   f"\n{_tail(log_path)}")  # fmt: skip
            time.sleep(0.5)
    raise RuntimeError(f"not every pack reported within {START_TIMEOUT_S} s:\n{_tail(log_path)}")


def _describe(state: dict[str, Any]) -> RunningDemo:
    work_dir = Path(state["work_dir"])
    with psycopg.connect(state["database_url"], autocommit=True) as conn:
        homes = {row[0]: DeviceHome(*row[1:]) for row in conn.execute(DEVICE_HOMES)}
        places = {row[0]: row[1:] for row in conn.execute(ACCOUNTS)}
        expired = [row[0] for row in conn.execute(EXPIRED_LEASE)]
    logins = {"admin": ADMIN_LOGIN, "company": COMPANY_ADMIN}
    logins |= {plan.key: plan.staff_login for plan in STORES}
    accounts = {}
    for key, login in logins.items():
        path = password_file(work_dir, login)
        if login == ADMIN_LOGIN:
            path = work_dir / "admin-password"  # launcher/demo_access.py's
        operator_id, store_id = places[login]
        accounts[key] = Account(login, path.read_text().strip(), operator_id, store_id)
    return RunningDemo(
        base_url=state["base_url"], api_url=state["base_url"] + "api",
        database_url=state["database_url"], work_dir=work_dir, accounts=accounts,
        devices=homes, expired_lease=expired, low_soc=f"sim-{DEVICES:04d}",
    )  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (our own child, exited, not yet waited for) counts as gone
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0] != "Z"
    return True


def _stop(state: dict[str, Any], process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM to the demo (it stops its children), SIGKILL to its group if it hangs."""
    pid = state["pid"]
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _alive(pid) and time.monotonic() < deadline:
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(0.2)
        else:
            time.sleep(0.2)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)  # its own group: start_new_session
    if process is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)


def _drop_orphans(conn: psycopg.Connection[Any]) -> None:
    """Drop the databases of demos whose starter is gone (a run killed midway)."""
    names = conn.execute(
        "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (DATABASE_PREFIX,)
    ).fetchall()
    for (name,) in names:
        starter = name.removeprefix(DATABASE_PREFIX).split("_")[0]
        if starter.isdigit() and not _alive(int(starter)):
            _drop(conn, name)


def _drop_database(pg_server: str, name: str) -> None:
    with admin(pg_server) as conn:
        _drop(conn, name)


def _drop(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
