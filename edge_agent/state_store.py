"""What the gateway must remember across restarts for remote control: commands it has seen
and their results, the acks not yet confirmed by the broker, the lease term, and a few
host-side settings.

One SQLite file next to the outbox (``<outbox>.state.db`` unless ``control.state_path``
says otherwise), with the outbox's durability settings (WAL, ``synchronous=FULL``).

Exactly one ack per ``cmd_id``. A command's result and its ack are written in ONE
transaction (``finish()``), and the ack row is deleted only after the broker's PUBACK
(``ack_sent()``). So a crash can never leave a result without its ack or an ack without its
result, and a redelivered ``cmd_id`` finds its row and is neither executed nor acked again.
That is why acks wait here rather than in the sample outbox: two files cannot share a
transaction, and an ack must never be dropped by the outbox's size bound nor take a seq.

A command is stored as ``pending`` when it arrives, before it runs; after a restart the
pending ones run again in arrival order (a MOSFET write or a parameter write is safe to
repeat). Finished commands are pruned ``executed_retention_s`` after their expiry: past its
expiry a redelivery would be refused anyway, the retention covers a wrong clock.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_agent.outbox_sqlite import OutboxError, connect, write_transaction
from protocols.contract import Ack, Command, LeaseTerm, encode

SCHEMA_VERSION = 1
SCHEMA = (
    """CREATE TABLE commands (
        arrival INTEGER PRIMARY KEY AUTOINCREMENT,
        cmd_id TEXT NOT NULL UNIQUE,
        command BLOB NOT NULL,
        expires_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'finished')),
        result TEXT
    )""",
    "CREATE TABLE acks (cmd_id TEXT PRIMARY KEY, payload BLOB NOT NULL)",
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
)


class StateError(OutboxError):
    """The state file cannot be read or written."""


@dataclass(frozen=True, slots=True)
class PendingAck:
    cmd_id: str
    payload: bytes  # the encoded up/ack message


class StateStore:
    """Commands seen, acks waiting, the lease term and settings, in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = connect(self.path)
            self._create()
        except (OSError, sqlite3.Error) as err:
            raise StateError(f"state {self.path}: {err}") from err

    def _create(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version != 0:
            raise StateError(f"state {self.path}: unknown schema version {version}")
        with write_transaction(self._db):
            for statement in SCHEMA:
                self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        try:
            with write_transaction(self._db) as connection:
                yield connection
        except sqlite3.Error as err:
            raise StateError(f"state {self.path}: {err}") from err

    def _query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, parameters).fetchall()
        except sqlite3.Error as err:
            raise StateError(f"state {self.path}: {err}") from err

    # -- commands --------------------------------------------------------------------
    def seen(self, cmd_id: str) -> bool:
        """Whether this cmd_id arrived before (pending, or finished and acked)."""
        return bool(self._query("SELECT 1 FROM commands WHERE cmd_id = ?", (cmd_id,)))

    def add_pending(self, command: Command) -> bool:
        """Remember an arriving command before it runs; False if the cmd_id is known."""
        with self._writing() as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO commands (cmd_id, command, expires_at, state)"
                " VALUES (?, ?, ?, 'pending')",
                (command.cmd_id, encode(command), command.expires_at),
            )
        return cursor.rowcount == 1

    def pending(self) -> list[Command]:
        """Commands that arrived but have no result yet, in arrival order."""
        rows = self._query("SELECT command FROM commands WHERE state = 'pending' ORDER BY arrival")
        return [Command.from_wire(json.loads(row[0])) for row in rows]

    def queue_ack(self, ack: Ack) -> None:
        """Queue an ack for a command that is not remembered (its signature failed): the
        cmd_id stays unseen, and a result stored later for it replaces this ack."""
        with self._writing() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO acks (cmd_id, payload) VALUES (?, ?)",
                (ack.cmd_id, encode(ack)),
            )

    def finish(self, command: Command, ack: Ack) -> bool:
        """Store the result and queue its ack in one transaction. False (nothing written)
        when this cmd_id already has a result: the caller must not ack again."""
        payload = encode(ack)
        with self._writing() as connection:
            row = connection.execute(
                "SELECT state FROM commands WHERE cmd_id = ?", (command.cmd_id,)
            ).fetchone()
            if row is not None and row[0] == "finished":
                return False
            connection.execute(
                "INSERT INTO commands (cmd_id, command, expires_at, state, result)"
                " VALUES (?, ?, ?, 'finished', ?)"
                " ON CONFLICT (cmd_id) DO UPDATE SET state = 'finished', result = excluded.result",
                (command.cmd_id, encode(command), command.expires_at, ack.result),
            )
            # REPLACE: a rejection queued by queue_ack() for a forged copy of this cmd_id
            connection.execute(
                "INSERT OR REPLACE INTO acks (cmd_id, payload) VALUES (?, ?)",
                (command.cmd_id, payload),
            )
        return True

    def result(self, cmd_id: str) -> str | None:
        """The stored result of a finished command (None: unknown or still pending)."""
        rows = self._query("SELECT result FROM commands WHERE cmd_id = ?", (cmd_id,))
        return rows[0][0] if rows else None

    def prune(self, before_ms: int) -> int:
        """Forget finished commands that expired before ``before_ms``; returns how many."""
        with self._writing() as connection:
            cursor = connection.execute(
                "DELETE FROM commands WHERE state = 'finished' AND expires_at < ?"
                " AND cmd_id NOT IN (SELECT cmd_id FROM acks)",
                (before_ms,),
            )
        return cursor.rowcount

    # -- acks ------------------------------------------------------------------------
    def acks(self, limit: int = 100) -> list[PendingAck]:
        """Acks waiting for the broker, oldest first."""
        rows = self._query("SELECT cmd_id, payload FROM acks ORDER BY rowid LIMIT ?", (limit,))
        return [PendingAck(cmd_id, bytes(payload)) for cmd_id, payload in rows]

    def ack_sent(self, ack: PendingAck) -> None:
        """The broker has the ack (PUBACK): never send it again. Matched on the payload too:
        an ack that replaced it meanwhile (see queue_ack) is still to be sent."""
        with self._writing() as connection:
            connection.execute(
                "DELETE FROM acks WHERE cmd_id = ? AND payload = ?", (ack.cmd_id, ack.payload)
            )

    def acks_waiting(self) -> int:
        count: int = self._query("SELECT COUNT(*) FROM acks")[0][0]
        return count

    # -- settings --------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        """A JSON setting (None or ``default`` when never set)."""
        rows = self._query("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def put(self, key: str, value: Any) -> None:
        """Store a JSON setting durably (``None`` deletes it)."""
        with self._writing() as connection:
            if value is None:
                connection.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                connection.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, json.dumps(value)),
                )

    def lease_term(self) -> LeaseTerm | None:
        """The stored lease term (None before the first one)."""
        wire = self.get("lease_term")
        return LeaseTerm.from_wire(wire) if wire is not None else None

    def set_lease_term(self, term: LeaseTerm) -> None:
        self.put("lease_term", term.to_wire())

    # -- lifetime --------------------------------------------------------------------
    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
