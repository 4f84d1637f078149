"""Writing to the BMS: MOSFET switching and the EEPROM parameter session, always read back.

Every request goes through ``JbdSource.request``, which shares the half-duplex line with
the poller. The JBD MOSFET register sets both switches in one write, so the host keeps the
state it commanded (persisted, ``mosfets`` in the state store; both on by default, the
BMS's own power-up state) and writes the pair. Reading the switches back from basic info
is what counts: a BMS may hold a switch off by protection whatever the host asked.
"""

from __future__ import annotations

import asyncio
from typing import Any

from edge_agent.sources.jbd import JbdSource
from edge_agent.state_store import StateStore
from protocols import jbd
from protocols.errors import ProtocolError

ATTEMPTS = 3  # per request: a noisy RS485 line loses a frame now and then


class BmsControlError(RuntimeError):
    """The BMS did not answer or refused; the message says which request."""


class BmsControl:
    """The write side of one JBD BMS."""

    def __init__(self, source: JbdSource, store: StateStore) -> None:
        self.source = source
        self.store = store
        self.lock = asyncio.Lock()  # one read-modify-write of the switches at a time

    async def request(self, frame: bytes, what: str) -> jbd.Response:
        """One request with retries; the answer's status is checked."""
        error: Exception | None = None
        for _ in range(ATTEMPTS):
            try:
                response = await self.source.request(frame)
                jbd.check_answer(frame, response)
                return response
            except jbd.JbdStatusError as err:
                raise BmsControlError(f"{what}: the BMS refused it ({err})") from err
            except (TimeoutError, ConnectionError, OSError, ProtocolError) as err:
                error = err
        raise BmsControlError(f"{what}: no valid answer after {ATTEMPTS} tries ({error!r})")

    async def read_basic(self) -> jbd.BasicInfo:
        response = await self.request(jbd.basic_info_request(), "read basic info")
        return jbd.BasicInfo.from_response(response)

    def commanded(self) -> tuple[bool, bool]:
        """(charge_on, discharge_on) as last commanded by this host."""
        charge, discharge = self.store.get("mosfets", [True, True])
        return bool(charge), bool(discharge)

    async def set_mosfets(
        self, *, charge: bool | None = None, discharge: bool | None = None
    ) -> dict[str, Any]:
        """Switch, read back; returns observed ``{charge_mos, discharge_mos, protection}``."""
        async with self.lock:
            old_charge, old_discharge = self.commanded()
            wanted = (
                old_charge if charge is None else charge,
                old_discharge if discharge is None else discharge,
            )
            # remembered first: after a crash mid-write the guard and a restart agree
            self.store.put("mosfets", list(wanted))
            await self.request(jbd.mosfet_control_request(*wanted), "MOSFET write")
            basic = await self.read_basic()
        return {
            "charge_mos": basic.charge_mos,
            "discharge_mos": basic.discharge_mos,
            "protection": sorted(basic.protection),
        }

    async def read_parameters(self, names: list[str]) -> dict[str, float]:
        """One factory-mode session reading ``names`` (JBD parameters only)."""
        values: dict[str, float] = {}
        frames = jbd.read_parameters_requests(names)
        await self.request(frames[0], "enter factory mode")
        try:
            for frame in frames[1:-1]:
                response = await self.request(frame, f"read register 0x{frame[2]:02X}")
                name, value = jbd.decode_parameter_response(response)
                values[name] = value
        finally:
            await self.request(frames[-1], "leave factory mode")
        return values

    async def write_parameters(self, values: dict[str, float]) -> None:
        """One factory-mode session writing ``values`` and storing them in EEPROM; leaves
        without saving when a write fails, so the BMS is never half-configured."""
        frames = jbd.write_parameters_requests(values)
        await self.request(frames[0], "enter factory mode")
        try:
            for frame in frames[1:-1]:
                name, _ = jbd.decode_parameter_write(frame)
                await self.request(frame, f"write {name}")
        except BmsControlError:
            await self.request(jbd.exit_factory_mode_request(save=False), "leave factory mode")
            raise
        await self.request(frames[-1], "leave factory mode saving")
