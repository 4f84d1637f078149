"""The agent's own slcan source against the simulated LAWICEL adapter on a real pty."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from edge_agent.config import ConfigError, SlcanSourceConfig, parse_config
from edge_agent.sources import source_class
from edge_agent.sources.slcan import SlcanAdapterError, SlcanSource
from firmware_sim.can_port import CanFaults, SimulatedCanDevices
from firmware_sim.serial_pty import VirtualSerialPort
from protocols.canbus import CanCodec, CanMessage

CODEC = CanCodec()
NAMES = {info.name for info in CODEC.messages}
VALUES = {
    "MotorStatus": {"motor_rpm": 2450, "vehicle_speed": 21.7, "phase_current": 38.2},
    "BmsStatus": {"pack_voltage": 51.23, "pack_current": -35.4, "soc": 104},
    "BmsCellStatus": {"max_cell_voltage": 3.712, "min_cell_voltage": 3.655},
}
EXPECTED = {  # missing signals are sent as 0; soc is clamped to the DBC's 100
    "MotorStatus": {"motor_rpm": 2450, "vehicle_speed": 21.7, "phase_current": 38.2, "throttle": 0},
    "BmsStatus": {"pack_voltage": 51.23, "pack_current": -35.4, "soc": 100},
    "BmsCellStatus": {"max_cell_voltage": 3.712, "min_cell_voltage": 3.655},
}


class Heard:
    """What the source handed to the recorder, and the events it raised."""

    def __init__(self) -> None:
        self.latest: dict[str, dict[str, Any]] = {}
        self.readings: list[CanMessage] = []
        self.events: list[str] = []

    def on_reading(self, name: str, reading: CanMessage) -> None:
        assert name == "vehicle" and isinstance(reading, CanMessage)
        self.readings.append(reading)
        self.latest[reading.name] = reading.signals

    def on_event(self, kind: str, detail: dict[str, Any], severity: str) -> None:
        self.events.append(kind)

    def count(self, name: str) -> int:
        return sum(1 for reading in self.readings if reading.name == name)


def assert_values(heard: Heard) -> None:
    for name, signals in EXPECTED.items():
        for signal, value in signals.items():
            assert math.isclose(heard.latest[name][signal], value, abs_tol=1e-9), (name, signal)


async def wait_for(condition: Callable[[], bool], what: str, steps: int = 1000) -> None:
    """Poll a condition; the bound is a number of steps, not a duration under test."""
    for _ in range(steps):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"never happened: {what}")


@contextlib.asynccontextmanager
async def rig(link: Path, faults: CanFaults | None = None) -> AsyncIterator[tuple[Any, ...]]:
    """The simulated CAN nodes behind an slcan adapter (at a stable path, as
    ``/dev/serial/by-id/...``), and the source reading it."""
    with VirtualSerialPort(link) as port:
        devices = SimulatedCanDevices(lambda: VALUES, serial_port=port, faults=faults, seed=5)
        heard = Heard()
        settings = SlcanSourceConfig(port=port.path, timeout_s=1.0)
        source = SlcanSource(
            "vehicle", settings, on_reading=heard.on_reading, on_event=heard.on_event
        )
        tasks = [asyncio.create_task(devices.run()), asyncio.create_task(source.run())]
        try:
            yield port, devices, source, heard
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def test_the_registry_and_config_know_the_slcan_source() -> None:
    assert source_class("slcan") is SlcanSource
    config = parse_config(
        {"device_id": "ev-0001", "sources": {"vehicle": {"type": "slcan", "port": "/dev/ttyACM0"}}}
    )
    settings = config.sources[0].settings
    assert settings == SlcanSourceConfig(port="/dev/ttyACM0")
    assert (settings.baudrate, settings.bitrate, settings.dbc) == (115_200, 500_000, None)
    bad = {"type": "slcan", "port": "/dev/ttyACM0", "bitrate": 400_000}
    with pytest.raises(ConfigError, match=r"sources\.vehicle\.bitrate: expected one of 10000"):
        parse_config({"device_id": "ev-0001", "sources": {"vehicle": bad}})


def test_slcan_source_opens_the_adapter_and_decodes_the_values_given(tmp_path: Path) -> None:
    async def scenario() -> tuple[Heard, SimulatedCanDevices, SlcanSource]:
        async with rig(tmp_path / "can") as (_, devices, source, heard):
            await wait_for(
                lambda: heard.latest.keys() >= NAMES and heard.count("MotorStatus") >= 20,
                "every message and 20 MotorStatus",
            )
            return heard, devices, source

    heard, devices, source = asyncio.run(scenario())
    assert devices.adapter is not None and devices.adapter.bitrate == 500_000
    assert devices.adapter.commands_refused == 0
    assert_values(heard)
    counters = [r.signals["message_counter"] for r in heard.readings if r.name == "MotorStatus"]
    steps = {(b - a) % 16 for a, b in itertools.pairwise(counters)}
    assert steps == {1}  # no frame lost once the channel is open
    assert dict(source.health.errors) == {}
    assert heard.events == []


def test_garbled_and_truncated_records_are_counted_without_reopening(tmp_path: Path) -> None:
    faults = CanFaults(garbage_probability=0.3, corrupt_probability=0.05)

    async def scenario() -> tuple[Heard, SimulatedCanDevices, SlcanSource]:
        async with rig(tmp_path / "can", faults) as (port, devices, source, heard):
            await wait_for(lambda: len(heard.readings) > 0, "a first reading")
            port.write(b"t1014DEAD\r")  # truncated: DLC 4, two data bytes
            port.write(b"T0CF1\r")  # cut inside the id
            await wait_for(
                lambda: heard.latest.keys() >= NAMES and source.health.errors["frame"] >= 10,
                "every message and 10 frame errors",
            )
            return heard, devices, source

    heard, devices, source = asyncio.run(scenario())
    assert devices.injected["garbage"] > 0 and devices.injected["corrupt"] > 0
    assert source.health.errors["disconnect"] == 0
    assert devices.adapter is not None and devices.adapter.commands_received == 4  # one open
    assert "source_fault" not in heard.events
    assert_values(heard)


def test_unplugged_adapter_is_reopened_when_it_comes_back(tmp_path: Path) -> None:
    async def scenario() -> tuple[Heard, SimulatedCanDevices, SlcanSource, int]:
        async with rig(tmp_path / "can") as (port, devices, source, heard):
            await wait_for(lambda: len(heard.readings) >= 5, "5 readings")
            port.unplug()
            await wait_for(lambda: "source_fault" in heard.events, "a source_fault event")
            before = len(heard.readings)
            port.plug()
            await wait_for(
                lambda: (
                    len(heard.readings) >= before + 5
                    and heard.latest.keys() >= NAMES
                    and "source_restored" in heard.events
                ),
                "readings after the adapter came back",
            )
            return heard, devices, source, before

    heard, devices, source, _ = asyncio.run(scenario())
    assert heard.events == ["source_fault", "source_restored"]
    assert source.health.errors["disconnect"] >= 1
    assert devices.adapter is not None and devices.adapter.is_open  # opened again after reset
    assert_values(heard)


def test_an_adapter_that_does_not_answer_cannot_be_opened() -> None:
    async def scenario() -> None:
        with VirtualSerialPort() as port:  # nobody serves the line
            source = SlcanSource(
                "vehicle",
                SlcanSourceConfig(port=port.path, timeout_s=0.2),
                on_reading=lambda *reading: None,
                on_event=lambda *event: None,
            )
            with pytest.raises(SlcanAdapterError, match=r"no answer to \(empty\) in 0.2 s"):
                await source._open()
            assert source._link is None  # the port was released

    asyncio.run(scenario())
