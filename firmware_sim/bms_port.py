"""The BMS end of a JBD UART line, answering the host on a simulated serial port.

It knows the protocol, not the battery: pack state comes from a callable, MOSFET switching
goes to a callable, and the EEPROM parameters are a dict in our units that a factory-mode
session edits (on a working copy, stored in the dict only on exit-with-save).

Faults a real line shows can be injected, by probability or as one-shot counts, and are
deterministic for a given seed:

- ``no_answer``: the request is ignored entirely, as by a sleeping BMS or a dropout;
- ``garbage_before``: random bytes precede the answer;
- ``garbage_inside``: random bytes are inserted inside the answer frame;
- ``truncate``: only the first part of the answer is sent;
- ``corrupt_checksum``: the answer's checksum is wrong.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable

from firmware_sim.serial_pty import PortUnplugged, VirtualSerialPort
from protocols.jbd import (
    EXIT_AND_SAVE,
    EXIT_WITHOUT_SAVING,
    FACTORY_MODE_KEY,
    PARAMETERS_BY_REGISTER,
    BasicInfo,
    CellVoltages,
    FrameDecoder,
    HardwareVersion,
    JbdError,
    Mode,
    Register,
    Request,
    Response,
    Status,
    decode_mosfet_control,
    get_parameter,
)

log = logging.getLogger(__name__)

FAULT_KINDS = ("no_answer", "garbage_before", "garbage_inside", "truncate", "corrupt_checksum")
StateSource = Callable[[], tuple[BasicInfo, CellVoltages]]
MosfetSwitch = Callable[[bool, bool], None]
REPLUG_POLL_S = 0.02


def _refuse(register: int) -> Response:
    return Response(register, Status.ERROR)


class SimulatedBms:
    """A JBD BMS on a VirtualSerialPort: ``await bms.run()`` answers until cancelled."""

    def __init__(
        self,
        port: VirtualSerialPort,
        state: StateSource,
        set_mosfets: MosfetSwitch,
        parameters: dict[str, float],
        hardware_version: str = "JBD-SP04S034-L4S-200A-B-U",
        *,
        latency_s: float = 0.003,
        seed: int = 0,
    ) -> None:
        for name in parameters:
            get_parameter(name)  # an unknown name fails here, not mid-session
        self.port = port
        self.state = state
        self.set_mosfets = set_mosfets
        self.parameters = parameters
        self.hardware_version = HardwareVersion(hardware_version)
        self.latency_s = latency_s
        self.fault_probability: dict[str, float] = dict.fromkeys(FAULT_KINDS, 0.0)
        self.faults_applied: Counter[str] = Counter()
        self._pending_faults: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._working: dict[str, float] | None = None  # the factory-mode copy
        self.requests_received = 0
        self.requests_served = 0  # answered, faulty answers included
        self.requests_dropped = 0  # ignored by a no_answer fault
        self.bad_frames = 0  # request bytes the decoder refused

    # -- faults --------------------------------------------------------------------
    def inject(self, kind: str, count: int = 1) -> None:
        """Apply fault ``kind`` to the next ``count`` answers (before any random fault)."""
        self._check_kind(kind)
        self._pending_faults[kind] += count

    def set_fault_probability(self, kind: str, probability: float) -> None:
        """Apply fault ``kind`` to each answer with ``probability`` (0 turns it off)."""
        self._check_kind(kind)
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"fault probability {probability} is not 0..1")
        self.fault_probability[kind] = probability

    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")

    def _choose_fault(self) -> str | None:
        for kind in FAULT_KINDS:
            if self._pending_faults[kind] > 0:
                self._pending_faults[kind] -= 1
                return kind
        for kind in FAULT_KINDS:
            probability = self.fault_probability[kind]
            if probability and self._random.random() < probability:
                return kind
        return None

    def _garbage(self) -> bytes:
        return self._random.randbytes(self._random.randint(1, 8))

    def _mangle(self, frame: bytes, kind: str) -> bytes:
        if kind == "garbage_before":
            return self._garbage() + frame
        if kind == "garbage_inside":
            cut = self._random.randint(1, len(frame) - 1)
            return frame[:cut] + self._garbage() + frame[cut:]
        if kind == "truncate":
            return frame[: self._random.randint(1, len(frame) - 1)]
        if kind == "corrupt_checksum":
            flip = self._random.randint(1, 0xFFFF).to_bytes(2, "big")
            corrupted = bytes(a ^ b for a, b in zip(frame[-3:-1], flip, strict=True))
            return frame[:-3] + corrupted + frame[-1:]
        raise ValueError(f"fault {kind!r} does not mangle a frame")

    # -- protocol ------------------------------------------------------------------
    @property
    def factory_mode(self) -> bool:
        """Inside a factory-mode (parameter) session."""
        return self._working is not None

    def answer(self, request: Request) -> Response:
        """What the BMS answers to one request (state changes included, faults not)."""
        register = request.register
        if request.mode == Mode.READ:
            return self._read(register)
        if register == Register.MOSFET_CONTROL:
            try:
                charge_on, discharge_on = decode_mosfet_control(request.data)
            except JbdError:
                return _refuse(register)
            self.set_mosfets(charge_on, discharge_on)
            return Response(register)
        if register == Register.ENTER_FACTORY_MODE:
            if request.data != FACTORY_MODE_KEY:
                return _refuse(register)
            if self._working is None:
                self._working = dict(self.parameters)
            return Response(register)
        if register == Register.EXIT_FACTORY_MODE:
            return self._exit_factory_mode(request.data)
        parameter = PARAMETERS_BY_REGISTER.get(register)
        if parameter is None or self._working is None:
            return _refuse(register)
        try:
            self._working[parameter.name] = parameter.decode(request.data)
        except JbdError:
            return _refuse(register)
        return Response(register)

    def _read(self, register: int) -> Response:
        if register == Register.BASIC_INFO:
            return self.state()[0].to_response()
        if register == Register.CELL_VOLTAGES:
            return self.state()[1].to_response()
        if register == Register.HARDWARE_VERSION:
            return self.hardware_version.to_response()
        parameter = PARAMETERS_BY_REGISTER.get(register)
        if parameter is None or self._working is None or parameter.name not in self._working:
            return _refuse(register)
        return Response(register, data=parameter.encode(self._working[parameter.name]))

    def _exit_factory_mode(self, data: bytes) -> Response:
        if data not in (EXIT_AND_SAVE, EXIT_WITHOUT_SAVING):
            return _refuse(Register.EXIT_FACTORY_MODE)
        if data == EXIT_AND_SAVE and self._working is not None:
            self.parameters.update(self._working)
        self._working = None
        return Response(Register.EXIT_FACTORY_MODE)

    # -- the line ------------------------------------------------------------------
    async def _serve(self, request: Request) -> None:
        self.requests_received += 1
        fault = self._choose_fault()
        if fault is not None:
            self.faults_applied[fault] += 1
        if fault == "no_answer":
            self.requests_dropped += 1
            return
        frame = self.answer(request).to_bytes()
        if fault is not None:
            frame = self._mangle(frame, fault)
        await asyncio.sleep(self.latency_s)
        self.port.write(frame)
        self.requests_served += 1

    async def run(self) -> None:
        """Answer requests until cancelled; across an unplug, wait for the next plug."""
        decoder = FrameDecoder(direction="request")
        while True:
            try:
                data = await self.port.read()
            except PortUnplugged:
                decoder.clear()
                self._working = None  # a power cycle ends the session unsaved
                await asyncio.sleep(REPLUG_POLL_S)
                continue
            decoder.feed(data)
            while True:
                try:
                    request = decoder.next_frame()
                except JbdError as err:
                    self.bad_frames += 1
                    log.debug("simulated BMS ignores bad request bytes: %s", err)
                    continue
                if request is None:
                    break
                if not isinstance(request, Request):
                    continue  # the decoder reads requests only (direction "request")
                try:
                    await self._serve(request)
                except PortUnplugged:
                    break  # the answer has nowhere to go; read() notices the unplug
