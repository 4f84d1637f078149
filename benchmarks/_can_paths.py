"""Part 2 of the CAN benchmark: the paths a frame takes into the agent, fed at fixed rates
by a sender thread whose own CPU time is measured and subtracted."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import can

from edge_agent.clock import Clock
from edge_agent.config import CanSourceConfig
from edge_agent.outbox import Outbox
from edge_agent.recorder import Recorder
from edge_agent.sources.can import CanSource
from firmware_sim.serial_pty import VirtualSerialPort
from firmware_sim.slcan import format_frame
from protocols.canbus import CanCodec
from protocols.errors import ProtocolError

Frame = tuple[int, bytes, bool]
WIRES = {
    "virtual": "virtual bus, CanSource",
    "slcan": "slcan pty, CanSource",
    "batched": "slcan pty, what-if batched reader",
}


class Sender(threading.Thread):
    """Puts frames on the wire at ``rate`` per second and counts its own CPU time: on a
    python-can virtual bus, or as slcan records written to a pty (as a USB-CAN adapter
    does, several records per write when several are due)."""

    def __init__(
        self,
        frames: list[Frame],
        rate: float,
        seconds: float,
        *,
        channel: str | None = None,
        port: VirtualSerialPort | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.messages = [
            can.Message(arbitration_id=a, data=d, is_extended_id=e) for a, d, e in frames
        ]
        self.records = [format_frame(a, d, e) for a, d, e in frames]
        self.channel, self.port = channel, port
        self.rate, self.seconds = rate, seconds
        self.sent = 0
        self.cpu_s = 0.0

    def run(self) -> None:
        bus = can.Bus(interface="virtual", channel=self.channel) if self.port is None else None
        cpu_start, start = time.thread_time(), time.monotonic()
        try:
            while (elapsed := time.monotonic() - start) < self.seconds:
                due = int(elapsed * self.rate)
                if bus is not None:
                    while self.sent < due:
                        bus.send(self.messages[self.sent % len(self.messages)])
                        self.sent += 1
                elif due > self.sent:
                    assert self.port is not None
                    count = len(self.records)
                    chunk = b"".join(self.records[i % count] for i in range(self.sent, due))
                    self.port.write(chunk)  # what does not fit is dropped, as by a UART
                    self.sent = due
                time.sleep(0.002)
        finally:
            self.cpu_s = time.thread_time() - cpu_start
            if bus is not None:
                bus.shutdown()


class BatchedSlcanReader:
    """What-if, not product code: slcan records read from the pty in whole chunks on the
    event loop (``add_reader`` + ``os.read``), split on CR and decoded chunk by chunk, so a
    burst of frames costs one wakeup, where python-can's slcan reads byte by byte."""

    def __init__(self, path: str, codec: CanCodec, on_reading: Callable[[str, Any], None]):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.codec, self.on_reading = codec, on_reading
        self.buffer = b""
        self.readings = 0
        self.errors = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        try:
            self.buffer += os.read(self.fd, 65536)
        except BlockingIOError:
            return
        *records, self.buffer = self.buffer.split(b"\r")
        for record in records:
            letter = record[:1]
            if letter not in (b"t", b"T"):
                continue
            id_end = 4 if letter == b"t" else 9
            try:
                length = int(record[id_end : id_end + 1])
                data = bytes.fromhex(record[id_end + 1 : id_end + 1 + 2 * length].decode())
                message = self.codec.decode(int(record[1:id_end], 16), data, letter == b"T")
            except (ValueError, ProtocolError):
                self.errors += 1
                continue
            self.readings += 1
            self.on_reading("vehicle", message)

    def close(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.remove_reader(self.fd)
        os.close(self.fd)


async def source_path(
    frames: list[Frame], rate: float, seconds: float, work: Path, transport: str
) -> dict[str, Any]:
    """One run at ``rate`` frames/s: the product's CanSource over ``virtual`` or ``slcan``,
    or the ``batched`` what-if reader over slcan."""
    loop = asyncio.get_running_loop()
    channel = f"bench-{uuid.uuid4().hex[:8]}"
    port = VirtualSerialPort() if transport in ("slcan", "batched") else None
    outbox = Outbox(work / f"outbox-{transport}-{int(rate)}.db")
    recorder = Recorder(outbox, Clock(), lambda urgent: None)
    # an exception raised in a callback on the loop (e.g. a Notifier reading in the loop)
    # would only be logged by asyncio's default handler, never seen by the source: count
    callback_errors: Counter[str] = Counter()
    loop.set_exception_handler(
        lambda loop, context: callback_errors.update([type(context.get("exception")).__name__])
    )
    source: CanSource | None = None
    reader: BatchedSlcanReader | None = None
    task = None
    if transport == "batched":
        assert port is not None
        reader = BatchedSlcanReader(port.path, CanCodec(), recorder.on_reading)
        reader.start(loop)
    else:
        settings = (
            CanSourceConfig(interface="slcan", channel=port.path, bitrate=500_000)
            if port is not None
            else CanSourceConfig(interface="virtual", channel=channel)
        )
        source = CanSource(
            "vehicle", settings, on_reading=recorder.on_reading, on_event=lambda *event: None
        )
        task = asyncio.create_task(source.run())

    def readings() -> int:
        return source.health.readings if source is not None else reader.readings  # type: ignore[union-attr]

    try:
        while source is not None and source._bus is None:  # open: frames from now on are heard
            await asyncio.sleep(0.01)
        if port is not None:
            port.drain_input()  # python-can's C, S6, O: nobody answers, nobody needs to
        sender = Sender(frames, rate, seconds, channel=channel, port=port)
        cpu_start, wall_start = time.process_time(), time.monotonic()
        sender.start()
        while sender.is_alive():
            await asyncio.sleep(0.05)
        for _ in range(100):  # let the tail arrive
            if readings() >= sender.sent:
                break
            await asyncio.sleep(0.01)
        cpu = time.process_time() - cpu_start
        wall = time.monotonic() - wall_start
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if reader is not None:
            reader.close(loop)
        outbox.close()
        if port is not None:
            port.close()
    receive_cpu = cpu - sender.cpu_s
    decoded = readings()
    health = source.health.errors if source is not None else Counter()
    return {
        "rate": rate,
        "sent": sender.sent,
        "decoded": decoded,
        "overruns": health["overrun"],
        "wall": wall,
        "decoded_per_s": decoded / wall,
        "receive_cpu_percent": 100 * receive_cpu / wall,
        "sender_cpu_percent": 100 * sender.cpu_s / wall,
        "frames_per_cpu_s": decoded / receive_cpu if receive_cpu > 0 else float("nan"),
        "bytes_dropped": port.bytes_dropped if port is not None else 0,
        "callback_errors": sum(callback_errors.values()),
        "callback_error_types": ", ".join(f"{k} {v}" for k, v in callback_errors.items()),
        "reopens": health["disconnect"],
        "bad_records": reader.errors if reader is not None else health["frame"],
    }
