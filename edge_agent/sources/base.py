"""The base of every source: it owns opening, reconnecting, counting and logging.

A source implements ``_open()``, ``_read_once()`` and ``_close()``; ``run()`` keeps it
alive. Bad input (a ProtocolError) is counted and reading goes on; a lost port
(``disconnect_errors``) closes the source and reopens it with backoff until it is back.
"""

from __future__ import annotations

import asyncio
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from edge_agent.health import Health, SourceState
from protocols.errors import ProtocolError

ReadingSink = Callable[[str, Any], None]
# type, detail, severity; what it returns (the recorder's seq) is not used
EventSink = Callable[[str, dict[str, Any], str], object]


class Backoff:
    """Exponential backoff with full jitter, reset after a success."""

    def __init__(self, first: float = 0.5, cap: float = 30.0) -> None:
        self.first, self.cap, self.attempt = first, cap, 0

    def next(self) -> float:
        delay = min(self.cap, self.first * 2**self.attempt)
        self.attempt += 1
        return random.uniform(delay / 2, delay)

    def reset(self) -> None:
        self.attempt = 0


ErrorTypes = tuple[type[BaseException], ...]


class Source(ABC):
    """One hardware input of the gateway (BMS, GNSS, CAN)."""

    type: ClassVar[str]
    disconnect_errors: ClassVar[ErrorTypes] = (ConnectionError, OSError)
    # this many consecutive timeouts mean the device is gone: reopen the port
    timeouts_before_reopen: ClassVar[int] = 5

    def __init__(
        self,
        name: str,
        settings: Any,
        *,
        on_reading: ReadingSink,
        on_event: EventSink,
        logger: logging.Logger | None = None,
        label: str | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self._on_reading = on_reading
        self._on_event = on_event
        self.log = logger or logging.getLogger(f"edge_agent.sources.{name}")
        # label: how log lines name it, e.g. "pack-0001/bms" where agents share a log
        self.health = Health(label or name, self.log)
        self._backoff = Backoff()
        self._faulted = False  # a source_fault was reported and no reading came since

    @abstractmethod
    async def _open(self) -> None:
        """Open the port or bus; raise one of ``disconnect_errors`` if it is not there."""

    @abstractmethod
    async def _read_once(self) -> Any | None:
        """Wait for and return one reading (None: nothing complete yet)."""

    @abstractmethod
    async def _close(self) -> None:
        """Release the port; must not raise."""

    async def run(self) -> None:
        """Read forever, reopening the port whenever it goes away."""
        while True:
            try:
                await self._open()
            except self.disconnect_errors as err:
                self._lost(err)
                await asyncio.sleep(self._backoff.next())
                continue
            self.health.set_state(SourceState.OK)
            try:
                await self._read_until_lost()
            except self.disconnect_errors as err:
                self._lost(err)
            finally:
                await self._close()
            await asyncio.sleep(self._backoff.next())

    async def _read_until_lost(self) -> None:
        timeouts = 0
        while True:
            try:
                reading = await self._read_once()
            except ProtocolError as err:
                self.health.error(err)
                continue
            except TimeoutError as err:
                timeouts += 1
                self.health.error(str(err) or "no answer in time", "timeout")
                if timeouts >= self.timeouts_before_reopen:
                    raise ConnectionError(f"{timeouts} timeouts in a row") from err
                continue
            timeouts = 0
            if reading is not None:
                self._backoff.reset()
                if self._faulted:
                    # data again, not just an open port: the fault is over
                    self._faulted = False
                    self._on_event("source_restored", {"source": self.name}, "info")
                self.health.readings += 1
                self._on_reading(self.name, reading)

    def _lost(self, error: BaseException) -> None:
        self.health.error(error, "disconnect")
        self.health.set_state(SourceState.RECONNECTING)
        if not self._faulted:
            self._faulted = True
            self._on_event(
                "source_fault", {"source": self.name, "error": str(error)[:200]}, "warning"
            )
