"""The vehicle CAN bus through any python-can interface, decoded with a DBC.

This module is imported only when a CAN source is configured (see ``sources.SOURCES``),
so a box without a CAN adapter never loads python-can. python-can's Notifier reads the
bus in its own thread; ``_Inbox`` is the one seam that hands frames and bus errors to the
event loop with ``call_soon_threadsafe``. (Given the loop, Notifier would read in the
loop for buses with a file descriptor, and a read error there never reaches a listener:
an unplugged slcan adapter would be retried forever in the loop's exception handler.)
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import can

from edge_agent.sources.base import Source
from protocols.canbus import CanCodec
from protocols.canbus_message import CanMessage
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
            # opening may block (slcan waits 2 s for the adapter): not on the loop
            self._bus = await asyncio.to_thread(
                can.Bus, interface=self.settings.interface, channel=self.settings.channel, **kwargs
            )
        except (can.CanError, ValueError, OSError) as err:
            raise ConnectionError(f"CAN {self.settings.channel}: cannot open: {err}") from err
        self._notifier = can.Notifier(self._bus, [_Inbox(self._inbox, loop, self)])

    async def _close(self) -> None:
        # both join or close driver threads: off the loop
        if self._notifier is not None:
            await asyncio.to_thread(self._notifier.stop, 1.0)
            self._notifier = None
        if self._bus is not None:
            with contextlib.suppress(Exception):  # a bus already gone must not stop the reopen
                await asyncio.to_thread(self._bus.shutdown)
            self._bus = None

    async def _read_once(self) -> CanMessage:
        item = await self._inbox.get()
        if isinstance(item, BaseException):
            raise ConnectionError(f"CAN {self.settings.channel}: {item}") from item
        if item.is_error_frame:
            raise CanErrorFrame(f"CAN error frame at {item.timestamp:.3f}")
        return self.codec.decode(item.arbitration_id, bytes(item.data), item.is_extended_id)


class _Inbox(can.Listener):
    """Called in python-can's receive thread; hands everything to the event loop."""

    def __init__(
        self, queue: asyncio.Queue[Any], loop: asyncio.AbstractEventLoop, source: CanSource
    ) -> None:
        self._queue, self._loop, self._source = queue, loop, source
        self._failed = False

    def _put(self, item: Any) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self._source.health.count("overrun")

    def on_message_received(self, msg: can.Message) -> None:
        self._loop.call_soon_threadsafe(self._put, msg)

    def on_error(self, exc: Exception) -> None:
        # the Notifier thread keeps trying a dead bus until the source closes it;
        # the first error is the one that matters
        if not self._failed:
            self._failed = True
            self._loop.call_soon_threadsafe(self._put, exc)
