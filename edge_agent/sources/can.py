"""The vehicle CAN bus through any python-can interface, decoded with a DBC.

This module is imported only when a CAN source is configured (see ``sources.SOURCES``),
so a box without a CAN adapter never loads python-can. python-can's Notifier is the seam
between its receive thread (or the bus's file descriptor) and the event loop: given the
loop, it calls listeners in the loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import can

from edge_agent.sources.base import Source
from protocols.canbus import CanCodec, CanMessage
from protocols.errors import FrameError

INBOX_FRAMES = 2000  # about 0.5 s of a full 500 kbit/s bus


class CanErrorFrame(FrameError):
    """The controller reported an error frame on the bus."""


class CanSource(Source):
    type = "can"
    disconnect_errors = (ConnectionError, OSError)
    timeouts_before_reopen = 1 << 30  # a quiet bus is normal (ignition off)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bus: Any = None
        self._notifier: Any = None
        self._inbox: asyncio.Queue[Any] = asyncio.Queue(INBOX_FRAMES)
        dbc = self.settings.dbc
        self.codec = CanCodec(str(dbc) if dbc is not None else None)

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        self._inbox = asyncio.Queue(INBOX_FRAMES)
        kwargs: dict[str, Any] = {"receive_own_messages": self.settings.receive_own_messages}
        if self.settings.interface != "virtual":
            kwargs["bitrate"] = self.settings.bitrate
        try:
            self._bus = can.Bus(
                interface=self.settings.interface, channel=self.settings.channel, **kwargs
            )
        except (can.CanError, ValueError) as err:
            raise ConnectionError(f"CAN {self.settings.channel}: cannot open: {err}") from err
        self._notifier = can.Notifier(self._bus, [_Inbox(self._inbox, self)], loop=loop)

    async def _close(self) -> None:
        if self._notifier is not None:
            self._notifier.stop(timeout=1.0)
            self._notifier = None
        if self._bus is not None:
            with contextlib.suppress(Exception):  # a bus already gone must not stop the reopen
                self._bus.shutdown()
            self._bus = None

    async def _read_once(self) -> CanMessage:
        item = await self._inbox.get()
        if isinstance(item, BaseException):
            raise ConnectionError(f"CAN {self.settings.channel}: {item}") from item
        if item.is_error_frame:
            raise CanErrorFrame(f"CAN error frame at {item.timestamp:.3f}")
        return self.codec.decode(item.arbitration_id, bytes(item.data), item.is_extended_id)


class _Inbox(can.Listener):
    """Receives frames and bus errors in the event loop's thread (Notifier with a loop)."""

    def __init__(self, queue: asyncio.Queue[Any], source: CanSource) -> None:
        self._queue, self._source = queue, source

    def _put(self, item: Any) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self._source.health.count("overrun")

    def on_message_received(self, msg: can.Message) -> None:
        self._put(msg)

    def on_error(self, exc: Exception) -> None:
        self._put(exc)
