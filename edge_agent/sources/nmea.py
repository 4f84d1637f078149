"""The GNSS module over serial: NMEA 0183 sentences combined into position fixes."""

from __future__ import annotations

from typing import Any

from edge_agent.serial_link import SerialLink
from edge_agent.sources.base import Source
from protocols import nmea


class NmeaSource(Source):
    type = "nmea"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._link: SerialLink | None = None
        self._decoder = nmea.NmeaDecoder()

    async def _open(self) -> None:
        self._link = SerialLink(self.settings.port, self.settings.baudrate)
        self._link.open()
        self._decoder = nmea.NmeaDecoder()

    async def _close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    async def _read_once(self) -> nmea.PositionFix | None:
        fix = self._decoder.next_fix()  # a bad sentence raises here, after being consumed
        if fix is not None:
            return fix
        assert self._link is not None
        # a module that stays silent this long has dropped out (timeout is counted)
        self._decoder.feed(await self._link.read(self.settings.stale_after_s))
        return None
