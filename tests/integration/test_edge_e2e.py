"""End to end on the device side: simulated hardware -> edge agent -> real Mosquitto.

A test subscriber sees only what the broker delivers, decoded and validated with the
contract, and compares it with the simulator's own state.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections import defaultdict
from pathlib import Path

import aiomqtt
import pytest

from edge_agent.agent import EdgeAgent
from firmware_sim.device import DeviceSpec, SimulatedDevice
from firmware_sim.route import distance_m
from firmware_sim.vehicle import DutyCycle
from launcher.sim import FleetOptions, agent_config
from protocols import contract
from protocols.contract import BmsSample, PositionSample, Topic, VehicleSample
from protocols.errors import PayloadError

# the first test is the fast loop's edge end to end (./run-tests --fast)
pytestmark = [pytest.mark.broker]

PARKED = DutyCycle(park_min_s=1e9, park_max_s=1e9, start_riding=False)
FAST = FleetOptions(report_interval_s=0.5, upload_interval_s=0.5, poll_interval_s=0.2)


class Subscriber:
    """Everything the broker delivers for one device, decoded with the contract."""

    def __init__(self, url: str, device_id: str) -> None:
        self.host, self.port = url.removeprefix("mqtt://").split(":")
        self.device_id = device_id
        self.samples: list[contract.Sample] = []
        self.events: list[contract.Event] = []
        self.status: list[contract.Status] = []
        self.invalid: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def __aenter__(self) -> Subscriber:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._subscribed.wait(), 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        # a persistent session, so nothing is missed while the broker restarts
        while True:
            try:
                async with aiomqtt.Client(
                    self.host,
                    int(self.port),
                    identifier=f"test-subscriber-{self.device_id}",
                    clean_session=False,
                ) as client:
                    await client.subscribe(f"vr/v1/{self.device_id}/up/#", qos=1)
                    self._subscribed.set()
                    async for message in client.messages:
                        self._take(str(message.topic), bytes(message.payload))
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)

    def _take(self, topic: str, payload: bytes) -> None:
        channel = Topic.parse(topic).channel
        try:
            message = contract.decode(channel, payload)
        except PayloadError as err:
            self.invalid.append(f"{topic}: {err}")
            return
        if isinstance(message, contract.TelemetryBatch):
            self.samples.extend(message.samples)
        elif isinstance(message, contract.EventBatch):
            self.events.extend(message.events)
        elif isinstance(message, contract.Status):
            self.status.append(message)

    def of_type(self, cls: type) -> list:
        return [s for s in self.samples if isinstance(s, cls)]

    async def wait_until(self, condition, timeout: float = 30.0, what: str = "") -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what or condition}")
            await asyncio.sleep(0.1)


async def _run_rig(device: SimulatedDevice, agent: EdgeAgent, body) -> None:
    tasks = [asyncio.create_task(device.run()), asyncio.create_task(agent.run())]
    try:
        await body()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        agent.close()
        device.close()


def test_values_at_the_broker_match_the_simulator(broker, tmp_path: Path):
    device = SimulatedDevice(
        DeviceSpec("e2e-values", seed=11, duty=PARKED, initial_soc_percent=63.0),
        tmp_path / "hardware",
    )
    agent = EdgeAgent(agent_config(device, broker.url, tmp_path, FAST))

    async def body() -> None:
        async with Subscriber(broker.url, device.device_id) as sub:

            def complete() -> bool:
                return all(sub.of_type(t) for t in (BmsSample, PositionSample, VehicleSample))

            await _run_rig(device, agent, lambda: sub.wait_until(complete, what="all sources"))
            await sub.wait_until(lambda: not sub.status[-1].online, what="offline status")

        assert not sub.invalid
        pack = device.pack
        bms = sub.of_type(BmsSample)[-1]
        assert bms.soc_percent == round(pack.soc_percent)
        assert len(bms.cell_voltages_v) == 16
        for reported, actual in zip(bms.cell_voltages_v, pack.cell_voltages_v, strict=True):
            assert reported == pytest.approx(actual, abs=0.002)
        assert bms.pack_voltage_v == pytest.approx(pack.pack_voltage_v, abs=0.02)
        assert bms.charge_mos and bms.discharge_mos
        assert bms.temperatures_c == pytest.approx(pack.temperatures_c, abs=0.2)

        position = sub.of_type(PositionSample)[-1]
        lat, lon, _ = device.vehicle.position
        assert position.valid
        # GNSS noise of a few metres around the parked vehicle's true position
        assert distance_m(position.lat, position.lon, lat, lon) < 25.0

        vehicle = sub.of_type(VehicleSample)[-1]
        assert vehicle.signals["vehicle_speed"] == 0.0
        assert vehicle.signals["soc"] == pytest.approx(pack.soc_percent, abs=1.0)

        online = [s for s in sub.status if s.online]
        assert online and online[-1].sources["bms"]["state"] == "ok"
        # the agent was stopped cleanly: it said goodbye before disconnecting
        assert sub.status[-1].online is False
        assert [e.type for e in sub.events][:1] == ["boot"]

    asyncio.run(body())


@pytest.mark.slow
def test_broker_outage_loses_nothing_and_marks_backlog_resent(own_broker, tmp_path: Path):
    """Every sample arrives after the broker comes back, in seq order, with the samples
    that waited in the outbox longer than resent_after_s marked resent. A batch in flight
    when the broker died may arrive twice (at-least-once); the cloud dedupes on seq."""
    device = SimulatedDevice(
        DeviceSpec("e2e-outage", seed=5, duty=DutyCycle.short(start_riding=True), can=False),
        tmp_path / "hardware",
    )
    config = agent_config(device, own_broker.url, tmp_path, FAST)
    reporting = dataclasses.replace(config.reporting, resent_after_s=2.0)
    agent = EdgeAgent(dataclasses.replace(config, reporting=reporting))

    async def body() -> None:
        async with Subscriber(own_broker.url, device.device_id) as sub:

            async def scenario() -> None:
                await sub.wait_until(lambda: len(sub.samples) >= 6, what="first samples")
                own_broker.stop()
                stopped = time.monotonic()
                # the agent keeps recording into its outbox, until the oldest of its backlog
                # is older than resent_after_s
                await sub.wait_until(
                    lambda: (
                        len(agent.outbox) >= 8
                        and time.monotonic() - stopped > reporting.resent_after_s + 0.5
                    ),
                    what="8 records buffered, the first for longer than resent_after_s",
                )
                own_broker.start()
                await sub.wait_until(
                    lambda: len(agent.outbox) == 0 and agent.uplink.connected.is_set(),
                    what="outbox drained",
                )
                # a little more live data after the backlog
                target = len(sub.samples) + 4
                await sub.wait_until(lambda: len(sub.samples) >= target, what="live again")

            await _run_rig(device, agent, scenario)

        assert not sub.invalid
        seqs = [s.seq for s in sub.samples]
        first_seen: dict[int, contract.Sample] = {}
        for sample in sub.samples:
            previous = first_seen.setdefault(sample.seq, sample)
            assert previous == sample, f"seq {sample.seq} carried two different samples"
        unique = list(dict.fromkeys(seqs))
        assert unique == sorted(unique), "samples arrived out of seq order"
        # samples and events share the counter: together they leave no gap
        every = sorted(set(unique) | {e.seq for e in sub.events})
        assert every == list(range(every[0], every[-1] + 1))

        by_resent = defaultdict(list)
        for sample in first_seen.values():
            by_resent[sample.resent].append(sample)
        assert by_resent[True], "no backlog sample was marked resent"
        assert by_resent[False], "no live sample"
        # the newest samples are live again
        assert not first_seen[unique[-1]].resent

    asyncio.run(body())
