"""Serial ports for asyncio: the one place where a blocking driver meets the event loop.

pyserial opens and configures the port (baud rate, raw mode); after that the port's file
descriptor is non-blocking and the event loop waits on it with ``add_reader``, so a
gateway with several serial sources needs no threads. Gateways run Linux; a port without
a file descriptor is not supported.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

import serial


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class SerialDisconnected(ConnectionError):
    """The port went away (adapter unplugged, device closed) or cannot be opened."""


class SerialLink:
    """One open serial port with async ``read`` and ``write``."""

    def __init__(self, port: str, baudrate: int) -> None:
        self.port = port
        self.baudrate = baudrate
        self._serial: serial.Serial | None = None

    def open(self) -> None:
        """Open the port; SerialDisconnected if it is not there."""
        try:
            self._serial = serial.Serial(self.port, self.baudrate, timeout=0, write_timeout=0)
        except (serial.SerialException, OSError) as err:
            raise SerialDisconnected(f"{self.port}: cannot open: {err}") from err
        os.set_blocking(self._serial.fileno(), False)

    def close(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(OSError, serial.SerialException):
                self._serial.close()
            self._serial = None

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def _fd(self) -> int:
        if self._serial is None:
            raise SerialDisconnected(f"{self.port}: not open")
        return self._serial.fileno()

    async def read(self, timeout: float, max_bytes: int = 4096) -> bytes:
        """Bytes that arrived, waiting up to ``timeout`` s; TimeoutError if none did."""
        fd = self._fd()
        data = self._read_now(fd, max_bytes)
        if data is not None:
            return data
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        loop.add_reader(fd, _wake, ready)
        try:
            async with asyncio.timeout(timeout):
                await ready
        finally:
            loop.remove_reader(fd)
        data = self._read_now(fd, max_bytes)
        if not data:
            # readable but nothing to read: the other end hung up
            raise SerialDisconnected(f"{self.port}: device disconnected")
        return data

    def _read_now(self, fd: int, max_bytes: int) -> bytes | None:
        try:
            data = os.read(fd, max_bytes)
        except BlockingIOError:
            return None
        except OSError as err:
            raise SerialDisconnected(f"{self.port}: {err.strerror or err}") from err
        # pyserial's timeout=0 sets VMIN=VTIME=0: an empty read means "nothing yet" here,
        # and only "readable but empty" (checked by read()) means the device hung up
        return data or None

    def discard_input(self) -> int:
        """Drop bytes already waiting (stale answers before a new request)."""
        fd = self._fd()
        dropped = 0
        while True:
            data = self._read_now(fd, 4096)
            if not data:
                return dropped
            dropped += len(data)

    async def write(self, data: bytes) -> None:
        """Send bytes; a serial request is small enough for the kernel buffer."""
        fd = self._fd()
        view = memoryview(data)
        while view:
            try:
                sent = os.write(fd, view)
            except BlockingIOError:
                await asyncio.sleep(0.005)
                continue
            except OSError as err:
                raise SerialDisconnected(f"{self.port}: {err.strerror or err}") from err
            view = view[sent:]
