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
_LOCK_KEY = 0x70617274  # "part"


def partition_name(table: str, day: date) -> str:
    """The partition of ``table`` holding ``day``."""
    return f"{table}_p{day:%Y%m%d}"


def existing_days(conn: psycopg.Connection) -> set[date]:
    """Days for which every time-series table has a partition."""
    per_table: list[set[date]] = []
    for table in TABLES:
        rows = conn.execute(
            """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = %s::regclass""",
            (table,),
        ).fetchall()
        per_table.append({_day_of(name, table) for (name,) in rows} - {None})
    return set.intersection(*per_table) if per_table else set()


def ensure_days(conn: psycopg.Connection, days: Iterable[date]) -> list[str]:
    """Create the partitions these days need (in the caller's transaction); their names."""
    wanted = sorted(set(days))
    if not wanted:
        return []
    created: list[str] = []
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
    have = existing_days(conn)
    for day in wanted:
        if day in have:
            continue
        for table in TABLES:
            name = partition_name(table, day)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})"
                ).format(
                    sql.Identifier(name),
                    sql.Identifier(table),
                    sql.Literal(start),
                    sql.Literal(start + timedelta(days=1)),
                )
            )
            created.append(name)
    if created:
        log.info("created partitions %s", ", ".join(created))
    return created


def drop_before(conn: psycopg.Connection, day: date) -> list[str]:
    """Drop every partition holding days before ``day``; their names."""
    dropped: list[str] = []
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
    for table in TABLES:
        rows = conn.execute(
            """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = %s::regclass""",
            (table,),
        ).fetchall()
        for (name,) in rows:
            partition_day = _day_of(name, table)
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


def _day_of(name: str, table: str) -> date | None:
    prefix = f"{table}_p"
    if not name.startswith(prefix):
        return None
    try:
        return datetime.strptime(name[len(prefix) :], "%Y%m%d").date()
    except ValueError:
        return None
