"""A server we run as our own child process (Mosquitto, amqtt, PostgreSQL): started in a
session of its own, waited for until it is ready, stopped politely, killed if it hangs.

Its own session: a Ctrl-C in the terminal reaches only the launcher, which stops the
clients first and the servers last, instead of everything at once.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self


class ServerProcess:
    """Base of the throwaway servers; subclasses say how to start and when it is ready."""

    name = "server"
    stop_signal = signal.SIGTERM
    stop_timeout_s = 5.0

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _spawn(self, command: list[str], *, user: str | None = None) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                user=user,
                start_new_session=True,
            )

    def _wait_ready(
        self, ready: Callable[[], bool], timeout: float, error: type[Exception]
    ) -> None:
        """Poll ``ready()`` until it is true; ``error`` with the log's end if the process
        exits or the time runs out."""
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise error(
                    f"{self.name} exited with {self._process.returncode}; its log"
                    f" ({self.log_path}) ends: {self.log_tail()}"
                )
            if ready():
                return
            time.sleep(0.05)
        self.stop()
        raise error(
            f"{self.name} was not ready within {timeout} s; its log ends: {self.log_tail()}"
        )

    def log_tail(self, characters: int = 600) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-characters:]
        except OSError as err:
            return f"(log unreadable: {err})"

    def stop(self) -> None:
        """The server's own clean shutdown signal; SIGKILL if it hangs."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(self.stop_signal)
        try:
            process.wait(self.stop_timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def kill(self) -> None:
        """Stop without a goodbye (SIGKILL), like a crashed host."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(5)

    def start(self, timeout: float = 10.0) -> Self:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
