"""The second factor: RFC 6238 time-based one-time codes (30 s steps, 6 digits), made by any
authenticator app from a secret shared at enrolment.

A code is accepted for the step before and after the current one too (clock drift), and
only once: the account keeps the last step it accepted (``totp_last_step``), and a code of
that step or an earlier one is refused, so a code seen over a shoulder cannot be replayed.

An enrolled secret waits beside the factor in force (``totp_pending_secret``) until a code
of it confirms it: only then does it replace the old one, so enrolling again never leaves
the account without a factor, nor with one its owner has not shown to work.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any

import psycopg
import pyotp

ISSUER = "VoltRent"
STEP_S = 30
DIGITS = 6
VALID_WINDOW = 1  # steps either side of now


def new_secret() -> str:
    """A fresh base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, login: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads (as a QR code)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).provisioning_uri(
        name=login, issuer_name=ISSUER
    )


def matching_step(
    secret: str, code: str, *, after: int | None, at: datetime | None = None
) -> int | None:
    """The time step whose code ``code`` is (within the window around ``at``, default now),
    if it is later than ``after``; None: the code is wrong or used already."""
    code = code.strip()
    if len(code) != DIGITS or not code.isdigit():
        return None
    otp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    now = otp.timecode(at or datetime.now(UTC))
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if (after is None or step > after) and hmac.compare_digest(otp.generate_otp(step), code):
            return step
    return None


def consume(conn: psycopg.Connection, account: dict[str, Any], code: str) -> bool:
    """Accept ``code`` of the factor in force for ``account`` (its row: ``id``,
    ``totp_secret`` and ``totp_last_step``, the step it accepted last) once: records its
    step, so that it and every earlier code are refused from now on. Of two requests racing
    with one code, one wins."""
    step = matching_step(account["totp_secret"], code, after=account["totp_last_step"])
    if step is None:
        return False
    taken = conn.execute(
        """
        UPDATE account SET totp_last_step = %(step)s
        WHERE id = %(id)s AND (totp_last_step IS NULL OR totp_last_step < %(step)s)
        RETURNING id
        """,
        {"step": step, "id": account["id"]},
    ).fetchone()
    return taken is not None


def enrol(conn: psycopg.Connection, account_id: int, secret: str) -> None:
    """Keep ``secret`` as the account's pending factor (replacing an earlier pending one);
    the factor in force stays until ``confirm``."""
    conn.execute(
        "UPDATE account SET totp_pending_secret = %s, updated_at = now() WHERE id = %s",
        (secret, account_id),
    )


def confirm(conn: psycopg.Connection, account_id: int, pending: str, code: str) -> bool:
    """Put the pending secret ``pending`` in force if ``code`` is one of its codes: it
    replaces the account's factor, and its code's step is the last one accepted. False: the
    code is wrong, or ``pending`` is no longer pending (another request confirmed it)."""
    step = matching_step(pending, code, after=None)
    if step is None:
        return False
    taken = conn.execute(
        """
        UPDATE account SET totp_secret = totp_pending_secret, totp_pending_secret = NULL,
                           totp_enabled = true, totp_last_step = %(step)s, updated_at = now()
        WHERE id = %(id)s AND totp_pending_secret = %(pending)s
        RETURNING id
        """,
        {"step": step, "id": account_id, "pending": pending},
    ).fetchone()
    return taken is not None


def turn_off(conn: psycopg.Connection, account_id: int) -> None:
    """Remove the account's second factor and any pending one (its owner with the password,
    or an administrator for a lost phone)."""
    conn.execute(
        "UPDATE account SET totp_secret = NULL, totp_pending_secret = NULL, totp_enabled = false,"
        " totp_last_step = NULL, updated_at = now() WHERE id = %s",
        (account_id,),
    )
