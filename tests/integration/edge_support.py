"""Shared helpers for the edge agent's integration tests: a real broker, real ptys.

- ``UplinkCollector``: subscribes to ``vr/v1/<device>/up/#`` in a paho background thread
  and keeps every message, decoded and validated with ``protocols.contract.decode``.
- ``running_rig()``: a ``SimulatedDevice`` and an in-process ``EdgeAgent`` wired to it
  with short intervals, both in the running event loop.
- ``agent_document()`` / ``write_agent_config()`` / ``AgentProcess``: the same agent as
  the real daemon, ``python -m edge_agent.cli --config FILE``, in a child process.
- ``read_outbox()``: the records waiting in an agent's outbox file, read from outside.

Waiting is always a polling loop with a generous deadline (``wait_until``); nothing here
measures how long anything took.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import paho.mqtt.client as paho

from edge_agent.agent import EdgeAgent
from edge_agent.config import AgentConfig, load_config, parse_config
from firmware_sim.can_port import SimulatedCanDevices
from firmware_sim.device import DeviceSpec, SimulatedDevice
from firmware_sim.serial_pty import VirtualSerialPort
from protocols.contract import (
    Channel,
    Event,
    EventBatch,
    Sample,
    Status,
    TelemetryBatch,
    Topic,
    decode,
)
from protocols.errors import PayloadError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 30.0
T = TypeVar("T")
Record = Sample | Event  # what carries a seq


def unique_device_id(prefix: str = "it") -> str:
    """A device id no other test uses (tests share one broker and its retained topics)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def wait_until(
    condition: Callable[[], T], what: str, *, timeout: float = DEADLINE_S, every: float = 0.05
) -> T:
    """Poll ``condition`` until it returns something truthy and return that; fail the test
    naming ``what`` if it has not happened within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if result := condition():
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        await asyncio.sleep(every)


# -- the broker side -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Received:
    """One uplink message as the broker delivered it; ``index`` is the arrival order."""

    index: int
    device_id: str
    channel: Channel
    message: Any  # the decoded payload: TelemetryBatch, EventBatch, Status, Ack
    retained: bool


def content(record: Record) -> dict[str, Any]:
    """What a record says, without the ``resent`` flag (a resend may add it)."""
    wire = record.to_wire()
    wire.pop("resent", None)
    return wire


class UplinkCollector:
    """Every uplink message of one device (or all: ``device_id="+"``), kept in order.

    It reconnects and subscribes again by itself when the broker restarts. A restarted
    broker has forgotten the subscription (``own_broker`` runs without persistence, and
    Mosquitto started as root drops to its own user and cannot save into a test's
    tmp_path anyway), so what is published before ``subscriptions`` goes up again never
    reaches the collector: hold the publisher back until then.
    """

    def __init__(self, url: str, device_id: str = "+") -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 1883
        self.filter = f"vr/v1/{device_id}/up/#"
        self.undecodable: list[tuple[str, str]] = []  # (topic, why): must stay empty
        self._received: list[Received] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.subscriptions = 0  # SUBACKs received: one per (re)connection
        self._client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=f"collector-{uuid.uuid4().hex[:12]}"
        )
        self._client.reconnect_delay_set(min_delay=0.1, max_delay=0.5)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            client.subscribe(self.filter, qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        self.subscriptions += 1
        self._subscribed.set()

    def _on_message(self, client, userdata, message) -> None:
        try:
            topic = Topic.parse(message.topic)
            decoded = decode(topic.channel, bytes(message.payload))
        except PayloadError as err:
            with self._lock:
                self.undecodable.append((message.topic, str(err)))
            return
        with self._lock:
            self._received.append(
                Received(
                    len(self._received), topic.device_id, topic.channel, decoded, message.retain
                )
            )

    def start(self, timeout: float = 10.0) -> UplinkCollector:
        """Connect and wait until the subscription is in place."""
        self._client.connect_async(self.host, self.port, keepalive=10)
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            self.stop()
            raise AssertionError(f"collector: no subscription at {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> UplinkCollector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- views (copies; safe while messages keep arriving) ---------------------------
    def mark(self) -> int:
        """The index the next message will get: ``since=`` for "what arrived after now"."""
        with self._lock:
            return len(self._received)

    def messages(self, channel: Channel | None = None, *, since: int = 0) -> list[Received]:
        with self._lock:
            received = self._received[since:]
        return [r for r in received if channel is None or r.channel == channel]

    def deliveries(self, *, since: int = 0) -> list[tuple[int, Record]]:
        """Every sample and event delivered, duplicates included, as (index, record)."""
        out: list[tuple[int, Record]] = []
        for r in self.messages(since=since):
            if isinstance(r.message, TelemetryBatch):
                out += [(r.index, sample) for sample in r.message.samples]
            elif isinstance(r.message, EventBatch):
                out += [(r.index, event) for event in r.message.events]
        return out

    def samples(self, sample_type: str | None = None, *, since: int = 0) -> list[Sample]:
        """Samples delivered (``sample_type``: bms, position, vehicle), in arrival order."""
        return [
            record
            for _, record in self.deliveries(since=since)
            if not isinstance(record, Event) and sample_type in (None, record.TYPE)
        ]

    def events(self, event_type: str | None = None, *, since: int = 0) -> list[Event]:
        return [
            record
            for _, record in self.deliveries(since=since)
            if isinstance(record, Event) and event_type in (None, record.type)
        ]

    def seqs(self) -> set[int]:
        return {record.seq for _, record in self.deliveries()}

    def missing_seqs(self) -> list[int]:
        """Seqs between the lowest and the highest delivered that never arrived."""
        seqs = self.seqs()
        return sorted(set(range(min(seqs), max(seqs) + 1)) - seqs) if seqs else []

    def conflicting_seqs(self) -> dict[int, list[dict[str, Any]]]:
        """Seqs delivered with two or more different contents (a reused seq)."""
        seen: dict[int, list[dict[str, Any]]] = {}
        for _, record in self.deliveries():
            contents = seen.setdefault(record.seq, [])
            if content(record) not in contents:
                contents.append(content(record))
        return {seq: contents for seq, contents in seen.items() if len(contents) > 1}

    def statuses(self, *, since: int = 0) -> list[Status]:
        return [r.message for r in self.messages(Channel.STATUS, since=since)]

    def latest_status(self) -> Status | None:
        statuses = self.statuses()
        return statuses[-1] if statuses else None

    def source_state(self, source: str, *, since: int = 0) -> dict[str, Any]:
        """``sources.<source>`` of the latest status with that source ({} before one)."""
        for status in reversed(self.statuses(since=since)):
            if status.sources and source in status.sources:
                return status.sources[source]
        return {}


async def fetch_retained_status(url: str, device_id: str) -> Status:
    """The status the broker retains for ``device_id``, as a new subscriber gets it."""
    with UplinkCollector(url, device_id) as fresh:
        retained = await wait_until(
            lambda: [r for r in fresh.messages(Channel.STATUS) if r.retained],
            f"the broker's retained status of {device_id}",
            timeout=10.0,
        )
    return retained[0].message


def first_delivery_order(deliveries: Iterable[tuple[int, Record]]) -> dict[str, list[int]]:
    """Seqs per kind ("telemetry", "event") in the order they first arrived."""
    order: dict[str, list[int]] = {"telemetry": [], "event": []}
    seen: set[int] = set()
    for _, record in deliveries:
        if record.seq not in seen:
            seen.add(record.seq)
            order["event" if isinstance(record, Event) else "telemetry"].append(record.seq)
    return order


# -- the agent's configuration -------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Timing:
    """Short intervals so that a test sees many cycles in a few seconds."""

    report_interval_s: float = 0.5
    upload_interval_s: float = 0.5
    status_interval_s: float = 0.5
    poll_interval_s: float = 0.2
    serial_timeout_s: float = 0.5
    gnss_stale_after_s: float = 2.0
    gnss_rate_hz: float = 5.0


def agent_document(
    device_id: str,
    mqtt_url: str,
    outbox_path: Path,
    *,
    bms_port: str | None = None,
    gnss_port: str | None = None,
    can: dict[str, Any] | None = None,
    timing: Timing = Timing(),
) -> dict[str, Any]:
    """The agent's TOML document as a dict: sources ``bms`` (jbd), ``gnss`` (nmea) and
    ``vehicle`` (can, with the given settings) for those that are given."""
    sources: dict[str, Any] = {}
    if bms_port is not None:
        sources["bms"] = {
            "type": "jbd",
            "port": bms_port,
            "poll_interval_s": timing.poll_interval_s,
            "timeout_s": timing.serial_timeout_s,
        }
    if gnss_port is not None:
        sources["gnss"] = {
            "type": "nmea",
            "port": gnss_port,
            "stale_after_s": timing.gnss_stale_after_s,
        }
    if can is not None:
        sources["vehicle"] = {"type": "can", **can}
    return {
        "device_id": device_id,
        "mqtt": {"url": mqtt_url, "keepalive_s": 5},
        "outbox": {"path": str(outbox_path)},
        "reporting": {
            "report_interval_s": timing.report_interval_s,
            "upload_interval_s": timing.upload_interval_s,
            "status_interval_s": timing.status_interval_s,
        },
        "sources": sources,
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    raise TypeError(f"no TOML form for {value!r}")


def _toml_lines(table: dict[str, Any], prefix: str) -> list[str]:
    lines = [f"[{prefix}]"] if prefix else []
    lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if not isinstance(v, dict)]
    for key, value in table.items():
        if isinstance(value, dict):
            lines += ["", *_toml_lines(value, f"{prefix}.{key}" if prefix else key)]
    return lines


def write_agent_config(path: Path, document: dict[str, Any]) -> AgentConfig:
    """Write ``document`` as the agent's TOML file and load it back the agent's way."""
    path.write_text("\n".join(_toml_lines(document, "")) + "\n")
    return load_config(path)


# -- in-process rig ------------------------------------------------------------------
@dataclass
class EdgeRig:
    """A simulated device and its in-process agent. ``loop_errors`` collects exceptions
    that escaped to the event loop's handler: a robust agent leaves it empty."""

    device: SimulatedDevice
    agent: EdgeAgent
    can_devices: SimulatedCanDevices | None = None
    can_port: VirtualSerialPort | None = None  # the slcan adapter's line, when CAN is slcan
    loop_errors: list[str] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def device_id(self) -> str:
        return self.device.device_id

    def assert_running(self) -> None:
        """Fail if the agent or the simulated device has stopped (crashed)."""
        for task in self.tasks:
            if task.done():
                error = None if task.cancelled() else task.exception()
                raise AssertionError(f"{task.get_name()} stopped: {error!r}")

    def record_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.loop_errors.append(f"{context['message']}: {context.get('exception')!r}")


@contextlib.asynccontextmanager
async def running_rig(
    mqtt_url: str,
    work_dir: Path,
    *,
    device_id: str | None = None,
    can: Literal["virtual", "slcan"] | None = "virtual",
    timing: Timing = Timing(),
    seed: int = 7,
) -> AsyncIterator[EdgeRig]:
    """Start a simulated device (BMS and GNSS on ptys, CAN on the virtual bus or an slcan
    adapter on a pty) and an EdgeAgent reading it, in the running loop; stop both on exit."""
    device_id = device_id or unique_device_id()
    device = SimulatedDevice(
        DeviceSpec(device_id, seed=seed, can=can == "virtual", gnss_rate_hz=timing.gnss_rate_hz),
        work_dir / "wires",
    )
    can_port = can_devices = None
    can_settings: dict[str, Any] | None = None
    if can == "virtual":
        can_devices = device.can_devices
        can_settings = {"interface": "virtual", "channel": device.can_channel}
    elif can == "slcan":
        can_port = VirtualSerialPort(work_dir / "wires" / "can")
        can_devices = SimulatedCanDevices(device.can_signals, serial_port=can_port, seed=seed)
        can_settings = {"interface": "slcan", "channel": can_port.path}
    document = agent_document(
        device_id,
        mqtt_url,
        work_dir / "outbox.db",
        bms_port=device.bms_port_path,
        gnss_port=device.gnss_port_path,
        can=can_settings,
        timing=timing,
    )
    agent = EdgeAgent(parse_config(document, source=f"{device_id} (test)"))
    rig = EdgeRig(device, agent, can_devices, can_port)
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(rig.record_loop_error)
    tasks = rig.tasks
    tasks.append(asyncio.create_task(device.run(), name="simulated device"))
    if can_devices is not None and can_devices is not device.can_devices:
        tasks.append(asyncio.create_task(can_devices.run(), name="simulated slcan adapter"))
    tasks.append(asyncio.create_task(agent.run(), name="edge agent"))
    try:
        yield rig
    finally:
        for task in reversed(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        agent.close()
        device.close()
        if can_port is not None:
            can_port.close()
        loop.set_exception_handler(None)


@contextlib.asynccontextmanager
async def running_device(device: SimulatedDevice) -> AsyncIterator[SimulatedDevice]:
    """Serve a simulated device's wires in the running loop (for an agent elsewhere)."""
    task = asyncio.create_task(device.run(), name=f"device-{device.device_id}")
    try:
        yield device
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        device.close()


# -- the daemon as a child process ---------------------------------------------------
class AgentProcess:
    """``python -m edge_agent.cli --config FILE``, its log in ``log_path`` (appended)."""

    def __init__(self, config_path: Path, log_path: Path) -> None:
        self.config_path = config_path
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "edge_agent.cli", "--config", str(self.config_path)],
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as a power cut or the OOM killer."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def pause(self) -> None:
        """SIGSTOP: frozen where it stands, sockets and files open."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after ``pause()``."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """SIGTERM, the way a service manager stops it; SIGKILL if it does not exit."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGCONT)  # a paused process cannot act on TERM
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True, slots=True)
class StoredRecord:
    seq: int
    kind: str  # "telemetry" or "event"
    body: dict[str, Any]  # the stored payload (the wire form without seq)
    boot_id: str


def read_outbox(path: Path) -> dict[int, StoredRecord]:
    """The records waiting in an outbox file, by seq, read without changing it (a running
    agent may own the file: SQLite's WAL lets a reader look alongside)."""
    if not path.exists():
        return {}
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    try:
        rows = connection.execute("SELECT seq, kind, payload, boot_id FROM records").fetchall()
    finally:
        connection.close()
    return {seq: StoredRecord(seq, kind, json.loads(body), boot) for seq, kind, body, boot in rows}
