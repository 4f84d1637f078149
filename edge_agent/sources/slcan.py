"""The vehicle CAN bus through a LAWICEL (slcan) USB-CAN adapter, read by the agent itself.

python-can's slcan interface reads one byte per system call with a 1 ms serial timeout,
in a thread: about 10 % of a core at 100 frames/s, and a garbled record raises as if the
bus were lost. This source reads the adapter's serial line on the event loop in whole
chunks (``SerialLink``), splits and checks records with ``protocols.slcan`` and decodes
frames with the DBC, without python-can's bus or threads (cantools still imports the
package). A malformed record is counted and reading goes on; only an I/O error (the
adapter unplugged) reopens the port.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from edge_agent.serial_link import SerialLink
from edge_agent.sources.base import Source
from protocols import slcan
from protocols.canbus import CanCodec
from protocols.canbus_message import CanMessage
from protocols.errors import ProtocolError

READ_CHUNK = 16384  # some 700 records: one system call drains a burst
# records arrive one by one as frames cross the bus; pausing this long before each read
# lets one system call take several (a full bus queues ~2 KB meanwhile, well within the
# kernel's buffer) and adds at most this much latency to a reading
READ_PAUSE_S = 0.02


class SlcanAdapterError(ConnectionError):
    """The adapter refused a command or did not answer: reopened with backoff."""


class SlcanSource(Source):
    type = "slcan"
    disconnect_errors = (ConnectionError, OSError)
    timeouts_before_reopen = 1 << 30  # a quiet bus is normal (ignition off)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._link: SerialLink | None = None
        self._decoder = slcan.SlcanDecoder()
        self._bitrate_command = slcan.bitrate_command(self.settings.bitrate)
        dbc = self.settings.dbc
        self.codec = CanCodec(str(dbc) if dbc is not None else None)

    async def _open(self) -> None:
        link = SerialLink(self.settings.port, self.settings.baudrate)
        link.open()
        self._link, self._decoder = link, slcan.SlcanDecoder()
        try:
            link.discard_input()  # records of a channel left open by an earlier session
            # the empty command ends any half-sent command, so its answer may be an error;
            # closing first lets the bit rate be set even if the channel was left open
            await self._command(slcan.EMPTY, must_succeed=False)
            await self._command(slcan.CLOSE, must_succeed=False)
            await self._command(self._bitrate_command)
            await self._command(slcan.OPEN)
        except BaseException:
            link.close()
            self._link = None
            raise

    async def _command(self, command: bytes, *, must_succeed: bool = True) -> None:
        """Send one command and wait for its answer; frames before it are dropped, as
        the channel is not (re)opened yet."""
        assert self._link is not None
        await self._link.write(command)
        name = command.decode("ascii").strip() or "(empty)"
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                while True:
                    try:
                        event = self._decoder.next_event()
                    except ProtocolError:
                        continue  # line noise while opening: the answer still follows
                    if event is None:
                        self._decoder.feed(await self._link.read(self.settings.timeout_s))
                    elif isinstance(event, slcan.SlcanReply):
                        break
        except TimeoutError as err:
            raise SlcanAdapterError(
                f"slcan {self.settings.port}: no answer to {name} in {self.settings.timeout_s} s"
            ) from err
        if must_succeed and event.kind is slcan.SlcanReplyKind.ERROR:
            raise SlcanAdapterError(f"slcan {self.settings.port}: adapter refused {name}")

    async def _close(self) -> None:
        link, self._link = self._link, None
        if link is None:
            return
        # leave the adapter closed, as python-can does; it may already be gone
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can lose a cancellation
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(0.5):
                await link.write(slcan.CLOSE)
        link.close()

    async def _read_once(self) -> CanMessage | None:
        # frames already buffered come first: one read of the line serves many readings
        frame = self._decoder.next_frame()  # a malformed record raises, after being consumed
        if frame is None:
            assert self._link is not None
            await asyncio.sleep(READ_PAUSE_S)
            # no timeout: a quiet bus is normal, and an unplugged adapter fails the read
            self._decoder.feed(await self._link.read(None, READ_CHUNK))  # type: ignore[arg-type]
            return None
        if frame.is_remote:
            return None  # a request for data, carrying none to decode
        return self.codec.decode(frame.arbitration_id, frame.data, frame.is_extended)
