"""A throwaway Mosquitto broker for the simulator, the demo and the tests.

The broker's per-client queue is set explicitly: Mosquitto drops QoS 1 messages for a
client beyond ``max_queued_messages`` (1000 by default), which a fleet replaying its
backlog reaches easily.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from pathlib import Path

from launcher.server_process import ServerProcess

MAX_QUEUED_MESSAGES = 100_000


class BrokerError(RuntimeError):
    """The broker could not be started."""


def find_mosquitto() -> str | None:
    """The mosquitto executable, also where /usr/sbin is not on PATH."""
    return shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class MosquittoBroker(ServerProcess):
    """Mosquitto on 127.0.0.1:<port>, its files in ``data_dir``; anonymous unless given a
    ``password_file`` (and ``acl_file``) in ``listener_options`` and ``allow_anonymous=False``.

    ``stop()`` and ``start()`` keep the port, so clients reconnect to the same URL.
    """

    name = "mosquitto"

    def __init__(
        self,
        port: int | None = None,
        data_dir: str | Path | None = None,
        *,
        persistence: bool = False,
        max_queued_messages: int = MAX_QUEUED_MESSAGES,
        listener_options: tuple[str, ...] = (),
        allow_anonymous: bool = True,
    ) -> None:
        executable = find_mosquitto()
        if executable is None:
            raise BrokerError("mosquitto is not installed (apt-get install mosquitto)")
        self.executable = executable
        self.port = port or free_port()
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="voltrent-mosquitto-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.data_dir / "mosquitto.conf"
        super().__init__(self.data_dir / "mosquitto.log")
        lines = [
            f"listener {self.port} 127.0.0.1",
            *listener_options,  # e.g. cafile/certfile/keyfile, password_file
            f"allow_anonymous {'true' if allow_anonymous else 'false'}",
            f"persistence {'true' if persistence else 'false'}",
            f"persistence_location {self.data_dir}/",
            f"max_queued_messages {max_queued_messages}",
            "max_inflight_messages 100",
            # small messages (a command, its ack) go out at once instead of waiting up to
            # 40 ms for Nagle's algorithm and the peer's delayed ACK
            "set_tcp_nodelay true",
            # started as root, mosquitto drops to user "mosquitto" and cannot read our files
            *(["user root"] if os.geteuid() == 0 else []),
            "log_dest stderr",
            "log_type error",
            "log_type warning",
        ]
        self._options = listener_options
        self.config_path.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        scheme = "mqtts" if any(o.startswith("certfile") for o in self._options) else "mqtt"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> MosquittoBroker:
        if self.running:
            return self
        self._spawn([self.executable, "-c", str(self.config_path)])
        self._wait_ready(lambda: port_open("127.0.0.1", self.port, 0.2), timeout, BrokerError)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.data_dir)
