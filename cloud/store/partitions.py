"""Day partitions of the time-series tables on plain PostgreSQL.

Partitions are named ``{table}_pYYYYMMDD`` and hold one UTC day. ``maintain()`` creates
today's and the next few days' ahead of time and drops those past retention;
``ensure_days()`` creates any day a batch needs (a backlog from last week). Creation is
serialised across workers with a transaction-scoped advisory lock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

TABLES = ("bms_sample", "position", "vehicle_sample", "device_event")
LOCK_KEY = 0x70617274  # "part"
PARTITIONS_QUERY = """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                      WHERE i.inhparent = %s::regclass"""


def partition_name(table: str, day: date) -> str:
    """The partition of ``table`` holding ``day``."""
    return f"{table}_p{day:%Y%m%d}"


def existing_days(conn: psycopg.Connection) -> set[date]:
    """Days for which every time-series table has a partition."""
    per_table: list[set[date]] = []
    for table in TABLES:
        rows = conn.execute(PARTITIONS_QUERY, (table,)).fetchall()
        per_table.append(days_of(table, [name for (name,) in rows]))
    return set.intersection(*per_table)


def days_of(table: str, partition_names: Iterable[str]) -> set[date]:
    """The days that these partitions of ``table`` hold (other names are ignored)."""
    return {day for day in (day_of(name, table) for name in partition_names) if day}


def create_statement(table: str, day: date) -> sql.Composed:
    """CREATE TABLE for the partition of ``table`` holding ``day`` (if it does not exist)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})"
    ).format(
        sql.Identifier(partition_name(table, day)),
        sql.Identifier(table),
        sql.Literal(start),
        sql.Literal(start + timedelta(days=1)),
    )


def ensure_days(conn: psycopg.Connection, days: Iterable[date]) -> list[str]:
    """Create the partitions these days need (in the caller's transaction); their names."""
    wanted = sorted(set(days))
    if not wanted:
        return []
    created: list[str] = []
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
    have = existing_days(conn)
    for day in wanted:
        if day in have:
            continue
        for table in TABLES:
            conn.execute(create_statement(table, day))
            created.append(partition_name(table, day))
    if created:
        log.info("created partitions %s", ", ".join(created))
    return created


def drop_before(conn: psycopg.Connection, day: date) -> list[str]:
    """Drop every partition holding days before ``day``; their names."""
    dropped: list[str] = []
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
    for table in TABLES:
        for (name,) in conn.execute(PARTITIONS_QUERY, (table,)).fetchall():
            partition_day = day_of(name, table)
            if partition_day is not None and partition_day < day:
                conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
                dropped.append(name)
    if dropped:
        log.info("dropped partitions past retention: %s", ", ".join(dropped))
    return dropped


def maintain(
    conn: psycopg.Connection, *, ahead_days: int, retention_days: int, today: date | None = None
) -> tuple[list[str], list[str]]:
    """Create partitions from yesterday to ``ahead_days`` ahead; drop past retention."""
    today = today or datetime.now(UTC).date()
    with conn.transaction():
        created = ensure_days(conn, (today + timedelta(days=n) for n in range(-1, ahead_days + 1)))
        dropped = drop_before(conn, oldest_kept_day(today, retention_days))
    return created, dropped


def oldest_kept_day(today: date, retention_days: int) -> date:
    """The first day retention keeps."""
    return today - timedelta(days=retention_days)


def day_of(name: str, table: str) -> date | None:
    """The day a partition named like partition_name() holds, else None."""
    prefix = f"{table}_p"
    if not name.startswith(prefix):
        return None
    try:
        return datetime.strptime(name[len(prefix) :], "%Y%m%d").date()
    except ValueError:
        return None
