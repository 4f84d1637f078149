"""The device side of an slcan (LAWICEL) USB-CAN adapter, on a virtual serial port.

The agent opens the pty with its own ``slcan`` source (an empty command, ``C``, ``S6``,
``O``, each answered before the next) or with ``can.Bus(interface="slcan",
channel=port.path, bitrate=500000)``: python-can sends ``C``, ``S6``, an empty command and
``O`` (each with ``\\r``) without waiting, and later ``C`` on shutdown. Records are
formatted and parsed by ``protocols.slcan``. The adapter answers as the LAWICEL manual says
(``\\r`` for OK, ``\\a`` (BEL) for an error) and forwards bus frames as ``t``/``T``
records only while the channel is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable

from firmware_sim.serial_pty import PortUnplugged, VirtualSerialPort
from protocols import slcan
from protocols.slcan import format_frame

log = logging.getLogger(__name__)

OK = slcan.encode_reply(slcan.SlcanReply(slcan.SlcanReplyKind.OK))
ERROR = slcan.encode_reply(slcan.SlcanReply(slcan.SlcanReplyKind.ERROR))
# command -> bit rate, as the adapter reads them
BITRATES = {command: bitrate for bitrate, command in slcan.BITRATE_COMMANDS.items()}
_MAX_COMMAND = 64  # longer than any LAWICEL command: noise, not a command


class SlcanAdapter:
    """A LAWICEL adapter: answers commands, forwards frames while the channel is open.

    ``on_frame(arbitration_id, data, is_extended)`` sees the frames the agent transmits.
    """

    version = "V1013"
    serial_number = "NVR01"

    def __init__(
        self,
        port: VirtualSerialPort,
        on_frame: Callable[[int, bytes, bool], None] | None = None,
    ) -> None:
        self.port = port
        self.on_frame = on_frame
        self.bitrate = 500_000
        self.is_open = False
        self.listen_only = False
        self.timestamps = False
        self.commands_received = 0
        self.commands_refused = 0
        self.frames_received = 0
        self._buffer = bytearray()

    def reset(self) -> None:
        """Power-on state: what the adapter is after being unplugged and plugged in."""
        self.is_open = self.listen_only = self.timestamps = False
        self._buffer.clear()

    def handle_command(self, command: str) -> bytes:
        """The adapter's answer to one command (without its ``\\r``)."""
        self.commands_received += 1
        answer = self._answer(command)
        if answer == ERROR:
            self.commands_refused += 1
            log.debug("slcan: refused command %r", command)
        return answer

    def _answer(self, command: str) -> bytes:
        code = command[:1]
        if command == "":
            return OK
        if command in BITRATES or (code == "s" and re.fullmatch(r"s[0-9A-Fa-f]{4}", command)):
            if self.is_open:
                return ERROR
            self.bitrate = BITRATES.get(command, self.bitrate)
            return OK
        if command in ("O", "L"):
            if self.is_open:
                return ERROR
            self.is_open, self.listen_only = True, command == "L"
            return OK
        if command == "C":
            self.is_open = self.listen_only = False
            return OK
        if command == "V":
            return f"{self.version}\r".encode()
        if command == "N":
            return f"N{self.serial_number[1:]}\r".encode()
        if command == "F":
            return b"F00\r" if self.is_open else ERROR
        if command in ("Z0", "Z1"):
            self.timestamps = command == "Z1"
            return OK
        if code in ("M", "m", "X", "W", "U", "Q"):
            return OK  # acceptance filters, auto-poll, UART speed: accepted, no effect here
        if code in ("t", "T", "r", "R"):
            return self._transmit(command)
        return ERROR

    def _transmit(self, command: str) -> bytes:
        if not self.is_open or self.listen_only:
            return ERROR
        try:
            frame = slcan.parse_frame_record(command.encode("ascii", "replace"), timestamps=False)
        except slcan.SlcanFrameError as err:
            log.debug("slcan: malformed transmit: %s", err)
            return ERROR
        self.frames_received += 1
        if self.on_frame is not None:
            self.on_frame(frame.arbitration_id, frame.data, frame.is_extended)
        return b"Z\r" if frame.is_extended else b"z\r"

    def send_frame(self, arbitration_id: int, data: bytes, is_extended: bool = False) -> bool:
        """Forward one bus frame to the host; False (dropped) while the channel is closed."""
        if not self.is_open:
            return False
        stamp = int(time.monotonic() * 1000) if self.timestamps else None
        self.port.write(format_frame(arbitration_id, data, is_extended, stamp))
        return True

    def receive(self, data: bytes) -> bytes:
        """Bytes the host wrote -> the answers to every complete command in them."""
        self._buffer += data
        answers = bytearray()
        while (end := self._buffer.find(b"\r")) >= 0:
            raw = bytes(self._buffer[:end]).strip(b"\n")
            del self._buffer[: end + 1]
            answers += self.handle_command(raw.decode("ascii", "replace"))
        if len(self._buffer) > _MAX_COMMAND:
            self._buffer.clear()
            answers += ERROR
        return bytes(answers)

    async def serve(self) -> None:
        """Answer the host until cancelled; an unplugged port resets the adapter and
        waits to be plugged back in."""
        while True:
            try:
                data = await self.port.read()
            except PortUnplugged:
                self.reset()
                while not self.port.plugged:
                    await asyncio.sleep(0.05)
                continue
            answers = self.receive(data)
            if answers:
                with contextlib.suppress(PortUnplugged):
                    self.port.write(answers)
