"""``voltrent sim``: a simulated fleet, each pack with its own edge agent, over real wires.

Every device gets a simulated BMS on a pty, a GNSS module on a pty and CAN devices on a
python-can virtual bus; its edge agent opens those exactly as it would open the hardware
of a gateway box, and publishes to the broker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from edge_agent.agent import EdgeAgent
from edge_agent.config import AgentConfig, parse_config
from firmware_sim.device import DeviceSpec, SimulatedDevice
from firmware_sim.vehicle import DutyCycle

log = logging.getLogger("voltrent.sim")

# below the low_soc alarm's 10 % and far from its 15 % clear level, so the alarm stays
LOW_SOC_PERCENT = 6.0


@dataclass(frozen=True)
class FleetOptions:
    devices: int = 5
    mqtt_url: str | None = None
    work_dir: Path = Path(".voltrent/sim")
    prefix: str = "sim"
    report_interval_s: float = 10.0
    upload_interval_s: float = 10.0  # a gateway's default is 60 s; the sim shows data sooner
    status_interval_s: float = 300.0
    poll_interval_s: float = 1.0
    can: bool = True
    chemistry: str = "LFP"
    seed: int = 1
    line_noise: float = 0.0
    low_soc: tuple[str, ...] = ()  # devices that start nearly empty (a low_soc alarm soon)

    def device_ids(self) -> list[str]:
        """sim-0001, sim-0002, ...: the simulated devices' ids, in order."""
        return [f"{self.prefix}-{n:04d}" for n in range(1, self.devices + 1)]

    def parked_at_start(self) -> list[str]:
        """The devices that stand still when the fleet starts (every second one)."""
        return [device_id for n, device_id in enumerate(self.device_ids()) if not _rides(n)]


def _rides(index: int) -> bool:
    """Half the fleet is out riding from the start, the rest parked."""
    return index % 2 == 0


def agent_config(
    device: SimulatedDevice,
    mqtt_url: str,
    work_dir: Path,
    options: FleetOptions,
    command_keys: Mapping[str, str] | None = None,
    password_file: Path | None = None,
) -> AgentConfig:
    """The TOML document an installer would write for this device, checked the same way;
    ``command_keys`` is its [commands] keys table (kid -> base64), None: no keys, so the
    agent refuses every command and lease term; ``password_file`` holds the password of
    its broker account (its username is its id), None: it connects without one."""
    sources: dict[str, Any] = {
        "bms": {
            "type": "jbd",
            "port": device.bms_port_path,
            "poll_interval_s": options.poll_interval_s,
        },
        "gnss": {"type": "nmea", "port": device.gnss_port_path},
    }
    if device.can_channel is not None:
        sources["vehicle"] = {"type": "can", "interface": "virtual", "channel": device.can_channel}
    document: dict[str, Any] = {
        "device_id": device.device_id,
        "mqtt": {"url": mqtt_url},
        "outbox": {"path": str(work_dir / device.device_id / "outbox.db")},
        "reporting": {
            "report_interval_s": options.report_interval_s,
            "upload_interval_s": options.upload_interval_s,
            "status_interval_s": options.status_interval_s,
        },
        "sources": sources,
    }
    if command_keys:
        document["commands"] = {"keys": dict(command_keys)}
    if password_file is not None:
        document["mqtt"] |= {"username": device.device_id, "password_file": str(password_file)}
    return parse_config(document, source=f"{device.device_id} (simulated)")


class SimulatedFleet:
    """N simulated devices and their edge agents in one event loop; ``command_keys`` gives
    each device's [commands] keys and ``password_files`` its broker password's file, by
    device id (see ``agent_config``)."""

    def __init__(
        self,
        options: FleetOptions,
        mqtt_url: str,
        command_keys: Mapping[str, Mapping[str, str]] | None = None,
        password_files: Mapping[str, Path] | None = None,
    ) -> None:
        self.options = options
        self.mqtt_url = mqtt_url
        self.devices: list[SimulatedDevice] = []
        self.agents: list[EdgeAgent] = []
        for index, device_id in enumerate(options.device_ids()):
            spec = DeviceSpec(
                device_id=device_id,
                seed=options.seed * 100_003 + index,
                chemistry=options.chemistry,
                can=options.can,
                line_noise=options.line_noise,
                initial_soc_percent=LOW_SOC_PERCENT if device_id in options.low_soc else None,
                duty=DutyCycle(charge_probability=0.15, start_riding=_rides(index)),
            )
            device = SimulatedDevice(spec, options.work_dir / device_id)
            self.devices.append(device)
            keys = (command_keys or {}).get(device_id)
            password_file = (password_files or {}).get(device_id)
            config = agent_config(device, mqtt_url, options.work_dir, options, keys,
                                  password_file)  # fmt: skip
            self.agents.append(EdgeAgent(config))

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                for device, agent in zip(self.devices, self.agents, strict=True):
                    group.create_task(device.run(), name=f"device-{device.device_id}")
                    group.create_task(agent.run(), name=f"agent-{device.device_id}")
                group.create_task(self._report())
        finally:
            for agent in self.agents:
                agent.close()
            for device in self.devices:
                device.close()

    async def _report(self) -> None:
        started = time.monotonic()
        while True:
            await asyncio.sleep(10)
            published = sum(a.uplink.counters["samples_published"] for a in self.agents)
            backlog = sum(len(a.outbox) for a in self.agents)
            online = sum(a.uplink.connected.is_set() for a in self.agents)
            log.info(
                "%.0f s: %d/%d agents connected, %d samples published, %d in outboxes",
                time.monotonic() - started,
                online,
                len(self.agents),
                published,
                backlog,
            )


def add_parser(commands: Any) -> None:
    sim = commands.add_parser(
        "sim", help="run a simulated fleet: packs, vehicles, GNSS, each with an edge agent"
    )
    defaults = FleetOptions()
    sim.add_argument("--devices", "-n", type=int, default=defaults.devices)
    sim.add_argument("--mqtt", default=None, help="broker URL (default: start a local Mosquitto)")
    sim.add_argument("--dir", type=Path, default=defaults.work_dir, help="outboxes and links")
    sim.add_argument("--prefix", default=defaults.prefix, help="device id prefix")
    sim.add_argument(
        "--report-interval",
        type=float,
        default=defaults.report_interval_s,
        help="seconds between samples of each source (default: %(default)s)",
    )
    sim.add_argument(
        "--upload-interval",
        type=float,
        default=defaults.upload_interval_s,
        help="seconds between published batches (default: %(default)s; a gateway's: 60)",
    )
    sim.add_argument("--chemistry", choices=("LFP", "NMC"), default=defaults.chemistry)
    sim.add_argument("--no-can", action="store_true", help="no CAN bus (battery packs only)")
    sim.add_argument("--seed", type=int, default=defaults.seed)
    sim.add_argument(
        "--line-noise",
        type=float,
        default=0.0,
        metavar="P",
        help="fault probability per frame on every wire (garbage, truncation, bad checksums)",
    )
    sim.add_argument("--duration", type=float, default=None, help="stop after this many s")
    sim.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    options = FleetOptions(
        devices=args.devices,
        mqtt_url=args.mqtt,
        work_dir=args.dir,
        prefix=args.prefix,
        report_interval_s=args.report_interval,
        upload_interval_s=args.upload_interval,
        can=not args.no_can,
        chemistry=args.chemistry,
        seed=args.seed,
        line_noise=args.line_noise,
    )
    with contextlib.ExitStack() as stack:
        mqtt_url = options.mqtt_url
        if mqtt_url is None:
            from launcher.broker import MosquittoBroker

            broker = stack.enter_context(MosquittoBroker(data_dir=options.work_dir / "broker"))
            mqtt_url = broker.url
            log.info("started Mosquitto at %s", mqtt_url)
        fleet = SimulatedFleet(options, mqtt_url)
        parts = urlsplit(mqtt_url)
        log.info(
            "%d simulated devices publishing to %s; watch them with:\n"
            "    mosquitto_sub -h %s -p %d -t 'vr/v1/+/up/#' -v",
            options.devices,
            mqtt_url,
            parts.hostname,
            parts.port or 1883,
        )
        asyncio.run(_run_until_stopped(fleet, args.duration))
    return 0


async def _run_until_stopped(fleet: SimulatedFleet, duration: float | None) -> None:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    assert task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    if duration is not None:
        loop.call_later(duration, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await fleet.run()
    log.info("stopped")
