"""The TimescaleDB code path, kept small: detection and the retention policy.

Everything else TimescaleDB-specific is DDL in ``cloud/migrations/*.timescale.sql``; every
query the worker and the API run works on plain PostgreSQL too.
"""

from __future__ import annotations

import psycopg

from cloud.store.partitions import TABLES


def available(conn: psycopg.Connection) -> bool:
    """Whether this database can use the timescaledb extension."""
    return unavailable_reason(conn) is None


def unavailable_reason(conn: psycopg.Connection) -> str | None:
    """Why this database cannot use timescaledb, or None when it can."""
    if version(conn) is not None:
        return None
    row = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone()
    if row is None:
        return "the timescaledb extension is not installed on this server (pg_available_extensions)"
    if not _preloaded(conn):
        # Debian's package installs the files; CREATE EXTENSION then fails until the server
        # loads the library at start
        return (
            "the timescaledb extension is installed on this server but not loaded: add it to"
            " shared_preload_libraries in postgresql.conf and restart PostgreSQL"
        )
    return None


def _preloaded(conn: psycopg.Connection) -> bool:
    try:
        with conn.transaction():
            row = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
    except psycopg.errors.InsufficientPrivilege:
        return True  # a role that may not see the setting: CREATE EXTENSION will tell
    libraries = (entry.strip().strip('"') for entry in (row[0] if row else "").split(","))
    return any(library.rsplit("/", 1)[-1].startswith("timescaledb") for library in libraries)


def version(conn: psycopg.Connection) -> str | None:
    """The installed timescaledb extension's version, or None."""
    row = conn.execute(
        "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
    ).fetchone()
    return row[0] if row else None


def apply_retention(conn: psycopg.Connection, retention_days: int) -> None:
    """Drop chunks older than ``retention_days`` (replaces an earlier policy)."""
    for table in TABLES:
        conn.execute("SELECT remove_retention_policy(%s, if_exists => true)", (table,))
        conn.execute(
            "SELECT add_retention_policy(%s, make_interval(days => %s))", (table, retention_days)
        )
