"""The outbox's SQLite file: pragmas, the health check on open, the schema, and setting a
corrupt file aside. The queue itself is in ``edge_agent.outbox``."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from edge_agent.outbox_files import fsync_directory, header_problem, set_aside

SCHEMA_VERSION = 1  # PRAGMA user_version of an outbox file
BUSY_TIMEOUT_S = 5.0
WAL_AUTOCHECKPOINT_PAGES = 1000  # about 4 MiB of WAL between checkpoints
JOURNAL_SIZE_LIMIT_BYTES = 8 * 1024 * 1024  # the WAL is truncated back to this after a checkpoint
FIRST_SEQ = 1

SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    """CREATE TABLE records (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('telemetry', 'event')),
        captured_ms INTEGER NOT NULL,
        payload BLOB NOT NULL,
        boot_id TEXT NOT NULL,
        captured_monotonic_ns INTEGER NOT NULL
    )""",
    "CREATE INDEX records_by_kind ON records (kind, seq)",
)
COLUMNS = "seq, kind, captured_ms, payload, boot_id, captured_monotonic_ns"


class OutboxError(RuntimeError):
    """The outbox cannot store or read records: a failing disk, a closed outbox, a file
    another process holds locked."""


@contextlib.contextmanager
def write_transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, rolled back on any error."""
    try:
        # IMMEDIATE takes the write lock up front: no failing half-way for want of it
        connection.execute("BEGIN IMMEDIATE")
        yield connection
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
        raise


def is_corruption(err: sqlite3.DatabaseError) -> bool:
    """Whether an error on open means the file itself is damaged."""
    # "database is locked" or "unable to open" are no reason to set a file aside: another
    # process may own it, or the directory may be unwritable.
    name = getattr(err, "sqlite_errorname", "")
    corrupt = name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
    return corrupt or type(err) is sqlite3.DatabaseError


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the outbox's durability settings (see ``edge_agent.outbox``)."""
    # isolation_level=None: transactions are begun and ended explicitly, never implicitly
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        # takes effect only on a new file, before WAL mode writes its header: lets a
        # drained outbox give its pages back to the flash (see Outbox.ack)
        connection.execute("PRAGMA auto_vacuum=INCREMENTAL")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        connection.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT_BYTES}")
    except BaseException:
        connection.close()
        raise
    return connection


def check_or_create(connection: sqlite3.Connection, path: Path, first_seq: int) -> str | None:
    """Why the open file is not a usable outbox, or None; a new (empty) file gets the
    schema, its seq counter starting at ``first_seq``."""
    findings = [row[0] for row in connection.execute("PRAGMA quick_check")]
    if findings != ["ok"]:
        return "quick_check: " + "; ".join(findings[:3])[:300]
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return None
    tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
    if version != 0 or tables:
        return f"not an outbox of schema {SCHEMA_VERSION}: user_version {version}, {tables}"
    with write_transaction(connection):
        for statement in SCHEMA:
            connection.execute(statement)
        connection.execute("INSERT INTO meta (key, value) VALUES ('next_seq', ?)", (first_seq,))
        connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    fsync_directory(path.parent)  # the new file's name must survive a power cut too
    return None


def open_database(path: Path, first_seq: int) -> tuple[sqlite3.Connection, list[tuple[Path, str]]]:
    """Open or create the outbox file, setting a corrupt one aside first.

    Returns the connection and, for a file set aside, ``(where it went, why)``. Raises
    ``OutboxError`` when the file cannot be opened for any reason other than corruption.
    """
    set_aside_files: list[tuple[Path, str]] = []
    problem = header_problem(path)
    if problem is None:
        connection = None
        try:
            connection = connect(path)
            problem = check_or_create(connection, path, first_seq)
        except sqlite3.DatabaseError as err:
            if connection is not None:
                connection.close()
            if not is_corruption(err):
                raise OutboxError(f"outbox {path}: cannot open: {err}") from err
            problem = f"{err} ({getattr(err, 'sqlite_errorname', 'no error code')})"
        else:
            if problem is None:
                return connection, set_aside_files
            connection.close()
    set_aside_files.append((set_aside(path), problem))
    try:
        connection = connect(path)
        problem = check_or_create(connection, path, first_seq)
    except sqlite3.Error as err:
        raise OutboxError(f"outbox {path}: cannot create: {err}") from err
    if problem is not None:
        connection.close()
        raise OutboxError(f"outbox {path}: a fresh file fails its check: {problem}")
    return connection, set_aside_files


def load_state(connection: sqlite3.Connection) -> tuple[int, dict[str, int]]:
    """The next seq to hand out and the number of records of each kind."""
    stored = connection.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()
    highest = connection.execute("SELECT MAX(seq) FROM records").fetchone()[0]
    next_seq = max(FIRST_SEQ, stored[0] if stored else 0, (highest or 0) + 1)
    counts = dict(connection.execute("SELECT kind, COUNT(*) FROM records GROUP BY kind"))
    return next_seq, counts
