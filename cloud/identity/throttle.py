"""Slowing down and locking out password guessing, per login and per client address.

The counts live in the store (``sign_in_failure``), so every API process sees the same
ones. Per login: the first ``FREE_FAILURES`` failures cost nothing; after that each next
attempt must wait ``2 ** (n - FREE_FAILURES)`` seconds after the last failure, and at
``LOCK_AFTER`` failures the login is locked for ``LOCK_S`` (``account.locked_until``); once a
lock has ended, every further failure locks it again, until a sign-in succeeds and clears
the count. Per address: ``ADDRESS_MAX_FAILURES`` failures within ``ADDRESS_WINDOW_S`` block
the address for ``ADDRESS_BLOCK_S``. A refused attempt is answered before the password is
checked, and is not a failure itself.

A login that does not exist is counted and refused exactly like one that does (its lock is
kept in its ``sign_in_failure`` row), so the answers never tell whether a login exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

import flask_smorest
import psycopg

from cloud.identity.guard import note
from cloud.text import format_time

FREE_FAILURES = 3
LOCK_AFTER = 10
LOCK_S = 15 * 60
ADDRESS_MAX_FAILURES = 30
ADDRESS_WINDOW_S = 10 * 60
ADDRESS_BLOCK_S = 10 * 60


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is not even checked: answer ``status`` with Retry-After."""

    status: int  # 429: slow down; 423: locked
    retry_after_s: int
    detail: str


def refuse(refusal: Refusal) -> NoReturn:
    """Answer an attempt that was not even checked (the audit row says why)."""
    note(refused=refusal.detail)
    flask_smorest.abort(
        refusal.status,
        message=refusal.detail,
        headers={"Retry-After": str(refusal.retry_after_s)},
    )
    raise AssertionError("flask_smorest.abort() raises")  # it has no type information


def login_key(login: str) -> str:
    return f"login:{login}"


def address_key(address: str) -> str:
    return f"ip:{address}"


def hold(conn: psycopg.Connection, login: str) -> None:
    """Take this login's attempt lock until the transaction ends: attempts on one login run
    one after the other, so parallel guesses cannot all pass the check before any counts."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", ("sign_in:" + login_key(login),)
    )


_STATE = """
SELECT
    (SELECT ceil(extract(epoch FROM blocked_until - now()))::int FROM sign_in_failure
     WHERE key = %(address)s AND blocked_until > now()) AS address_wait,
    f.failures,
    ceil(extract(epoch FROM
        f.last_at + make_interval(secs => 2 ^ greatest(f.failures - %(free)s, 0)) - now()
    ))::int AS backoff_wait,
    CASE WHEN a.id IS NULL THEN f.blocked_until ELSE a.locked_until END AS locked_until,
    now() AS now
FROM (SELECT 1) one
LEFT JOIN sign_in_failure f ON f.key = %(login_key)s
LEFT JOIN account a ON a.login = %(login)s
"""


def refusal(conn: psycopg.Connection, login: str, address: str | None) -> Refusal | None:
    """Why the next attempt for ``login`` from ``address`` must wait, or None: go ahead.
    (``conn`` gives dict rows, as the API's do.)"""
    params = {
        "address": address_key(address or ""),
        "login_key": login_key(login),
        "login": login,
        "free": FREE_FAILURES,
    }
    row = conn.execute(_STATE, params).fetchone()
    if row["address_wait"]:
        return Refusal(
            429, row["address_wait"], "Too many failed sign-ins from this address; try later."
        )
    failures = row["failures"] or 0
    locked_until: datetime | None = row["locked_until"]
    if locked_until is not None and locked_until > row["now"]:
        wait = max(1, int((locked_until - row["now"]).total_seconds() + 0.999))
        return Refusal(
            423,
            wait,
            f"Too many failed sign-ins: locked until {format_time(locked_until)}.",
        )
    if FREE_FAILURES <= failures < LOCK_AFTER and row["backoff_wait"] > 0:
        return Refusal(
            429,
            row["backoff_wait"],
            f"{failures} failed sign-ins: wait {row['backoff_wait']} s before the next attempt.",
        )
    return None


_COUNT_LOGIN = """
INSERT INTO sign_in_failure AS f (key, failures, first_at, last_at)
VALUES (%(key)s, 1, now(), now())
ON CONFLICT (key) DO UPDATE SET failures = f.failures + 1, last_at = now()
RETURNING failures
"""
_LOCK_LOGIN = """
UPDATE sign_in_failure SET blocked_until = now() + make_interval(secs => %(lock)s)
WHERE key = %(key)s
"""
_MARK_ACCOUNT = """
UPDATE account SET
    failed_sign_ins = %(failures)s,
    locked_until = CASE WHEN %(lock)s THEN now() + make_interval(secs => %(lock_s)s)
                        ELSE locked_until END
WHERE login = %(login)s
"""
_COUNT_ADDRESS = """
INSERT INTO sign_in_failure AS f (key, failures, first_at, last_at)
VALUES (%(key)s, 1, now(), now())
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN f.first_at < now() - make_interval(secs => %(window)s) THEN 1
                    ELSE f.failures + 1 END,
    first_at = CASE WHEN f.first_at < now() - make_interval(secs => %(window)s) THEN now()
                    ELSE f.first_at END,
    last_at = now()
RETURNING failures
"""
# Blocked: the count starts afresh when the block ends.
_BLOCK_ADDRESS = """
UPDATE sign_in_failure
SET blocked_until = now() + make_interval(secs => %(block)s), failures = 0, first_at = now()
WHERE key = %(key)s
"""


def failed(conn: psycopg.Connection, login: str, address: str | None) -> int:
    """Count a failed attempt for ``login`` and ``address``; locks the login (and its account,
    if there is one) when it has reached LOCK_AFTER. Returns the login's failures."""
    key = login_key(login)
    failures = conn.execute(_COUNT_LOGIN, {"key": key}).fetchone()["failures"]
    lock = failures >= LOCK_AFTER
    if lock:
        conn.execute(_LOCK_LOGIN, {"key": key, "lock": LOCK_S})
    conn.execute(
        _MARK_ACCOUNT, {"failures": failures, "lock": lock, "lock_s": LOCK_S, "login": login}
    )
    if address:
        key = address_key(address)
        params = {"key": key, "window": ADDRESS_WINDOW_S}
        if conn.execute(_COUNT_ADDRESS, params).fetchone()["failures"] >= ADDRESS_MAX_FAILURES:
            conn.execute(_BLOCK_ADDRESS, {"key": key, "block": ADDRESS_BLOCK_S})
    return failures


def succeeded(conn: psycopg.Connection, login: str) -> None:
    """A sign-in of ``login`` succeeded: its count starts again (the address's stays)."""
    conn.execute("DELETE FROM sign_in_failure WHERE key = %s", (login_key(login),))
    conn.execute(
        """
        UPDATE account SET failed_sign_ins = 0, locked_until = NULL
        WHERE login = %s AND (failed_sign_ins <> 0 OR locked_until IS NOT NULL)
        """,
        (login,),
    )
