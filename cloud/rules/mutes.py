"""The alarm types a person does not want to see: mutes belong to the signed-in account.

A mute hides its type from that account's alarm list (and from webhooks following that
login); it changes nothing about the alarm itself. ``alarm_mute.operator`` holds the login
of the account that muted the type (the column predates accounts).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import DictRow

from cloud.errors import Invalid, NotFound
from cloud.identity.guard import principal
from cloud.rules.catalogue import TYPES

LIST_MUTES = """
SELECT operator AS login, type, until, (until IS NULL OR until > now()) AS in_force, created_at
FROM alarm_mute WHERE operator = %s ORDER BY type
"""
PUT_MUTE = """
INSERT INTO alarm_mute (operator, type, until) VALUES (%s, %s, %s)
ON CONFLICT (operator, type) DO UPDATE SET until = EXCLUDED.until
RETURNING operator AS login, type, until, (until IS NULL OR until > now()) AS in_force,
          created_at
"""
DELETE_MUTE = "DELETE FROM alarm_mute WHERE operator = %s AND type = %s RETURNING type"


def listed(conn: psycopg.Connection[DictRow]) -> list[dict[str, Any]]:
    """The caller's mutes, by type."""
    return conn.execute(LIST_MUTES, (principal().login,)).fetchall()


def mute(
    conn: psycopg.Connection[DictRow], alarm_type: str, until: datetime | None
) -> dict[str, Any]:
    """Mute ``alarm_type`` for the caller until ``until`` (None: for good), replacing an
    earlier mute's end; a 422 for an unknown type or an end that has passed."""
    if alarm_type not in TYPES:
        reason = f"unknown alarm type {alarm_type!r}; known: {', '.join(TYPES)}"
        raise Invalid(reason, errors=[{"field": "alarm_type", "in": "path", "reason": reason}])
    if until is not None and until <= datetime.now(UTC):
        reason = "must be in the future (leave it out to mute for good)"
        raise Invalid(f"until: {reason}", errors=[
            {"field": "until", "in": "body", "reason": reason}
        ])  # fmt: skip
    row = conn.execute(PUT_MUTE, (principal().login, alarm_type, until)).fetchone()
    assert row is not None  # an upsert's RETURNING
    return row


def unmute(conn: psycopg.Connection[DictRow], alarm_type: str) -> None:
    """End the caller's mute of ``alarm_type``; a 404 if there is none."""
    who = principal().login
    if conn.execute(DELETE_MUTE, (who, alarm_type)).fetchone() is None:
        raise NotFound(f"{who!r} has not muted {alarm_type!r}")
