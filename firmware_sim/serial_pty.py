"""The device end of a serial line, on a pseudo-terminal.

A simulated BMS or GNSS module owns the pty master; the edge agent opens the slave path
with pyserial exactly as it would open ``/dev/ttyUSB0``. A stable symlink plays the part of
``/dev/serial/by-id/...``: unplugging closes the pty (the agent's reads fail) and removes
the link, plugging back in makes a new pty behind the same link.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import tty
from pathlib import Path

log = logging.getLogger(__name__)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class PortUnplugged(ConnectionError):
    """The simulated adapter is not plugged in."""


class VirtualSerialPort:
    """A pty pair standing in for one serial adapter.

    ``path`` is what the agent opens: the symlink when ``link_path`` is given, otherwise
    the pty slave's own name (which changes on every plug).
    """

    def __init__(self, link_path: str | os.PathLike[str] | None = None) -> None:
        self._link = Path(link_path) if link_path is not None else None
        self._master: int | None = None
        self._slave: int | None = None
        self._waiter: asyncio.Future[None] | None = None
        self.bytes_dropped = 0  # written while the line's buffer was full (nobody reading)
        self.plug()

    # -- plugging --------------------------------------------------------------------
    def plug(self) -> None:
        """Create a fresh pty behind the link (no-op when already plugged in)."""
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes go through untouched
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        if self._link is not None:
            self._link.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._link.with_name(self._link.name + ".new")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(os.ttyname(slave))
            tmp.replace(self._link)

    def unplug(self) -> None:
        """Pull the adapter: the agent's open port starts failing, the link disappears."""
        if self._link is not None:
            with contextlib.suppress(FileNotFoundError):
                self._link.unlink()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            # epoll forgets a closed fd silently: wake the reader so it sees the unplug
            with contextlib.suppress(ValueError, OSError, RuntimeError):
                if self._master is not None:
                    waiter.get_loop().remove_reader(self._master)
            waiter.set_exception(PortUnplugged("serial port was unplugged"))
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    close = unplug

    @property
    def plugged(self) -> bool:
        return self._master is not None

    @property
    def slave_name(self) -> str:
        if self._slave is None:
            raise PortUnplugged("serial port is unplugged")
        return os.ttyname(self._slave)

    @property
    def path(self) -> str:
        """The path an agent should open."""
        return str(self._link) if self._link is not None else self.slave_name

    # -- data ------------------------------------------------------------------------
    def write(self, data: bytes) -> int:
        """Send bytes down the line; what does not fit in the line's buffer is dropped,
        as a UART drops bytes nobody reads. Returns the number of bytes written."""
        if self._master is None:
            raise PortUnplugged("serial port is unplugged")
        written = 0
        view = memoryview(data)
        while written < len(data):
            try:
                written += os.write(self._master, view[written:])
            except BlockingIOError:
                break
            except OSError as err:
                if err.errno in (errno.EIO, errno.EBADF):
                    raise PortUnplugged(str(err)) from err
                raise
        self.bytes_dropped += len(data) - written
        return written

    async def read(self, max_bytes: int = 4096) -> bytes:
        """Wait for bytes the agent wrote to the line."""
        loop = asyncio.get_running_loop()
        while True:
            master = self._master
            if master is None:
                raise PortUnplugged("serial port is unplugged")
            try:
                return os.read(master, max_bytes)
            except BlockingIOError:
                pass
            except OSError as err:
                raise PortUnplugged(str(err)) from err
            ready = self._waiter = loop.create_future()
            loop.add_reader(master, _wake, ready)
            try:
                await ready
            finally:
                self._waiter = None
                if self._master == master:
                    loop.remove_reader(master)

    def drain_input(self) -> None:
        """Discard whatever the agent wrote and nobody has read yet."""
        if self._master is None:
            return
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self._master, 4096):
                pass

    def __enter__(self) -> VirtualSerialPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.unplug()
