"""The vehicle's CAN nodes, simulated: every DBC message broadcast at its cycle time.

Signal values come from a callable (the physics model, written elsewhere), so this
module only knows the DBC. Two wires: python-can's in-process ``virtual`` bus (the agent
opens ``can.Bus(interface="virtual", channel=<same name>)``), or an slcan USB adapter
on a pty (the agent opens ``can.Bus(interface="slcan", channel=port.path,
bitrate=500000)``). Faults are injected by probability or one shot at a time, repeatably
with a seed, and counted in ``injected``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import can

from firmware_sim.faults import FaultDice
from firmware_sim.serial_pty import PortUnplugged, VirtualSerialPort
from firmware_sim.slcan import SlcanAdapter
from firmware_sim.waiting import wait_for_event
from protocols.canbus import CanCodec, CanMessageInfo

log = logging.getLogger(__name__)

SignalSource = Callable[[], Mapping[str, Mapping[str, float]]]
FAULT_KINDS = ("corrupt", "unknown_id", "garbage", "burst")
# printable noise that python-can's slcan reader skips: no frame letter (t T r R d D b B x)
_GARBAGE_ALPHABET = b"0123456789ACEFGHIJKLMNOPQSUVWYZacefghijklmnopqsuvwyz!?#*+-/"


@dataclass(frozen=True, slots=True)
class CanFaults:
    """How often each fault happens, per frame sent (0.0 = never)."""

    corrupt_probability: float = 0.0  # fewer data bytes than the DBC says (wrong DLC)
    unknown_id_probability: float = 0.0  # an extra frame with an id the DBC lacks
    garbage_probability: float = 0.0  # slcan only: noise bytes on the serial line
    burst_probability: float = 0.0  # the frame repeated burst_size times back to back
    burst_size: int = 20


class SimulatedCanDevices:
    """The motor controller and BMS (or whatever the DBC describes) on one CAN bus.

    Give exactly one of ``channel`` (python-can virtual bus) or ``serial_port`` (slcan
    adapter on that pty). ``signals()`` maps message name -> signal name -> physical
    value; a missing signal is sent as 0 (clamped into the DBC range) and a missing
    ``message_counter`` counts up by itself. Values outside the DBC range are clamped,
    as a controller saturates its outputs.
    """

    def __init__(
        self,
        signals: SignalSource,
        *,
        channel: str | None = None,
        serial_port: VirtualSerialPort | None = None,
        dbc: str | os.PathLike[str] | CanCodec | None = None,
        faults: CanFaults | None = None,
        seed: int | None = None,
        default_cycle_ms: int = 100,
    ) -> None:
        if (channel is None) == (serial_port is None):
            raise ValueError("give exactly one of channel (virtual bus) or serial_port (slcan)")
        self.codec = dbc if isinstance(dbc, CanCodec) else CanCodec(dbc)
        self.channel = channel
        self.adapter = SlcanAdapter(serial_port) if serial_port is not None else None
        self.faults = faults or CanFaults()
        self.default_cycle_ms = default_cycle_ms
        self.frames_sent = 0  # frames that reached the wire, faulty ones included
        self.frames_dropped = 0  # slcan channel closed or adapter unplugged
        self._signals = signals
        self._random = random.Random(seed)
        self._dice = FaultDice(FAULT_KINDS, self._random)
        self.injected = self._dice.injected  # faults applied, by kind
        self._counters: Counter[str] = Counter()
        self._warned: set[tuple[str, str]] = set()
        self._bus: can.BusABC | None = None
        self._stopping: asyncio.Event | None = None
        self._known = {info.name: {s.name for s in info.signals} for info in self.codec.messages}
        known_ids = {info.arbitration_id for info in self.codec.messages}
        self._unknown_ids = [i for i in range(0x600, 0x800) if i not in known_ids]

    def inject(self, kind: str, count: int = 1) -> None:
        """Force the next ``count`` frames to carry fault ``kind`` (see FAULT_KINDS)."""
        self._dice.inject(kind, count)

    def stop(self) -> None:
        """Ask ``run()`` to return after closing the bus."""
        if self._stopping is not None:
            self._stopping.set()

    async def run(self) -> None:
        """Broadcast until ``stop()`` or cancellation; the bus is shut down on the way out."""
        loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = None
        if self.adapter is not None:
            server = asyncio.create_task(self.adapter.serve())
        else:
            self._bus = can.Bus(interface="virtual", channel=self.channel)
        start = loop.time()
        due = {info.name: start for info in self.codec.messages}
        try:
            while not self._stopping.is_set():
                now = loop.time()
                ready = [info for info in self.codec.messages if due[info.name] <= now]
                if ready:
                    values = self._signals()
                    for info in ready:
                        self._send_message(info, values.get(info.name, {}))
                        cycle = (info.cycle_time_ms or self.default_cycle_ms) / 1000
                        # after a stall, carry on from now instead of catching up in a burst
                        due[info.name] = max(due[info.name] + cycle, now)
                    self._warn_unknown(values)
                wait = min(due.values()) - loop.time()
                await wait_for_event(self._stopping, max(wait, 0.001))
        finally:
            if server is not None:
                server.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await server
            if self._bus is not None:
                self._bus.shutdown()
                self._bus = None

    def encode_values(self, info: CanMessageInfo, values: Mapping[str, float]) -> bytes:
        """The data of one message from possibly partial, possibly out-of-range values."""
        complete = {}
        for signal in info.signals:
            value = values.get(signal.name)
            if value is None and signal.name == "message_counter":
                value = self._counters[info.name] % (int(signal.maximum or 15) + 1)
            elif value is None:
                value = 0
            if signal.minimum is not None:
                value = max(value, signal.minimum)
            if signal.maximum is not None:
                value = min(value, signal.maximum)
            complete[signal.name] = value
        self._counters[info.name] += 1
        return self.codec.encode(info.name, complete)[1]

    def _fault(self, kind: str, probability: float) -> bool:
        return self._dice.roll(kind, probability)

    def _send_message(self, info: CanMessageInfo, values: Mapping[str, float]) -> None:
        data = self.encode_values(info, values)
        faults = self.faults
        adapter_open = self.adapter is not None and self.adapter.is_open
        if adapter_open and self._fault("garbage", faults.garbage_probability):
            noise = bytes(self._random.choices(_GARBAGE_ALPHABET, k=self._random.randint(1, 12)))
            self._write_raw(noise + (b"\r" if self._random.random() < 0.5 else b""))
        if self._fault("corrupt", faults.corrupt_probability):
            data = data[: self._random.randrange(info.length)]
        repeat = faults.burst_size if self._fault("burst", faults.burst_probability) else 1
        for _ in range(repeat):
            self._send_frame(info.arbitration_id, data, info.is_extended)
        if self._fault("unknown_id", faults.unknown_id_probability):
            unknown_id = self._random.choice(self._unknown_ids)
            self._send_frame(unknown_id, bytes(self._random.randbytes(8)), False)

    def _send_frame(self, arbitration_id: int, data: bytes, is_extended: bool) -> None:
        if self.adapter is not None:
            try:
                sent = self.adapter.send_frame(arbitration_id, data, is_extended)
            except PortUnplugged:
                sent = False
        else:
            assert self._bus is not None
            message = can.Message(
                arbitration_id=arbitration_id, data=data, is_extended_id=is_extended
            )
            self._bus.send(message)
            sent = True
        if sent:
            self.frames_sent += 1
        else:
            self.frames_dropped += 1

    def _write_raw(self, data: bytes) -> None:
        assert self.adapter is not None
        with contextlib.suppress(PortUnplugged):
            self.adapter.port.write(data)

    def _warn_unknown(self, values: Mapping[str, Mapping[str, float]]) -> None:
        # a typo in the physics model would otherwise send zeros without a word
        for name, signals in values.items():
            known = self._known.get(name)
            for signal in ["*"] if known is None else [s for s in signals if s not in known]:
                if (name, signal) not in self._warned:
                    self._warned.add((name, signal))
                    log.warning("CAN sim: %s.%s is not in %s", name, signal, self.codec.path.name)
