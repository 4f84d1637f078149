"""Shared parts of the benchmarks: the machine, a TOML writer, the simulated hardware on
real ptys, the edge agent as its own process, and an MQTT subscriber that counts samples.

Benchmarks print numbers; they are not tests and assert nothing about time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiomqtt

from firmware_sim.can_port import SimulatedCanDevices
from firmware_sim.device import DeviceSpec, SimulatedDevice
from firmware_sim.serial_pty import VirtualSerialPort
from protocols.contract import Channel, Topic
from protocols.contract.codec import parse_json

BIN = Path(sys.executable).parent  # .venv/bin: voltrent-edge lives next to the interpreter
REPO_ROOT = Path(__file__).resolve().parent.parent


# -- the machine and the output ---------------------------------------------------------
def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def print_header(title: str, args: argparse.Namespace | None = None) -> None:
    info = machine()
    print(f"== {title}")
    print(f"   machine: nproc={info['nproc']}, cpu={info['cpu']}, python {info['python']}")
    if args is not None and getattr(args, "quick", False):
        print("   --quick: shortened run, numbers are rougher")


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """A Markdown table, so the output pastes into BENCHMARKS.md as it is."""
    text = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in text:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so the finally blocks stop the agent and the broker


def base_parser(description: str) -> argparse.ArgumentParser:
    signal.signal(signal.SIGTERM, _terminate)
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a ~20 s run with rougher numbers")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    return parser


@contextlib.contextmanager
def work_directory(keep: bool):
    path = Path(tempfile.mkdtemp(prefix="voltrent-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"   work directory kept: {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


# -- configuration ----------------------------------------------------------------------
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"no TOML form for {value!r}")


def to_toml(document: dict[str, Any], prefix: str = "") -> str:
    """Enough TOML for an agent config: scalars and nested tables."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in document.items() if not isinstance(v, dict)]
    for key, value in document.items():
        if isinstance(value, dict):
            name = f"{prefix}.{key}" if prefix else key
            lines.append(f"\n[{name}]")
            lines.append(to_toml(value, name))
    return "\n".join(line for line in lines if line)


def agent_document(
    device_id: str,
    mqtt_url: str,
    outbox_path: Path,
    *,
    reporting: dict[str, Any] | None = None,
    sources: dict[str, Any] | None = None,
    keepalive_s: int | None = None,
) -> dict[str, Any]:
    """The agent's TOML document; keys left out keep the product defaults."""
    mqtt: dict[str, Any] = {"url": mqtt_url}
    if keepalive_s is not None:
        mqtt["keepalive_s"] = keepalive_s
    document: dict[str, Any] = {
        "device_id": device_id,
        "mqtt": mqtt,
        "outbox": {"path": str(outbox_path)},
    }
    if reporting:
        document["reporting"] = reporting
    if sources:
        document["sources"] = sources
    return document


# -- the simulated hardware: BMS and GNSS on ptys, CAN as slcan on a pty ---------------
class SimulatedHardware:
    """One simulated vehicle whose wires cross process boundaries: the JBD BMS and the
    GNSS module on ptys, the CAN nodes behind an slcan adapter on a third pty (python-can's
    virtual bus only works inside one process)."""

    def __init__(self, work_dir: Path, device_id: str = "bench-0001", *, can: bool = True):
        spec = DeviceSpec(device_id=device_id, seed=7, cells_in_series=16, can=False)
        self.device = SimulatedDevice(spec, work_dir / "ports")
        self.can_port = VirtualSerialPort(work_dir / "ports" / "can") if can else None
        self.can_devices = (
            SimulatedCanDevices(self.device.can_signals, serial_port=self.can_port, seed=7)
            if self.can_port is not None
            else None
        )

    def sources(self) -> dict[str, Any]:
        """The [sources] table an installer would write for this hardware."""
        sources: dict[str, Any] = {
            "bms": {"type": "jbd", "port": self.device.bms_port_path},
            "gnss": {"type": "nmea", "port": self.device.gnss_port_path},
        }
        if self.can_port is not None:
            sources["vehicle"] = {
                "type": "can",
                "interface": "slcan",
                "channel": self.can_port.path,
                "bitrate": 500_000,
            }
        return sources

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.device.run())
            if self.can_devices is not None:
                group.create_task(self.can_devices.run())

    def counters(self) -> dict[str, int]:
        out = {
            "bms_bytes_dropped": self.device.bms_port.bytes_dropped,
            "gnss_bytes_dropped": self.device.gnss_port.bytes_dropped,
        }
        if self.can_devices is not None and self.can_port is not None:
            out["can_frames_sent"] = self.can_devices.frames_sent
            out["can_frames_dropped"] = self.can_devices.frames_dropped
            out["can_bytes_dropped"] = self.can_port.bytes_dropped
        return out

    def close(self) -> None:
        self.device.close()
        if self.can_port is not None:
            self.can_port.close()


# -- the agent as its own process -------------------------------------------------------
def compile_project() -> None:
    """Write the project's bytecode, as installing a wheel does on a gateway box.

    An editable checkout (and PYTHONDONTWRITEBYTECODE) leaves none, and the agent would
    compile every module, the 150 KB generated validators among them, at every start:
    several MiB of peak RSS a real installation never pays.
    """
    import compileall

    for package in ("protocols", "edge_agent"):
        compileall.compile_dir(str(REPO_ROOT / package), quiet=1)


# -- the agent as its own process -------------------------------------------------------
class AgentProcess:
    """``voltrent-edge --config FILE``, the real daemon, with its log in the work dir."""

    def __init__(self, work_dir: Path, document: dict[str, Any], name: str = "agent") -> None:
        self.config_path = work_dir / f"{name}.toml"
        self.config_path.write_text(to_toml(document) + "\n")
        self.log_path = work_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def start(
        self,
        extra_env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start the daemon (``command`` replaces ``voltrent-edge --config FILE``: see
        ``_diagnostics`` for profiled and what-if variants)."""
        command = command or [str(BIN / "voltrent-edge"), "--config", str(self.config_path)]
        compile_project()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(extra_env or {})},
            )
        self.started = time.monotonic()
        return self.process

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"voltrent-edge exited with {self.process.returncode}; log:\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (the daemon's own clean shutdown), SIGKILL if it does not go."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        return process.returncode


def high_water_rss(pid: int) -> int | None:
    """The kernel's peak RSS of a process (VmHWM), in bytes."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1024 / 1024:.1f}"


# -- the cloud side: who received what --------------------------------------------------
class UplinkCounter:
    """Subscribes to one device's ``up/#`` and counts what arrives (samples by seq)."""

    def __init__(self, host: str, port: int, device_id: str) -> None:
        self.host, self.port, self.device_id = host, port, device_id
        self.ready = asyncio.Event()
        self.seqs: set[int] = set()
        self.samples_by_type: Counter[str] = Counter()
        self.messages: Counter[str] = Counter()
        self.payload_bytes: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.statuses: list[tuple[float, dict[str, Any]]] = []  # (monotonic, document)
        self.first_status_at: float | None = None
        self.first_telemetry_at: float | None = None
        self.last_telemetry_at: float | None = None
        self._waiters: list[tuple[int, asyncio.Future[float]]] = []

    async def run(self) -> None:
        topic = f"vr/v1/{self.device_id}/up/#"
        async with aiomqtt.Client(
            self.host, self.port, identifier=f"bench-{os.getpid()}", clean_session=True
        ) as client:
            await client.subscribe(topic, qos=1)
            self.ready.set()
            async for message in client.messages:
                self._take(str(message.topic), bytes(message.payload or b""), message.retain)

    def _take(self, topic: str, payload: bytes, retained: bool) -> None:
        now = time.monotonic()
        channel = Channel(topic.split("/", 3)[3])
        self.messages[channel.value] += 1
        self.payload_bytes[channel.value] += len(payload)
        document = parse_json(channel, payload)
        if channel is Channel.TELEMETRY:
            self.first_telemetry_at = self.first_telemetry_at or now
            self.last_telemetry_at = now
            for sample in document["samples"]:
                self.seqs.add(sample["seq"])
                self.samples_by_type[sample["type"]] += 1
            for count, future in self._waiters:
                if len(self.seqs) >= count and not future.done():
                    future.set_result(now)
        elif channel is Channel.EVENT:
            for event in document["events"]:
                self.events[event["type"]] += 1
        elif channel is Channel.STATUS and not retained:
            self.statuses.append((now, document))
            if document.get("online") and self.first_status_at is None:
                self.first_status_at = now

    def wait_for_samples(self, count: int) -> asyncio.Future[float]:
        """A future that resolves (to the monotonic time) once ``count`` distinct seqs
        have arrived."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if len(self.seqs) >= count:
            future.set_result(time.monotonic())
        self._waiters.append((count, future))
        return future


def status_topic(device_id: str) -> str:
    return str(Topic(device_id, Channel.STATUS))


# -- the cloud's store ------------------------------------------------------------------
@contextlib.contextmanager
def fresh_database():
    """``(url, server_version)`` of a new, migrated database, dropped afterwards: on the server
    of $DATABASE_URL, the machine's PostgreSQL at 127.0.0.1:5432, or an embedded one."""
    import uuid

    import psycopg

    from cloud.store.migrate import migrate
    from launcher.broker import port_open

    embedded = None
    if os.environ.get("DATABASE_URL"):
        admin = os.environ["DATABASE_URL"]
    elif port_open("127.0.0.1", 5432):
        admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    else:
        from launcher.postgres import EmbeddedPostgres

        embedded = EmbeddedPostgres(Path(tempfile.gettempdir()) / "voltrent-bench-pg").start()
        admin = embedded.url()
    name = f"voltrent_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
            version = conn.execute("SHOW server_version").fetchone()[0]
        url = admin.rsplit("/", 1)[0] + f"/{name}"
        migrate(url)
        yield url, version
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if embedded is not None:
            embedded.stop()
