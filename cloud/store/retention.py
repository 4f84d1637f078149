"""Retention of what is not time-series: dead letters and finished webhook deliveries are
kept as long as raw samples."""

from __future__ import annotations

import psycopg


def prune_dead_letters(conn: psycopg.Connection, retention_days: int) -> int:
    """Delete dead letters received more than ``retention_days`` ago; how many."""
    cur = conn.execute(
        "DELETE FROM dead_letter WHERE received_at < now() - make_interval(days => %s)",
        (retention_days,),
    )
    return cur.rowcount


def prune_notifications(conn: psycopg.Connection, retention_days: int) -> int:
    """Delete webhook deliveries that are over (delivered or given up) and older than
    ``retention_days``; pending ones stay whatever their age. How many."""
    cur = conn.execute(
        "DELETE FROM alarm_notification WHERE state IN ('delivered', 'failed')"
        " AND created_at < now() - make_interval(days => %s)",
        (retention_days,),
    )
    return cur.rowcount
