"""The notifier's side of the outbox (table alarm_notification): claim, then record.

A webhook's queue is its pending rows in id order; only its head (the lowest pending id)
may go out, so deliveries to one webhook keep their order, and a webhook that is down (its
head waiting out a backoff) holds back its own queue and nobody else's.

A claim is one short statement: lock due heads with FOR UPDATE SKIP LOCKED, move their
next_attempt_at a lease ahead and stamp last_attempt_at. The HTTP request then runs outside
any transaction. While the lease runs the head is not due, so no other worker takes it, and
nothing behind it is a head: at most one delivery per webhook is in flight across all
workers. A worker that dies mid-delivery leaves the row pending; when the lease runs out the
next worker sends it again under the same delivery id (at least once). The result is
recorded only if last_attempt_at is still the claim's, so a worker whose lease ran out
cannot overwrite what a later claim recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

# The head of every enabled webhook's queue, due or not.
_HEADS = """
WITH heads AS (
    SELECT head.id
    FROM webhook w
    CROSS JOIN LATERAL (
        SELECT n.id FROM alarm_notification n
        WHERE n.webhook_id = w.id AND n.state = 'pending'
        ORDER BY n.id
        LIMIT 1
    ) head
    WHERE w.enabled
)
"""
# The due heads, locked. READ COMMITTED re-checks a locked row's own conditions against its
# latest version, so a head another worker claimed (or finished) meanwhile is left out.
CLAIM = (
    _HEADS
    + """,
claimed AS (
    SELECT n.id FROM alarm_notification n
    WHERE n.id IN (SELECT id FROM heads)
      AND n.state = 'pending' AND n.next_attempt_at <= now()
    ORDER BY n.next_attempt_at, n.id
    LIMIT %(limit)s
    FOR UPDATE OF n SKIP LOCKED
)
UPDATE alarm_notification n
SET attempts = n.attempts + 1,
    last_attempt_at = clock_timestamp(),
    next_attempt_at = clock_timestamp() + make_interval(secs => %(lease_s)s),
    claimed_by = %(worker_id)s
FROM claimed, webhook w
WHERE n.id = claimed.id AND w.id = n.webhook_id
RETURNING n.id, n.webhook_id, n.event, n.payload, n.attempts, n.last_attempt_at,
          w.url, w.secret
"""
)
# Seconds until the earliest head is due (negative: due now); NULL when no queue has one.
NEXT_DUE = (
    _HEADS
    + """
SELECT extract(epoch FROM min(n.next_attempt_at) - clock_timestamp())::float8 AS wait_s
FROM alarm_notification n
WHERE n.id IN (SELECT id FROM heads)
"""
)
MARK_DELIVERED = """
UPDATE alarm_notification
SET state = 'delivered', delivered_at = now(), last_status = %(status)s, last_error = NULL
WHERE id = %(id)s AND state = 'pending' AND last_attempt_at = %(claim)s
RETURNING state
"""
# Another attempt after ``delay_s``, or failed for good once it has had ``max_attempts``
# or its time is up (counted from a person's retry, else from when it was made).
MARK_NOT_DELIVERED = """
UPDATE alarm_notification
SET state = CASE
        WHEN attempts >= %(max_attempts)s
          OR now() >= coalesce(retried_at, created_at) + make_interval(secs => %(give_up_s)s)
        THEN 'failed' ELSE 'pending' END,
    next_attempt_at = now() + make_interval(secs => %(delay_s)s),
    last_status = %(status)s,
    last_error = %(error)s
WHERE id = %(id)s AND state = 'pending' AND last_attempt_at = %(claim)s
RETURNING state
"""


@dataclass(frozen=True)
class Job:
    """A claimed notification: what to send, where, and the claim's token."""

    id: int
    webhook_id: int
    event: str
    payload: dict[str, Any]
    attempts: int  # including this one
    claim: datetime  # last_attempt_at as the claim set it
    url: str
    secret: str


async def claim(
    conn: psycopg.AsyncConnection, *, worker_id: str, limit: int, lease_s: float
) -> list[Job]:
    """Claim up to ``limit`` due heads (autocommit: the claim commits at once)."""
    params = {"limit": limit, "lease_s": lease_s, "worker_id": worker_id}
    cur = await conn.execute(CLAIM, params)
    jobs = [
        Job(id=row[0], webhook_id=row[1], event=row[2], payload=row[3], attempts=row[4],
            claim=row[5], url=row[6], secret=row[7])
        for row in await cur.fetchall()
    ]  # fmt: skip
    return sorted(jobs, key=lambda job: job.id)


async def next_due(conn: psycopg.AsyncConnection) -> float | None:
    """Seconds until some head is due (<= 0: now), or None if every queue is empty."""
    cur = await conn.execute(NEXT_DUE)
    row = await cur.fetchone()
    return None if row is None else row[0]


async def mark_delivered(conn: psycopg.AsyncConnection, job: Job, status: int) -> bool:
    """Record a 2xx; False if the claim was lost (its lease ran out and it was retaken)."""
    cur = await conn.execute(MARK_DELIVERED, {"id": job.id, "claim": job.claim, "status": status})
    return await cur.fetchone() is not None


async def mark_not_delivered(
    conn: psycopg.AsyncConnection,
    job: Job,
    *,
    status: int | None,
    error: str | None,
    delay_s: float,
    max_attempts: int,
    give_up_s: float,
) -> str | None:
    """Record a failed attempt: the row's new state (pending or failed), None if the claim
    was lost."""
    params = {
        "id": job.id,
        "claim": job.claim,
        "status": status,
        "error": error,
        "delay_s": delay_s,
        "max_attempts": max_attempts,
        "give_up_s": give_up_s,
    }
    cur = await conn.execute(MARK_NOT_DELIVERED, params)
    row = await cur.fetchone()
    return None if row is None else row[0]
