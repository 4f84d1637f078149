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

from edge_agent.clock import Clock
from edge_agent.config import AgentConfig
from edge_agent.outbox import Outbox
from edge_agent.recorder import Recorder
from edge_agent.sources import source_class
from edge_agent.sources.base import Backoff, Source
from edge_agent.uplink import Uplink
from protocols.contract import DeviceConfig, Status, Topic, decode
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
        self.uplink = Uplink(config, self.outbox, self.status, self.on_downlink)
        self.recorder = Recorder(self.outbox, self.clock, self.uplink.wake)
        self.sources: list[Source] = [
            source_class(s.type)(
                s.name,
                s.settings,
                on_reading=self.recorder.on_reading,
                on_event=self.recorder.record_event,
                label=f"{config.device_id}/{s.name}",
            )
            for s in config.sources
            if s.enabled
        ]
        self.started_monotonic = time.monotonic()
        self.counters = {"downlink_rejected": 0, "downlink_unsupported": 0, "task_crashes": 0}
        self._config_version = -1

    # -- status ----------------------------------------------------------------------
    def status(self, online: bool = True) -> Status:
        """The retained status message: health of every part and the outbox."""
        stats = self.outbox.stats()
        counters = {**self.uplink.counters, **self.counters}
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
        try:
            async with asyncio.TaskGroup() as group:
                for source in self.sources:
                    group.create_task(self._supervise(f"source {source.name}", source.run))
                group.create_task(self._supervise("uplink", self.uplink.run))
                group.create_task(self._supervise("recorder", self._record_loop))
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
            await asyncio.sleep(self.config.reporting.report_interval_s)
            self.recorder.record_samples()
            self._report_outbox_notices()

    def _report_outbox_notices(self) -> None:
        for notice in self.outbox.take_notices():
            self.recorder.record_event(notice.type, notice.detail, notice.severity)

    def close(self) -> None:
        self.outbox.close()

    # -- downlink --------------------------------------------------------------------
    async def on_downlink(self, topic: Topic, payload: bytes) -> None:
        try:
            message = decode(topic.channel, payload)
        except PayloadError as err:
            self.counters["downlink_rejected"] += 1
            log.warning("rejected %s: %s", topic, err)
            return
        if isinstance(message, DeviceConfig):
            self.apply_config(message)
        else:
            self.counters["downlink_unsupported"] += 1
            log.info("no handler yet for %s", topic.channel.value)

    def apply_config(self, message: DeviceConfig) -> None:
        """Take reporting intervals from the retained down/config (newer versions only)."""
        if message.version <= self._config_version:
            return
        self._config_version = message.version
        changes = {
            key: float(value)
            for key in ("report_interval_s", "upload_interval_s", "status_interval_s")
            if (value := getattr(message, key)) is not None
        }
        reporting = dataclasses.replace(self.config.reporting, **changes)
        self.config = dataclasses.replace(self.config, reporting=reporting)
        self.uplink.config = self.config
        self.uplink.wake(True)
        log.info("config version %d applied: %s", message.version, changes)
