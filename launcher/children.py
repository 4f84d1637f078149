"""The launcher's child processes: ``python -m launcher.cli <arguments>`` with a log file,
in a process group of their own, and a way to stop them all; and ``die_with_parent``, which
ties any child's life to its starter's."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger("voltrent.demo")

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# loaded here, in the parent: loading a library between fork and exec may deadlock
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def die_with_parent() -> None:
    """A ``preexec_fn``: the kernel sends the child SIGTERM when the process that started it
    ends, even by SIGKILL, so a killed demo or test run leaves no server or worker behind
    (each stops itself cleanly on SIGTERM). The kernel watches the starting *thread*: start
    such a child from one that lives as long as the child should (the main thread). Linux
    only; elsewhere it does nothing."""
    if _LIBC is None:
        return
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class ChildDied(RuntimeError):
    """A worker or API process stopped on its own (the message has its log's tail)."""


class ChildProcess:
    """A cloud process of ours, ``python -m launcher.cli <arguments>``, output to a log file.

    It runs in its own process group: a Ctrl-C in the terminal reaches only the demo, which
    stops the fleet first and then its children, and a stop reaches anything they started.
    """

    def __init__(self, name: str, arguments: list[str], env: dict[str, str], log_path: Path):
        self.name = name
        self.command = [sys.executable, "-m", "launcher.cli", *arguments]
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            # a reused --dir keeps earlier runs' logs; tail() shows this run's only
            self._log_offset = log_file.tell()
            started = time.strftime("%Y-%m-%d %H:%M:%S")
            log_file.write(f"--- voltrent demo: {self.name} started {started}\n".encode())
            log_file.flush()
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )

    def check(self) -> None:
        """Raise ChildDied if the process has stopped."""
        if self.process is None:
            return
        code = self.process.poll()
        if code is None:
            return
        how = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
        raise ChildDied(
            f"the {self.name} process {how}; the end of {self.log_path}:\n{self.tail()}"
        )

    def tail(self, lines: int = 20) -> str:
        """The last lines this run wrote to the log."""
        try:
            with self.log_path.open("rb") as log_file:
                log_file.seek(self._log_offset)
                text = log_file.read().decode(errors="replace")
        except OSError as err:
            return f"(log unreadable: {err})"
        return "\n".join("    " + line for line in text.splitlines()[-lines:])

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)


def stop_all(children: list[ChildProcess], timeout_s: float = 10.0) -> None:
    """SIGTERM to every child, SIGKILL to those still running after ``timeout_s``."""
    for child in children:
        child.signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("the %s did not stop within %.0f s: killing it", child.name, timeout_s)
            child.signal(signal.SIGKILL)
            child.process.wait(5)
