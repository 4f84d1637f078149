"""The durable store-and-forward outbox: every sample and event waits here until the
broker has it.

Contract: ``put()`` returns the record's ``seq`` once the record is on disk; ``batch()``
reads the oldest records without removing them; ``ack(seqs)`` deletes exactly those seqs
after the broker's PUBACK. Acknowledging by seq (never "everything up to a timestamp")
means a record put while a batch was in flight can never be deleted unsent.

Durability. SQLite in WAL mode with ``synchronous=FULL``: every commit fsyncs the WAL
before ``put()``/``ack()`` returns. Vehicles lose power without warning; with ``NORMAL``,
the usual WAL setting, a commit is only fsynced at the next checkpoint, so a power cut could
take back records ``put()`` had already returned for. What a power cut costs here: nothing that
``put()`` returned for. A put in progress is either wholly in or not at all (a commit is one
set of checksummed WAL frames; a torn tail is ignored on recovery), and an ack in progress
likewise, which at worst sends a batch twice; the cloud keys on ``(device_id, seq)``. The
price is one fsync per put, fine for a record every few seconds; ``put_many()`` puts a
whole sampling round in one transaction. ``wal_autocheckpoint`` and
``journal_size_limit`` keep the WAL from growing without bound while offline for days.

Seq never goes back, also after acks emptied the outbox (the counter lives in a ``meta``
row updated in the same transaction as the insert) and also when the database is lost or
set aside as corrupt: the ceiling file ``<db>.seq`` (see ``outbox_files``) holds a number
greater than any seq handed out. The order of writes that makes this safe:

1. before a transaction would hand out a seq at or above the stored ceiling, the ceiling is
   raised by ``seq_reserve_block`` past it and made durable (temp, fsync, rename, fsync dir);
2. then the records and the new ``next_seq`` are committed together (WAL fsync);
3. only then does ``put()`` return the seqs.

A crash between 1 and 2 only wastes reserved numbers. On open, an intact database goes on
from its own ``next_seq``; a new one (first start, or after setting a corrupt file aside)
starts at the ceiling, which is above every seq ever handed out.

Bounded size. At most ``max_records`` records are kept. When a put would exceed that, the
oldest TELEMETRY records are dropped first (a gap in history is survivable); EVENTS only
when no telemetry is left to drop, since an event (a protection trip, a cut-off) is rarer
and weighs more. The drop happens in the put's own transaction (a ``put_many()`` larger than
the bound loses its own oldest telemetry). Drops are counted per kind in ``dropped`` and
handed once to the agent as ``outbox_overflow`` notices by ``take_notices()``.

A corrupt file (not a SQLite database, ``PRAGMA quick_check`` failing, SQLite reporting
corruption on open, or a schema this code does not know) is renamed to
``<name>.corrupt-<UTC time>`` with its -wal/-shm files, never deleted; a fresh outbox is
created and an ``outbox_corrupt`` notice says where the old one went and why.

Threads: an ``Outbox`` belongs to the thread that opened it (the agent's asyncio thread);
SQLite's ``check_same_thread`` refuses use from another one. One process owns one file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from edge_agent.outbox_files import SeqCeiling, files_size
from edge_agent.outbox_sqlite import (
    COLUMNS,
    FIRST_SEQ,
    OutboxError,
    load_state,
    open_database,
    write_transaction,
)

__all__ = ["Outbox", "OutboxError", "OutboxNotice", "OutboxRecord", "RecordKind"]

ACK_CHUNK = 500  # seqs per DELETE, well under SQLite's limit on bound parameters


SHRINK_AT_FREE_PAGES = 4096  # 16 MiB of 4 KiB pages free: give them back


class RecordKind(StrEnum):
    TELEMETRY = "telemetry"
    EVENT = "event"


DROP_ORDER = (RecordKind.TELEMETRY, RecordKind.EVENT)  # who goes first when the outbox is full


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """One stored sample or event, as ``batch()`` returns it."""

    seq: int  # per-device counter, never goes back, assigned by put()
    kind: RecordKind
    captured_ms: int  # device wall-clock time of the sample or event, epoch ms UTC
    payload: bytes  # the encoded body, opaque to the outbox
    boot_id: str  # which boot of the agent captured it
    captured_monotonic_ns: int  # time.monotonic_ns() at capture, meaningful only within boot_id


@dataclass(frozen=True, slots=True)
class OutboxNotice:
    """Something the agent must report as a device event (``type``, ``detail``, ``severity``
    as in the event schema): ``outbox_corrupt`` or ``outbox_overflow``."""

    type: str
    detail: dict[str, Any]
    severity: str


class Outbox:
    """A bounded, durable FIFO of records keyed by seq, in one SQLite file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_records: int = 500_000,
        seq_reserve_block: int = 10_000,
    ) -> None:
        if max_records < 1 or seq_reserve_block < 1:
            raise ValueError(
                f"max_records {max_records} and seq_reserve_block {seq_reserve_block}"
                " must be at least 1"
            )
        self.path = Path(path)
        self.max_records = max_records
        self.seq_reserve_block = seq_reserve_block
        self.boot_id = uuid.uuid4().hex
        self.dropped = dict.fromkeys(RecordKind, 0)
        self._unreported_drops = dict.fromkeys(RecordKind, 0)
        self._notices: list[OutboxNotice] = []
        self._db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._ceiling = SeqCeiling(self.path.with_name(self.path.name + ".seq"))
            self._db, set_aside_files = open_database(
                self.path, first_seq=max(FIRST_SEQ, self._ceiling.value)
            )
        except OSError as err:  # an unreadable path, a read-only directory
            raise OutboxError(f"outbox {self.path}: {err}") from err
        if self._ceiling.problem:
            self._corrupt_notice(self._ceiling.set_aside_to, self._ceiling.problem)
        for moved_to, reason in set_aside_files:
            self._corrupt_notice(moved_to, reason)
        try:
            self._next_seq, counts = load_state(self._db)
        except sqlite3.Error as err:
            self.close()
            raise OutboxError(f"outbox {self.path}: {err}") from err
        self._counts = dict.fromkeys(RecordKind, 0)
        self._counts.update((RecordKind(kind), count) for kind, count in counts.items())

    def _corrupt_notice(self, moved_to: Path | None, reason: str) -> None:
        detail = {"path": str(moved_to), "reason": reason}
        self._notices.append(OutboxNotice("outbox_corrupt", detail, "critical"))

    # -- writing ---------------------------------------------------------------------
    def put(
        self,
        kind: RecordKind,
        payload: bytes,
        *,
        captured_ms: int,
        captured_monotonic_ns: int | None = None,
    ) -> int:
        """Store one record; returns its seq. The record is on disk when this returns."""
        monotonic_ns = (
            time.monotonic_ns() if captured_monotonic_ns is None else captured_monotonic_ns
        )
        return self._insert([_row(kind, payload, captured_ms, monotonic_ns)])[0]

    def put_many(self, items: Sequence[tuple[RecordKind, bytes, int]]) -> list[int]:
        """Store ``(kind, payload, captured_ms)`` records in one transaction; returns
        their seqs in order (all stored, or none on error)."""
        monotonic_ns = time.monotonic_ns()
        return self._insert([_row(kind, body, ms, monotonic_ns) for kind, body, ms in items])

    def _insert(self, rows: list[tuple[RecordKind, bytes, int, int]]) -> list[int]:
        if not rows:
            return []
        first, end = self._next_seq, self._next_seq + len(rows)
        if end > self._ceiling.value:  # the ceiling must stay above every seq handed out
            try:
                self._ceiling.raise_to(end + self.seq_reserve_block)
            except OSError as err:
                raise OutboxError(f"outbox {self.path}: cannot reserve seqs: {err}") from err
        counts = dict(self._counts)
        with self._writing() as connection:
            connection.executemany(
                f"INSERT INTO records ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (seq, kind.value, ms, body, self.boot_id, monotonic_ns)
                    for seq, (kind, body, ms, monotonic_ns) in enumerate(rows, start=first)
                ],
            )
            for kind, *_ in rows:
                counts[kind] += 1
            dropped = self._drop_over_bound(connection, counts)
            connection.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (end,))
        self._next_seq, self._counts = end, counts
        for kind, count in dropped.items():
            self.dropped[kind] += count
            self._unreported_drops[kind] += count
        return list(range(first, end))

    def _drop_over_bound(
        self, connection: sqlite3.Connection, counts: dict[RecordKind, int]
    ) -> dict[RecordKind, int]:
        excess = sum(counts.values()) - self.max_records
        dropped: dict[RecordKind, int] = {}
        for kind in DROP_ORDER:
            if excess <= 0:
                break
            if take := min(excess, counts[kind]):
                cursor = connection.execute(
                    "DELETE FROM records WHERE seq IN"
                    " (SELECT seq FROM records WHERE kind = ? ORDER BY seq LIMIT ?)",
                    (kind.value, take),
                )
                counts[kind] -= cursor.rowcount
                excess -= cursor.rowcount
                dropped[kind] = cursor.rowcount
        return dropped

    def ack(self, seqs: Iterable[int]) -> int:
        """Delete exactly these seqs (after the broker confirmed them), in one transaction;
        returns how many were deleted. Unknown or already acknowledged seqs are ignored."""
        wanted = sorted({int(seq) for seq in seqs})
        if not wanted:
            return 0
        removed = dict.fromkeys(RecordKind, 0)
        with self._writing() as connection:
            for start in range(0, len(wanted), ACK_CHUNK):
                chunk = wanted[start : start + ACK_CHUNK]
                marks = ", ".join("?" * len(chunk))
                for kind, count in connection.execute(
                    f"SELECT kind, COUNT(*) FROM records WHERE seq IN ({marks}) GROUP BY kind",
                    chunk,
                ):
                    removed[RecordKind(kind)] += count
                connection.execute(f"DELETE FROM records WHERE seq IN ({marks})", chunk)
        for kind, count in removed.items():
            self._counts[kind] -= count
        self._shrink()
        return sum(removed.values())

    def _shrink(self) -> None:
        """Give free pages back to the file system once a backlog is gone (or a lot of it):
        a 24 h backlog would otherwise keep its ~30 MiB on the flash forever."""
        connection = self._connection()
        free_pages = connection.execute("PRAGMA freelist_count").fetchone()[0]
        if free_pages and (len(self) == 0 or free_pages >= SHRINK_AT_FREE_PAGES):
            try:
                # executescript steps the pragma to the end; execute() frees one page
                connection.executescript("PRAGMA incremental_vacuum;")
            except sqlite3.Error as err:
                raise OutboxError(f"outbox {self.path}: {err}") from err

    # -- reading ---------------------------------------------------------------------
    def batch(self, limit: int, kind: RecordKind | None = None) -> list[OutboxRecord]:
        """Up to ``limit`` of the oldest records (of ``kind``, if given), by seq; they stay
        in the outbox until acknowledged."""
        if limit < 0:
            raise ValueError(f"batch limit {limit} must not be negative")
        query = f"SELECT {COLUMNS} FROM records"
        parameters: tuple[Any, ...] = (limit,)
        if kind is not None:
            query += " WHERE kind = ?"
            parameters = (RecordKind(kind).value, limit)
        try:
            rows = self._connection().execute(f"{query} ORDER BY seq LIMIT ?", parameters)
            return [
                OutboxRecord(seq, RecordKind(k), ms, body, boot, mono)
                for seq, k, ms, body, boot, mono in rows
            ]
        except sqlite3.Error as err:
            raise OutboxError(f"outbox {self.path}: cannot read: {err}") from err

    def __len__(self) -> int:
        return sum(self._counts.values())

    def count(self, kind: RecordKind | None = None) -> int:
        """Records waiting, of one kind or all."""
        return len(self) if kind is None else self._counts[RecordKind(kind)]

    @property
    def next_seq(self) -> int:
        """The seq the next put will get."""
        return self._next_seq

    def take_notices(self) -> list[OutboxNotice]:
        """What happened since the last call that the agent must report as device events:
        a corrupt file set aside, records dropped by the size bound (count since last time)."""
        notices, self._notices = self._notices, []
        for kind in DROP_ORDER:
            if count := self._unreported_drops[kind]:
                detail = {"kind": kind.value, "dropped": count}
                notices.append(OutboxNotice("outbox_overflow", detail, "warning"))
                self._unreported_drops[kind] = 0
        return notices

    def stats(self) -> dict[str, int]:
        """For the status message (keys as in status.schema.json ``outbox``): records
        waiting, bytes on disk with the WAL, drops since start, and ``oldest_ts``, the
        capture time of the oldest waiting record (absent when empty)."""
        stats = {
            "records": len(self),
            "bytes": files_size(self.path),
            "dropped_telemetry": self.dropped[RecordKind.TELEMETRY],
            "dropped_events": self.dropped[RecordKind.EVENT],
        }
        if oldest := self.batch(1):
            stats["oldest_ts"] = oldest[0].captured_ms
        return stats

    # -- lifetime --------------------------------------------------------------------
    def close(self) -> None:
        """Close the file (idempotent); SQLite checkpoints the WAL on the way out."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise OutboxError(f"outbox {self.path} is closed")
        return self._db

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        try:
            with write_transaction(self._connection()) as connection:
                yield connection
        except sqlite3.Error as err:
            raise OutboxError(f"outbox {self.path}: {err}") from err


def _row(
    kind: RecordKind, payload: bytes, captured_ms: int, monotonic_ns: int
) -> tuple[RecordKind, bytes, int, int]:
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise TypeError(f"outbox payload must be bytes, got {type(payload).__name__}")
    if not isinstance(captured_ms, int) or isinstance(captured_ms, bool):
        raise TypeError(f"captured_ms must be an int of epoch ms, got {captured_ms!r}")
    return RecordKind(kind), bytes(payload), captured_ms, int(monotonic_ns)
