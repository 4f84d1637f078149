"""The gateway daemon: sources -> recorder -> durable outbox -> MQTT uplink.

One asyncio process per box. Every reading passes through the outbox on disk before it is
published, so a lost connection, a broker restart or a reboot costs no data.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from edge_agent.bms_control import BmsControl
from edge_agent.clock import Clock
from edge_agent.commands import CommandExecutor
from edge_agent.config import AgentConfig
from edge_agent.downlink import Refusals
from edge_agent.intervals import IntervalSleeper
from edge_agent.lease import LeaseGuard, TrustedTime
from edge_agent.motion import MotionMonitor
from edge_agent.outbox import Outbox
from edge_agent.recorder import Recorder
from edge_agent.signatures import SignatureCheck
from edge_agent.soc_alarm import SocAlarm
from edge_agent.sources import source_class
from edge_agent.sources.base import Backoff, Source
from edge_agent.sources.jbd import BmsReading, JbdSource
from edge_agent.state_store import StateStore
from edge_agent.uplink import Uplink
from protocols.contract import (
    Channel,
    Command,
    DeviceConfig,
    LeaseTerm,
    SignatureError,
    Status,
    Topic,
    decode,
)
from protocols.errors import PayloadError

log = logging.getLogger(__name__)

try:
    AGENT_VERSION = metadata.version("voltrent")
except metadata.PackageNotFoundError:  # running from a source tree
    AGENT_VERSION = "0+unknown"


class EdgeAgent:
    """Composes the parts of the gateway for one device."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.clock = Clock()
        self.outbox = Outbox(config.outbox.path, max_records=config.outbox.max_records)
        self.state = StateStore(state_path(config))
        # every loop sleeping on a reporting interval wakes when the interval changes
        self.intervals = IntervalSleeper()
        self.uplink = Uplink(
            config, self.outbox, self.status, self.on_downlink, self.state, self.intervals
        )
        self.recorder = Recorder(self.outbox, self.clock, self.uplink.wake)
        self.sources: list[Source] = [
            source_class(s.type)(
                s.name,
                s.settings,
                on_reading=self._on_reading,
                on_event=self.recorder.record_event,
                label=f"{config.device_id}/{s.name}",
            )
            for s in config.sources
            if s.enabled
        ]
        self._build_control()
        self.started_monotonic = time.monotonic()
        self.counters = {
            "downlink_rejected": 0,
            "downlink_unsupported": 0,
            "lease_terms_bad_signature": 0,
            "configs_bad_signature": 0,
            "task_crashes": 0,
        }
        self.refusals = Refusals(config.device_id, self.counters, self.recorder.record_event)
        self._config_version = -1

    # -- status ----------------------------------------------------------------------
    def status(self, online: bool = True) -> Status:
        """The retained status message: health of every part and the outbox."""
        stats = self.outbox.stats()
        counters = {
            **self.uplink.counters,
            **self.counters,
            **self.executor.counters,
            **self.guard.counters,
        }
        counters["acks_waiting"] = self.state.acks_waiting()
        counters["samples_rejected"] = self.recorder.rejected_samples
        return Status(
            online=online,
            ts=self.clock.now_ms(),
            agent_version=AGENT_VERSION,
            boot_id=self.outbox.boot_id,
            uptime_s=time.monotonic() - self.started_monotonic,
            outbox=stats,
            sources={s.name: s.health.snapshot() for s in self.sources},
            counters=counters,
        )

    # -- running ---------------------------------------------------------------------
    async def run(self) -> None:
        """Run until cancelled."""
        self.recorder.record_event(
            "boot",
            {
                "agent_version": AGENT_VERSION,
                "boot_id": self.outbox.boot_id,
                "backlog": len(self.outbox),
                "clock_plausible": self.clock.plausible,
            },
        )
        self._report_outbox_notices()
        self.signatures.announce()
        try:
            async with asyncio.TaskGroup() as group:
                for source in self.sources:
                    group.create_task(self._supervise(f"source {source.name}", source.run))
                group.create_task(self._supervise("uplink", self.uplink.run))
                group.create_task(self._supervise("recorder", self._record_loop))
                group.create_task(self._supervise("commands", self.executor.run))
                group.create_task(self._supervise("lease guard", self.guard.run))
        finally:
            self.recorder.record_samples()  # what was read since the last interval

    async def _supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Keep one part running: a bug in one source must not take the gateway down.

        Expected trouble (bad bytes, lost ports, broker outages) is handled inside each
        part; what reaches here is a defect, so it is logged with its traceback, counted,
        reported as an event, and the part restarts after a pause.
        """
        backoff = Backoff(first=1.0, cap=60.0)
        while True:
            try:
                await run()
                return
            except Exception as err:
                self.counters["task_crashes"] += 1
                log.exception("%s crashed; restarting it", name)
                with contextlib.suppress(Exception):  # the outbox itself may be the problem
                    self.recorder.record_event(
                        "agent_fault", {"part": name, "error": repr(err)[:200]}, "critical"
                    )
                await asyncio.sleep(backoff.next())

    async def _record_loop(self) -> None:
        while True:
            await self.intervals.sleep(lambda: self.config.reporting.report_interval_s)
            self.recorder.record_samples()
            self._report_outbox_notices()

    def _report_outbox_notices(self) -> None:
        for notice in self.outbox.take_notices():
            self.recorder.record_event(notice.type, notice.detail, notice.severity)

    def close(self) -> None:
        self.outbox.close()
        self.state.close()

    # -- downlink --------------------------------------------------------------------
    async def on_downlink(self, topic: Topic, payload: bytes) -> None:
        """One message of down/cmd, down/lease or down/config: taken, or refused with its
        reason (``edge_agent.downlink``). A defect of a handler escapes to the uplink, which
        logs its traceback, counts it and takes the next message: a retained message that
        ended the uplink would end it again at every reconnect."""
        channel = topic.channel
        try:
            message = decode(channel, payload)
            if isinstance(message, DeviceConfig):
                self.receive_config(message, len(payload))
            elif isinstance(message, Command):
                self.executor.submit(message)
            elif isinstance(message, LeaseTerm):
                self.receive_term(message, len(payload))
            else:
                self.counters["downlink_unsupported"] += 1
                log.info("no handler yet for %s", channel.value)
        except PayloadError as err:
            self.refusals.refuse(channel, "downlink_rejected", str(err), len(payload))

    def receive_term(self, term: LeaseTerm, size: int) -> None:
        """A lease term from down/lease: enforced only when its signature holds (a forged
        "not leased" would cut the power; a forged issued_at would move the clock floor)."""
        if self._proven(term, Channel.LEASE, "lease_terms_bad_signature", size):
            self.guard.apply_term(term)

    def receive_config(self, config: DeviceConfig, size: int) -> None:
        """A config from down/config: applied only when its signature holds, and then only
        if newer than the one applied. The signature is checked first, so a forged config
        cannot set a version that no genuine config could top."""
        if self._proven(config, Channel.CONFIG, "configs_bad_signature", size):
            self.apply_config(config)

    def _proven(
        self, message: LeaseTerm | DeviceConfig, channel: Channel, counter: str, size: int
    ) -> bool:
        """Whether ``message`` comes from the cloud; if not, it is refused under ``counter``."""
        try:
            self.signatures.check(message)
        except SignatureError as err:
            reason = f"{err}: version {message.version} ignored"
            self.refusals.refuse(channel, counter, reason, size)
            return False
        return True

    def apply_config(self, message: DeviceConfig) -> None:
        """Take reporting intervals from a checked config (newer versions only)."""
        if message.version <= self._config_version:
            log.info(
                "config version %d ignored: version %d is applied",
                message.version,
                self._config_version,
            )
            return
        self._config_version = message.version
        changes = {
            key: float(value)
            for key in REPORTING_KEYS
            if (value := getattr(message, key)) is not None
        }
        self.apply_reporting(changes)
        log.info("config version %d applied: %s", message.version, changes)

    def apply_reporting(self, changes: dict[str, float]) -> dict[str, float]:
        """Set reporting intervals (down/config or set_reporting); returns all three."""
        current = self.config.reporting
        reporting = dataclasses.replace(
            current,
            report_interval_s=changes.get("report_interval_s", current.report_interval_s),
            upload_interval_s=changes.get("upload_interval_s", current.upload_interval_s),
            status_interval_s=changes.get("status_interval_s", current.status_interval_s),
        )
        self.config = dataclasses.replace(self.config, reporting=reporting)
        self.uplink.config = self.config
        self.intervals.changed()
        self.uplink.wake(True)  # a lowered upload interval: the backlog goes now
        return {key: getattr(reporting, key) for key in REPORTING_KEYS}

    # -- remote control --------------------------------------------------------------
    def _build_control(self) -> None:
        control = self.config.control
        speed_types = {"nmea", "can", "slcan"}
        has_speed = any(s.type in speed_types for s in self.config.sources if s.enabled)
        self.motion = MotionMonitor(control, has_speed_source=has_speed)
        self.trusted_time = TrustedTime(self.clock, self.state)
        bms_source = next((s for s in self.sources if isinstance(s, JbdSource)), None)
        self.bms = BmsControl(bms_source, self.state) if bms_source is not None else None
        self.soc_alarm = SocAlarm(self.state, self.recorder.record_event)
        self.signatures = SignatureCheck(self.config.device_id, self.config.commands)
        self.guard = LeaseGuard(
            control,
            self.state,
            self.trusted_time,
            self.motion,
            self.bms,
            self.recorder.record_event,
        )
        self.executor = CommandExecutor(
            control,
            self.state,
            self.trusted_time,
            self.motion,
            self.bms,
            self.guard,
            self.soc_alarm,
            signatures=self.signatures,
            on_event=self.recorder.record_event,
            locate=self.recorder.record_position_now,
            apply_reporting=self.apply_reporting,
            wake_uplink=self.uplink.wake,
        )

    def _on_reading(self, source: str, reading: Any) -> None:
        self.recorder.on_reading(source, reading)
        self.motion.observe(reading)
        if isinstance(reading, BmsReading):
            self.soc_alarm.observe(float(reading.basic.rsoc_percent))


REPORTING_KEYS = ("report_interval_s", "upload_interval_s", "status_interval_s")


def state_path(config: AgentConfig) -> Path:
    """Where the remote-control state lives: ``control.state_path``, or next to the
    outbox as ``<outbox stem>.state.db``."""
    if config.control.state_path is not None:
        return config.control.state_path
    outbox = config.outbox.path
    return outbox.with_name(f"{outbox.stem}.state.db")
