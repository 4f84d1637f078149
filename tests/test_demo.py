"""`voltrent demo` as a user runs it: a subprocess with no DATABASE_URL or MQTT_URL, so it
embeds PostgreSQL and starts its own broker (locked down: a password per device and the
ACL), the cloud worker and API, and a fleet."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest

from launcher.broker import find_mosquitto
from tests.mqtt_support import Client

pytestmark = pytest.mark.slow

DEVICES = ("sim-0001", "sim-0002", "sim-0003")
START_TIMEOUT_S = 120  # a first run installs nothing, but initdb and migrate take a while
DATA_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60


class Demo:
    """One `python -m launcher.cli demo` process, its output collected line by line."""

    def __init__(self, work_dir: Path, *options: str) -> None:
        env = {
            name: value
            for name, value in os.environ.items()
            if name not in ("DATABASE_URL", "MQTT_URL", "MQTT_PROTOCOL")
            and not name.startswith("VOLTRENT_")
        }
        self.work_dir = work_dir
        command = [sys.executable, "-m", "launcher.cli", "demo", "--dir", str(work_dir)]
        command += ["--devices", str(len(DEVICES)), "--report-interval", "1"]
        command += ["--upload-interval", "2", *options]
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.seen: dict[int, psutil.Process] = {}

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout_s: float = START_TIMEOUT_S) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output)
            if match:
                return match
            if self.process.poll() is not None:
                self._reader.join(5)
                pytest.fail(f"demo exited with {self.process.returncode}:\n{self.output}")
            time.sleep(0.1)
        pytest.fail(f"no {pattern!r} in the demo's output within {timeout_s} s:\n{self.output}")

    def api_url(self) -> str:
        return self.wait_for(r"API +(http://\S+/api)\n")[1]

    def state(self, device_id: str) -> dict:
        return self.api(f"/devices/{device_id}/state")

    def api(self, path: str, body: dict | None = None) -> dict:
        """GET ``path`` of the API (POST ``body`` if given) as the demo's administrator."""
        url = f"{self.api_url()}{path}"  # waits for the banner
        token = (self.work_dir / "token").read_text().strip()
        request = urllib.request.Request(
            url,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            return json.load(r)

    def wait_for_command(self, device_id: str, command: dict) -> dict:
        """Send a command; its state once it is no longer queued or sent."""
        cmd_id = self.api(f"/devices/{device_id}/commands", command)["cmd_id"]
        deadline = time.monotonic() + DATA_TIMEOUT_S
        while time.monotonic() < deadline:
            sent = self.api(f"/commands/{cmd_id}")
            if sent["state"] not in ("queued", "sent"):
                return sent
            time.sleep(0.5)
        pytest.fail(f"command {cmd_id} still {sent['state']} after {DATA_TIMEOUT_S} s")

    def wait_for_data(self) -> dict[str, dict]:
        """Every device's state once each shows a BMS reading, a position and `online`."""
        deadline = time.monotonic() + DATA_TIMEOUT_S
        states: dict[str, dict] = {}
        while time.monotonic() < deadline:
            states = {device: self.state(device) for device in DEVICES}
            if all(
                s["online"] and s["soc_percent"] is not None and s["lat"] is not None
                for s in states.values()
            ):
                return states
            time.sleep(0.5)
        pytest.fail(f"devices show no data within {DATA_TIMEOUT_S} s: {states}\n{self.output}")

    def descendants(self) -> list[psutil.Process]:
        """Every process the demo runs now (and remembers them for ``assert_no_survivors``)."""
        found = psutil.Process(self.process.pid).children(recursive=True)
        self.seen.update((p.pid, p) for p in found)
        return found

    def stop(self, signum: int = signal.SIGINT) -> int:
        self.process.send_signal(signum)
        return self.wait()

    def wait(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        code = self.process.wait(timeout_s)
        self._reader.join(5)
        return code

    def assert_no_survivors(self) -> None:
        _gone, alive = psutil.wait_procs(list(self.seen.values()), timeout=5)
        alive = [p for p in alive if _running(p)]
        assert not alive, f"left running: {[_command(p) for p in alive]}\n{self.output}"

    def kill_everything(self) -> None:
        """After a failed test: leave nothing behind for the next one."""
        if self.process.poll() is None:
            self.descendants()
            self.process.kill()
            self.process.wait(10)
        for process in self.seen.values():
            if _running(process):
                process.kill()


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _command(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return f"pid {process.pid} (gone)"


@pytest.fixture
def demos():
    started: list[Demo] = []

    def start(work_dir: Path, *options: str) -> Demo:
        demo = Demo(work_dir, *options)
        started.append(demo)
        return demo

    yield start
    for demo in started:
        demo.kill_everything()


@pytest.mark.parametrize(
    ("broker", "banner", "broker_command"),
    [
        ("mosquitto", "(Mosquitto, MQTT 5,", "mosquitto -c"),
        ("amqtt", "(amqtt, MQTT 3.1.1,", "-m launcher.amqtt_broker"),
    ],
)
def test_the_fleet_reaches_the_api_and_ctrl_c_stops_everything(
    tmp_path, demos, broker, banner, broker_command
):
    if broker == "mosquitto" and not find_mosquitto():
        pytest.skip("mosquitto is not installed")
    demo = demos(tmp_path / "demo", "--broker", broker, "--api-port", "0")

    states = demo.wait_for_data()
    commands = [_command(p) for p in demo.descendants()]

    assert banner in demo.output
    console = demo.wait_for(r"Console +(http://\S+/)\n")[1]
    assert f"{console}api" == demo.api_url()
    for login in ("admin@szsuzu.demo", "keji@szsuzu.demo", "houhai@szsuzu.demo"):
        assert f"{login}   password in {demo.work_dir / 'passwords' / login}" in demo.output
    assert all(s["last_seq"] > 0 for s in states.values())
    _assert_the_broker_is_locked(demo)
    # the dispatcher (its own account) reaches a gateway, whose ack (its own) comes back;
    # sim-0003 (not sim-0002, whose demo lease ran out: the pack refuses power back)
    restore = {"type": "set_discharge", "args": {"on": True}}
    assert demo.wait_for_command("sim-0003", restore)["state"] == "done"
    for part in ("postgres -D", broker_command, "cloud worker", "cloud api"):
        assert any(part in c for c in commands), f"no {part!r} among {commands}"
    assert demo.stop(signal.SIGINT) == 0, demo.output
    demo.assert_no_survivors()


def _assert_the_broker_is_locked(demo: Demo) -> None:
    """No anonymous client gets in; a gateway's account reaches only its own topics: it
    cannot read another's downlink nor forge another's ack; a service account reads all."""
    port = int(demo.wait_for(r"MQTT +mqtt://127\.0\.0\.1:(\d+) ")[1])
    Client(port, "probe-anonymous", refused=True).close()
    a_password = (demo.work_dir / "sim" / "sim-0001" / "mqtt-password").read_text().strip()
    watch = urlsplit((demo.work_dir / "mqtt-watch-url").read_text().strip())
    assert watch.port == port and watch.password
    Client(port, "probe-a", username="sim-0001", password="guessed", refused=True).close()
    watcher = Client(port, "probe-watch", username=watch.username, password=watch.password)
    box_a = Client(port, "probe-a", username="sim-0001", password=a_password)
    try:
        assert watcher.subscribe("vr/v1/+/up/ack") == [1]
        # Mosquitto 2 grants every SUBACK and checks read access on each delivery (amqtt
        # refuses the SUBACK): what counts is what arrives before a marker sent after
        for topic_filter in ("vr/v1/sim-0002/down/#", "#", "vr/v1/sim-0001/down/#"):
            box_a.subscribe(topic_filter)
        watcher.publish("vr/v1/sim-0002/down/probe", b"for sim-0002")
        watcher.publish("vr/v1/sim-0001/down/probe", b"marker")
        got = box_a.received_until("vr/v1/sim-0001/down/probe", b"marker")
        assert {m.topic.split("/")[2] for m in got} == {"sim-0001"}, [m.topic for m in got]

        forged = json.dumps({"cmd_id": "c-1", "status": "done", "observed": {"discharge": True}})
        box_a.publish("vr/v1/sim-0002/up/ack", forged.encode())
        box_a.publish("vr/v1/sim-0001/up/ack", b"marker")  # after it, on the same connection
        got = watcher.received_until("vr/v1/sim-0001/up/ack", b"marker")
        assert not [m for m in got if m.topic == "vr/v1/sim-0002/up/ack"]
    finally:
        watcher.close()
        box_a.close()


def test_a_second_demo_reuses_the_data_and_finds_another_port(tmp_path, demos):
    work_dir = tmp_path / "demo"
    first = demos(work_dir, "--api-port", "0")
    first.wait_for_data()
    first.descendants()
    assert first.stop(signal.SIGTERM) == 0, first.output
    first.assert_no_survivors()
    initialised = (work_dir / "postgres" / "PG_VERSION").stat().st_mtime_ns

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        second = demos(work_dir, "--api-port", str(port), "--duration", "15")
        api_url = second.api_url()
        second.descendants()
        assert second.wait() == 0, second.output  # --duration ends it

    assert f"port {port} is taken" in second.output
    assert f":{port}/" not in api_url
    assert re.search(r"store migrated \(layout \w+, 0 applied, [1-9]\d* already\)", second.output)
    assert "created database" in first.output
    assert "created database" not in second.output
    assert re.search(r"rental business \S+: 2 stores, 2 devices moved to them now", first.output)
    assert re.search(r"rental business \S+: 2 stores, 0 devices moved to them now", second.output)
    assert (work_dir / "postgres" / "PG_VERSION").stat().st_mtime_ns == initialised
    second.assert_no_survivors()


def test_a_child_that_dies_is_reported_and_the_rest_stopped(tmp_path, demos):
    demo = demos(tmp_path / "demo", "--api-port", "0")
    demo.api_url()  # the banner: everything is up
    (worker,) = [p for p in demo.descendants() if "cloud worker" in _command(p)]

    worker.kill()

    assert demo.wait() == 1, demo.output
    assert "the worker process was killed by signal 9" in demo.output
    assert str(tmp_path / "demo" / "logs" / "worker.log") in demo.output
    demo.assert_no_survivors()
