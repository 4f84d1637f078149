"""Helpers for the cloud's integration tests: the worker as a real process, a publisher,
and polling with a deadline (never a measurement of time)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import psycopg

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def wait_for(condition: Callable[[], T], what: str, *, timeout: float = 60.0) -> T:
    """Poll until ``condition()`` is truthy and return it; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        if result := condition():
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.1)


def scalar(url: str, query: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchone()[0]


def migrate_before(url: str, version: int, monkeypatch) -> None:
    """Migrate ``url`` with only the steps numbered below ``version``, to test what that
    step does to data an older store holds; a later ``migrate(url)`` applies the rest.

    Up to the steps ec8bef6 had, the store is made as that head made it (its numbered files
    still held the functions, triggers and policies); a later step's older store is the
    current numbered steps before it and the repeatable files."""
    from cloud.store import migrate as migrate_module
    from tests.cloud.store_support import PREVIOUS_HEAD_STEPS, migrate_as_previous_head

    if version <= PREVIOUS_HEAD_STEPS + 1:
        migrate_as_previous_head(url, monkeypatch, before=version)
        return
    every = migrate_module.migrations
    with monkeypatch.context() as older:
        older.setattr(
            migrate_module,
            "migrations",
            lambda layout: [m for m in every(layout) if m.version < version],
        )
        migrate_module.migrate(url)


def register(url: str, *device_ids: str) -> None:
    with psycopg.connect(url) as conn:
        for device_id in device_ids:
            conn.execute("INSERT INTO device (id) VALUES (%s) ON CONFLICT DO NOTHING", (device_id,))


class WorkerProcess:
    """``python -m launcher.cli cloud worker`` with its own client id and log file."""

    def __init__(
        self, database_url: str, mqtt_url: str, log_path: Path, *, client_id: str | None = None,
        group: str | None = None, protocol: str = "5",
    ) -> None:  # fmt: skip
        self.client_id = client_id or f"test-worker-{uuid.uuid4().hex[:8]}"
        self.log_path = log_path
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "MQTT_URL": mqtt_url,
            "MQTT_PROTOCOL": protocol,
            "VOLTRENT_WORKER_ID": self.client_id,
            # each test's workers form their own group, so tests never share a load
            "VOLTRENT_WORKER_GROUP": group or f"g{uuid.uuid4().hex[:8]}",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "launcher.cli", "cloud", "worker", "--no-migrate"],
                cwd=REPO_ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        return self

    def wait_subscribed(self, timeout: float = 30.0) -> None:
        wait_for(
            lambda: "ingesting" in self.log() or self._died(),
            f"worker {self.client_id} subscribed",
            timeout=timeout,
        )
        assert self.running, f"worker exited:\n{self.log()[-3000:]}"

    def _died(self) -> bool:
        return not self.running

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no goodbye, no final commit, as the OOM killer does it."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> int | None:
        if self.running:
            assert self.process is not None
            self.process.terminate()
            try:
                return self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode if self.process else None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Publisher:
    """A paho client that publishes QoS 1 and waits for every PUBACK."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:10]}"
        )
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        self.client.loop_start()

    def publish(self, messages: Iterable[tuple[str, bytes]], *, retain: bool = False) -> int:
        infos = [self.client.publish(t, p, qos=1, retain=retain) for t, p in messages]
        for info in infos:
            info.wait_for_publish(30)
            assert info.is_published(), "the broker did not acknowledge a publish"
        return len(infos)

    def publish_in_background(self, messages: list[tuple[str, bytes]]) -> threading.Thread:
        thread = threading.Thread(target=self.publish, args=(messages,), daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
