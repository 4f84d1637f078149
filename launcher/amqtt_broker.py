"""A pure-Python MQTT 3.1.1 broker (amqtt) for machines without Mosquitto.

``AmqttBroker`` has the shape of ``MosquittoBroker``: it runs amqtt in a child process of
ours (``python -m launcher.amqtt_broker --port N``) on 127.0.0.1, so stopping it is
stopping a process, exactly as with Mosquitto. Given a password file (the demo always gives
one), it lets in only the accounts in it, under the same topic rules as Mosquitto's ACL
(amqtt_auth.py); without one, every client gets in (the broker's own tests).

What amqtt 0.12 does not do that Mosquitto does: MQTT 5 (so no shared subscriptions: one
cloud worker), and persistence (sessions and retained messages live in memory and are
gone when the broker stops).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from launcher.broker import BrokerError, MosquittoBroker, find_mosquitto, free_port
from launcher.server_process import ServerProcess

if TYPE_CHECKING:
    from cloud.platform.broker_files import Written

log = logging.getLogger("voltrent.amqtt")

READY = "amqtt listening on"


class AmqttBroker(ServerProcess):
    """amqtt on 127.0.0.1:<port> in a child process, its log in ``data_dir``.

    ``stop()`` and ``start()`` keep the port, so clients reconnect to the same URL (but,
    unlike a persistent Mosquitto, sessions and retained messages do not survive).
    """

    name = "amqtt"

    def __init__(
        self,
        port: int | None = None,
        data_dir: str | Path | None = None,
        *,
        password_file: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        self.password_file = password_file
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="voltrent-amqtt-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(self.data_dir / "amqtt.log")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> AmqttBroker:
        """Start the child and wait until it accepts connections; BrokerError says why not."""
        if self.running:
            return self
        # readiness is the child's own "listening" line: probing the port instead would
        # leave an error about an empty connection in amqtt's log
        ready_line = f"{READY} 127.0.0.1:{self.port}".encode()
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        command = [sys.executable, "-m", "launcher.amqtt_broker", "--port", str(self.port)]
        if self.password_file is not None:
            command += ["--password-file", str(self.password_file)]
        self._spawn(command)

        def listening() -> bool:
            with self.log_path.open("rb") as log_file:
                log_file.seek(offset)
                return ready_line in log_file.read()

        self._wait_ready(listening, timeout, BrokerError)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.data_dir)


def start_broker(
    work_dir: str | Path, kind: str = "auto", accounts: Written | None = None
) -> MosquittoBroker | AmqttBroker:
    """A started throwaway broker with its files under ``work_dir``: Mosquitto when it is
    installed (or ``kind="mosquitto"``), else amqtt (or ``kind="amqtt"``). With
    ``accounts`` (the files `voltrent cloud broker-config` writes) it lets in only those
    accounts, each where the ACL allows; without, anyone.

    The caller stops it (``stop()``); ``mqtt_protocol(broker)`` says which MQTT version
    it speaks.
    """
    return choose_broker(work_dir, kind, accounts).start()


def choose_broker(
    work_dir: str | Path, kind: str = "auto", accounts: Written | None = None
) -> MosquittoBroker | AmqttBroker:
    """The broker start_broker() would start, not started yet (so that a caller can
    arrange its stop before starting it)."""
    if kind not in ("auto", "mosquitto", "amqtt"):
        raise ValueError(f"broker kind: expected auto, mosquitto or amqtt, got {kind!r}")
    if kind == "mosquitto" or (kind == "auto" and find_mosquitto()):
        if accounts is None:
            return MosquittoBroker(data_dir=work_dir)
        options = (f"password_file {accounts.password_file}", f"acl_file {accounts.acl_file}")
        return MosquittoBroker(data_dir=work_dir, listener_options=options, allow_anonymous=False)
    if importlib.util.find_spec("amqtt") is None:
        raise BrokerError(
            "no MQTT broker: install mosquitto (apt-get install mosquitto), or the demo"
            " extra for the pure-Python fallback (pip install 'voltrent[demo]'), or set MQTT_URL"
        )
    password_file = accounts.password_file if accounts is not None else None
    return AmqttBroker(data_dir=work_dir, password_file=password_file)


def mqtt_protocol(broker: MosquittoBroker | AmqttBroker) -> str:
    """The MQTT version cloud clients should speak to a broker of ours: "5" or "3.1.1"."""
    return "3.1.1" if isinstance(broker, AmqttBroker) else "5"


# --- the child process ------------------------------------------------------------------

try:
    from amqtt.plugins.base import BaseAuthPlugin
except ImportError:  # the parent side works without amqtt; only the child needs it
    BaseAuthPlugin = object  # type: ignore[assignment,misc]


class OpenAuthPlugin(BaseAuthPlugin):  # type: ignore[misc,valid-type]
    """Lets every client in, as a named client rather than an anonymous one.

    amqtt's own AnonymousAuthPlugin marks each session anonymous, and amqtt keeps no
    queued messages for anonymous sessions: a worker's or a box's persistent session
    (clean_session=False) would lose everything published while it was away.
    """

    async def authenticate(self, *, session: object) -> bool:
        return True


def broker_config(port: int, password_file: str | None = None) -> dict:
    """amqtt's configuration: one TCP listener on 127.0.0.1, our plugins only (no $SYS
    publisher, no per-packet logging): the password file's accounts and the ACL's topic
    rules, or without a password file, everyone everywhere."""
    plugins: dict[str, dict] = {"launcher.amqtt_broker.OpenAuthPlugin": {}}
    if password_file is not None:
        plugins = {
            "launcher.amqtt_auth.PasswordFileAuth": {"password_file": password_file},
            "launcher.amqtt_auth.TopicRules": {},
        }
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": plugins,
    }


async def serve(port: int, password_file: str | None = None) -> None:
    """Run the broker until SIGTERM or SIGINT, then shut it down cleanly."""
    from launcher.amqtt_auth import CheckedBroker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    broker = CheckedBroker(broker_config(port, password_file))
    await broker.start()
    log.info("%s 127.0.0.1:%d", READY, port)
    await stop.wait()
    await broker.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="amqtt broker on 127.0.0.1 (child process)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--password-file", default=None, help="accounts (else: anyone)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    log.setLevel(logging.INFO)
    asyncio.run(serve(args.port, args.password_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
