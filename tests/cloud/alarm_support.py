"""Alarms put in the store with SQL, the way the rules engine leaves them (no tests here)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
from psycopg import sql

from tests.cloud.api_support import insert, iso


def add_alarm(database: str, device_id: str, type_: str, first_at, **columns: Any) -> int:
    """An alarm as the engine leaves it: the row, one occurrence per count, and its events
    (raised, a repeated per further occurrence, cleared / resolved as its columns say)."""
    count = columns.pop("count", 1)
    step = columns.pop("step", timedelta(minutes=1))
    row = {
        "device_id": device_id, "type": type_, "subject": "", "severity": "warning",
        "state": "open", "active": True, "count": count, "first_at": first_at,
        "latest_at": first_at + step * (count - 1), "value": 1.0, "threshold": 2.0,
        "message": f"{type_} on {device_id}", **columns,
    }  # fmt: skip
    statement = sql.SQL("INSERT INTO alarm ({}) VALUES ({}) RETURNING id").format(
        sql.SQL(", ").join(map(sql.Identifier, row)),
        sql.SQL(", ").join(sql.Placeholder() * len(row)),
    )
    with psycopg.connect(database, autocommit=True) as conn:
        alarm_id = conn.execute(statement, list(row.values())).fetchone()[0]
        for n in range(1, count + 1):
            time = first_at + step * (n - 1)
            sample = {"time": iso(time), "soc_percent": 10.0 - n}
            insert(
                conn,
                "alarm_occurrence",
                alarm_id=alarm_id,
                n=n,
                time=time,
                received_at=time,
                value=10.0 - n,
                threshold=2.0,
                sample=sample,
            )
            event = "raised" if n == 1 else "repeated"
            insert(conn, "alarm_event", alarm_id=alarm_id, event=event, time=time)
        if row.get("cleared_at"):
            insert(conn, "alarm_event", alarm_id=alarm_id, event="cleared", time=row["cleared_at"])
        if row["state"] == "resolved":
            insert(
                conn,
                "alarm_event",
                alarm_id=alarm_id,
                event="resolved",
                by=row.get("resolved_by"),
                note=row.get("resolution_note"),
            )
    return alarm_id
