"""The remote-control rig shared by the edge and the end-to-end tests: a simulated pack
(JBD BMS on a pty, GNSS on a pty) and an in-process edge agent with short control timings;
every MOSFET write the BMS receives is logged with the vehicle's speed at that moment.

The agent holds its generation-1 command key of MASTER_KEY, the master a test's cloud
worker gets through ``cloud_env()``; the rig's own commands and lease terms are signed with
that key unless a test says otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt

from edge_agent.agent import EdgeAgent
from edge_agent.config import parse_config
from firmware_sim.device import DeviceSpec, SimulatedDevice
from firmware_sim.vehicle import DutyCycle
from protocols.contract import Ack, Channel, Command, LeaseTerm, Topic, encode, signing
from tests.integration.edge_support import (
    Timing,
    UplinkCollector,
    agent_document,
    unique_device_id,
    wait_until,
)

PARKED = DutyCycle(park_min_s=1e9, park_max_s=1e9, start_riding=False)
# rides a few seconds, then parks for good
RIDE_THEN_PARK = DutyCycle(
    ride_min_s=5.0,
    ride_max_s=5.0,
    park_min_s=1e9,
    park_max_s=1e9,
    red_light_every_s=0.0,
    start_riding=True,
)
RIDING = DutyCycle(ride_min_s=1e9, ride_max_s=1e9, red_light_every_s=0.0, start_riding=True)
CONTROL = {
    "standstill_hold_s": 2.0,
    "waiting_report_interval_s": 1.0,
    "lease_check_interval_s": 0.2,
}


MASTER_KEY = bytes(range(7, 39))  # the test cloud's master secret (32 bytes)


def cloud_env() -> dict[str, str]:
    """What a cloud process needs in its environment to sign with MASTER_KEY."""
    return {"VOLTRENT_COMMAND_KEY": signing.encode_key(MASTER_KEY)}


def device_key(device_id: str, generation: int = 1) -> tuple[str, bytes]:
    """(kid, key) of a device under MASTER_KEY."""
    return (
        signing.key_id(MASTER_KEY, generation),
        signing.device_key(MASTER_KEY, device_id, generation),
    )


def commands_section(device_id: str, *generations: int) -> dict[str, Any]:
    """The agent's [commands] section holding the keys of these generations (default 1)."""
    keys = dict(device_key(device_id, g) for g in generations or (1,))
    return {"keys": {kid: signing.encode_key(key) for kid, key in keys.items()}}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Rig:
    device: SimulatedDevice
    agent: EdgeAgent
    url: str
    writes: list[dict[str, Any]] = field(default_factory=list)  # MOSFET writes the BMS got

    @property
    def device_id(self) -> str:
        return self.device.device_id

    async def publish(self, channel: Channel, payload: bytes, *, retain: bool = False) -> None:
        """Publish as the cloud does."""
        host, port = self.url.removeprefix("mqtt://").split(":")
        async with aiomqtt.Client(host, int(port)) as client:
            topic = str(Topic(self.device_id, channel))
            await client.publish(topic, payload, qos=1, retain=retain)

    def sign(self, message: Any, generation: int = 1) -> Any:
        """``message`` signed as the test cloud signs for this device."""
        kid, key = device_key(self.device_id, generation)
        return signing.sign(message, self.device_id, key, kid)

    async def command(
        self,
        kind: str,
        args: dict[str, Any],
        *,
        signed: bool = True,
        cmd_id: str | None = None,
        **times: int,
    ) -> Command:
        issued = now_ms()
        command = Command(
            cmd_id=cmd_id or f"c-{uuid.uuid4().hex[:12]}",
            type=kind,
            args=args,
            issued_at=times.get("issued_at", issued),
            expires_at=times.get("expires_at", issued + 120_000),
        )
        if signed:
            command = self.sign(command)
        await self.publish(Channel.CMD, encode(command))
        return command

    async def lease(self, version: int, *, signed: bool = True, **fields: Any) -> LeaseTerm:
        term = LeaseTerm(version=version, issued_at=now_ms(), **fields)
        if signed:
            term = self.sign(term)
        await self.publish(Channel.LEASE, encode(term), retain=True)
        return term

    async def subscribed(self) -> None:
        """Wait until the agent takes downlink: a retained lease that cuts nothing."""
        await self.lease(1, leased=True, cutoff_when_not_leased=False)
        await wait_until(
            lambda: self.agent.guard.counters["lease_terms_applied"], "agent subscribed"
        )


def acks(collector: UplinkCollector, cmd_id: str) -> list[Ack]:
    return [
        r.message
        for r in collector.messages(Channel.ACK)
        if isinstance(r.message, Ack) and r.message.cmd_id == cmd_id
    ]


@contextlib.asynccontextmanager
async def control_rig(
    url: str,
    work_dir: Path,
    duty: DutyCycle,
    device_id: str | None = None,
    control: dict[str, Any] | None = None,
    commands: dict[str, Any] | None = None,
    timing: Timing | None = None,
) -> AsyncIterator[Rig]:
    """The rig, running; ``control`` replaces keys of the agent's [control] timings,
    ``commands`` its [commands] section (default: the generation-1 key of MASTER_KEY),
    ``timing`` its reporting intervals."""
    device_id = device_id or unique_device_id("cmd")
    device = SimulatedDevice(
        DeviceSpec(device_id, seed=3, can=False, duty=duty, gnss_rate_hz=5.0, tick_s=0.1),
        work_dir / "wires",
    )
    document = agent_document(
        device_id,
        url,
        work_dir / "outbox.db",
        bms_port=device.bms_port_path,
        gnss_port=device.gnss_port_path,
        timing=timing or Timing(),
    )
    document["control"] = {**CONTROL, **(control or {})}
    document["commands"] = commands if commands is not None else commands_section(device_id)
    agent = EdgeAgent(parse_config(document, source="test"))
    rig = Rig(device, agent, url)
    original = device.bms.set_mosfets

    def logged(charge_on: bool, discharge_on: bool) -> None:
        vehicle = device.vehicle
        rig.writes.append(
            {"charge": charge_on, "discharge": discharge_on, "speed_kmh": vehicle.speed_kmh}
        )
        original(charge_on, discharge_on)

    device.bms.set_mosfets = logged
    tasks = [asyncio.create_task(device.run()), asyncio.create_task(agent.run())]
    try:
        yield rig
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        agent.close()
        device.close()
