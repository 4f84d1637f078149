"""The files around the outbox database: the seq ceiling and setting a corrupt file aside.

Both exist so that ``seq`` never goes back even when the database itself is lost. The
ceiling file (``<db>.seq``) holds one integer greater than every seq the outbox has handed
out or may hand out before it writes the file again. It is replaced atomically: write a
temporary file, fsync it, rename it over the old one, fsync the directory. A power cut
therefore leaves either the old ceiling or the new one, never a torn file.
"""

from __future__ import annotations

import contextlib
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_HEADER_SIZE = 100
SIDE_SUFFIXES = ("-wal", "-shm")  # SQLite's own companions of a database file


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SeqCeiling:
    """The durable upper bound on handed-out seqs, in a tiny file next to the database.

    ``value`` is what the file holds (0 when there is none). ``problem`` says why an
    existing file could not be read; such a file is set aside and counts as 0.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem: str | None = None
        self.set_aside_to: Path | None = None
        self.value = self._read()

    def _read(self) -> int:
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError) as err:
            self.problem = f"seq ceiling file unreadable: {err}"
        else:
            try:
                value = int(text.strip())
            except ValueError:
                value = -1
            if value >= 0:
                return value
            self.problem = f"seq ceiling file holds {text[:40]!r}, expected a whole number"
        self.set_aside_to = set_aside(self.path)
        return 0

    def raise_to(self, value: int) -> None:
        """Durably store ``value`` as the new ceiling (before any seq below it is used)."""
        if value <= self.value:
            return
        temporary = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, f"{value}\n".encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        fsync_directory(self.path.parent)
        self.value = value


def header_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a SQLite database by its first bytes, or None if it may be.

    An empty file is accepted: SQLite treats it as a new database, and a power cut while
    the outbox was first created can leave one.
    """
    try:
        with path.open("rb") as file:
            header = file.read(SQLITE_HEADER_SIZE)
    except FileNotFoundError:
        return None
    if not header:
        return None
    if len(header) < SQLITE_HEADER_SIZE:
        return f"not a database: {len(header)} bytes, shorter than a SQLite header"
    if not header.startswith(SQLITE_HEADER):
        return f"not a database: starts with {header[:16]!r}, expected {SQLITE_HEADER!r}"
    return None


def set_aside(path: Path) -> Path:
    """Rename ``path`` (and its -wal/-shm files) to ``<name>.corrupt-<UTC time>``.

    Nothing is deleted: the file may still hold records someone wants to recover by hand.
    Returns the new path of the main file.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    attempt = 1
    while any(Path(f"{target}{suffix}").exists() for suffix in ("", *SIDE_SUFFIXES)):
        attempt += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{attempt}")
    # companions first: a -wal left behind next to a fresh database would be replayed into it
    for suffix in SIDE_SUFFIXES:
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", f"{target}{suffix}")
    with contextlib.suppress(FileNotFoundError):
        os.replace(path, target)
    fsync_directory(path.parent)
    log.error("set %s aside as %s", path, target)
    return target


def files_size(path: Path) -> int:
    """Bytes on disk of the database and its WAL."""
    total = 0
    for name in (str(path), f"{path}-wal"):
        with contextlib.suppress(FileNotFoundError):
            total += os.path.getsize(name)
    return total
