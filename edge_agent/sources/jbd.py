"""The BMS over serial (RS485/UART), JBD protocol: polls basic info and cell voltages."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from edge_agent.serial_link import SerialLink
from edge_agent.sources.base import Source
from protocols import jbd
from protocols.errors import ProtocolError


@dataclass(frozen=True, slots=True)
class BmsReading:
    """One poll of the BMS: register 0x03 and 0x04 read back to back."""

    basic: jbd.BasicInfo
    cells: jbd.CellVoltages


class JbdSource(Source):
    type = "jbd"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._link: SerialLink | None = None
        self._decoder = jbd.FrameDecoder(direction="response")
        self._lock = asyncio.Lock()
        self._next_poll = 0.0
        self._discarded_seen = 0

    async def _open(self) -> None:
        self._link = SerialLink(self.settings.port, self.settings.baudrate)
        self._link.open()
        self._decoder = jbd.FrameDecoder(direction="response")
        self._discarded_seen = 0

    async def _close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    async def _read_once(self) -> BmsReading:
        delay = self._next_poll - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self._next_poll = time.monotonic() + self.settings.poll_interval_s
        basic = jbd.BasicInfo.from_response(await self.request(jbd.basic_info_request()))
        cells = jbd.CellVoltages.from_response(await self.request(jbd.cell_voltages_request()))
        return BmsReading(basic, cells)

    async def request(self, frame: bytes) -> jbd.Response:
        """Send one request frame and wait for the answer to its register.

        Serialised with the poller, so a command (MOSFET switch, parameter write) never
        interleaves with a poll on the half-duplex line.
        """
        register = frame[2]
        async with self._lock:
            link = self._link
            if link is None:
                raise ConnectionError(f"{self.name}: port is not open")
            # bytes left from an earlier, timed-out answer are garbage now
            self._decoder.clear()
            self.health.count("garbage_bytes", link.discard_input())
            self._count_garbage()
            await link.write(frame)
            async with asyncio.timeout(self.settings.timeout_s):
                while True:
                    self._decoder.feed(await link.read(self.settings.timeout_s))
                    while True:
                        try:
                            response = self._decoder.next_frame()
                        except ProtocolError as err:
                            # noise before the answer: count it, the answer may follow
                            self.health.error(err)
                            continue
                        finally:
                            self._count_garbage()
                        if response is None:
                            break
                        # the decoder reads answers only (direction "response")
                        if isinstance(response, jbd.Response) and response.register == register:
                            return response
                        self.health.count("stale_answer")

    def _count_garbage(self) -> None:
        discarded = self._decoder.discarded_bytes
        self.health.count("garbage_bytes", discarded - self._discarded_seen)
        self._discarded_seen = discarded
