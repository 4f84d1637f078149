"""Alarm rows from rule transitions: open, count, clear, auto-resolve; and their histories.

One open alarm per (device, type, subject). A transition is what a rule saw:

- ``raised``: the condition began (a machine left its resting state). With no open alarm a
  new one opens; with one open, its count grows (``repeated``).
- ``late``: a sample older than the machine's last one was beyond the threshold while the
  machine rests (another worker stored newer data first): counted as an occurrence, but the
  alarm is not marked active, since newer data says the condition is gone.
- ``point``: a one-off (a tamper event): an occurrence that is never active.
- ``cleared``: the condition went away: ``active`` false, and if the type auto-clears the
  alarm is resolved by ``auto``.

Each step adds an ``alarm_event`` row after the alarm row is written (notifications are
made from those, with the alarm as it is then), and occurrences keep the sample that raised
them. The caller holds the device's rule lock (see engine), so no other worker races here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from cloud.rules.catalogue import Spec

RAISED = "raised"
LATE = "late"
POINT = "point"
CLEARED = "cleared"


@dataclass(frozen=True)
class Transition:
    """One thing a rule saw, for one (device, type, subject)."""

    device_id: str
    spec: Spec
    subject: str
    kind: str  # RAISED | LATE | POINT | CLEARED
    time: datetime  # device time
    received_at: datetime | None = None
    value: float | None = None
    threshold: float | None = None
    resent: bool = False
    sample: dict[str, Any] | None = None
    message: str = ""

    @property
    def key(self) -> tuple[str, str, str, datetime]:
        return (self.device_id, self.spec.type, self.subject, self.time)


_OPEN = """
SELECT id, count FROM alarm
WHERE device_id = %s AND type = %s AND subject = %s AND state = 'open' FOR UPDATE"""
_INSERT = """
INSERT INTO alarm (device_id, type, subject, severity, active, first_at, latest_at, value,
                   threshold, message, resent)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"""
_REPEAT = """
UPDATE alarm SET count = count + 1, active = active OR %s,
    first_at = least(first_at, %s), latest_at = greatest(latest_at, %s),
    value = CASE WHEN %s >= latest_at THEN %s ELSE value END,
    threshold = CASE WHEN %s >= latest_at THEN %s ELSE threshold END,
    message = CASE WHEN %s >= latest_at THEN %s ELSE message END,
    severity = %s, resent = resent AND %s, updated_at = now()
WHERE id = %s RETURNING count"""
_CLEAR = """
UPDATE alarm SET active = false, cleared_at = %s, updated_at = now(),
    state = CASE WHEN %s THEN 'resolved' ELSE state END,
    resolved_at = CASE WHEN %s THEN now() END,
    resolved_by = CASE WHEN %s THEN 'auto' END,
    resolution_note = CASE WHEN %s THEN 'the condition cleared' END
WHERE device_id = %s AND type = %s AND subject = %s AND state = 'open' RETURNING id"""
_OCCURRENCE = """
INSERT INTO alarm_occurrence (alarm_id, n, time, received_at, value, threshold, resent, sample)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"""
_EVENT = """
INSERT INTO alarm_event (alarm_id, event, time, resent, by, note) VALUES (%s, %s, %s, %s, %s, %s)"""


async def apply(conn: psycopg.AsyncConnection, transitions: Iterable[Transition]) -> int:
    """Write the transitions, in (device, type, subject, time) order; how many changed an
    alarm. Runs in the caller's transaction."""
    changed = 0
    async with conn.cursor() as cur:
        for t in sorted(transitions, key=lambda t: t.key):
            if t.kind == CLEARED:
                auto = t.spec.auto_clear
                await cur.execute(
                    _CLEAR, (t.time, auto, auto, auto, auto, t.device_id, t.spec.type, t.subject)
                )
                row = await cur.fetchone()
                if row is not None:
                    await cur.execute(_EVENT, (row[0], CLEARED, t.time, t.resent,
                                               "auto" if auto else None, None))  # fmt: skip
                    changed += 1
                continue
            active = t.kind == RAISED
            await cur.execute(_OPEN, (t.device_id, t.spec.type, t.subject))
            row = await cur.fetchone()
            if row is None:
                await cur.execute(
                    _INSERT,
                    (t.device_id, t.spec.type, t.subject, t.spec.severity, active, t.time, t.time,
                     t.value, t.threshold, t.message, t.resent),
                )  # fmt: skip
                inserted = await cur.fetchone()
                assert inserted is not None  # RETURNING of an INSERT
                (alarm_id,) = inserted
                n, event = 1, "raised"
            else:
                alarm_id = row[0]
                await cur.execute(
                    _REPEAT,
                    (active, t.time, t.time, t.time, t.value, t.time, t.threshold, t.time,
                     t.message, t.spec.severity, t.resent, alarm_id),
                )  # fmt: skip
                repeated = await cur.fetchone()
                assert repeated is not None  # RETURNING of an UPDATE of the open alarm
                (n,) = repeated
                event = "repeated"
            sample = Jsonb(t.sample) if t.sample is not None else None
            await cur.execute(
                _OCCURRENCE,
                (alarm_id, n, t.time, t.received_at, t.value, t.threshold, t.resent, sample),
            )
            await cur.execute(_EVENT, (alarm_id, event, t.time, t.resent, None, None))
            changed += 1
    return changed
