"""The TimescaleDB code path, kept small: detection and the retention policy.

Everything else TimescaleDB-specific is DDL in ``cloud/migrations/*.timescale.sql``; every
query the worker and the API run works on plain PostgreSQL too. This machine's tests run
the plain path (TimescaleDB cannot be installed here).
"""

from __future__ import annotations

import psycopg

from cloud.store.partitions import TABLES


def available(conn: psycopg.Connection) -> bool:
    """Whether the server can load the timescaledb extension."""
    row = conn.execute(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    ).fetchone()
    return row is not None


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
