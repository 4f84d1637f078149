"""Asking a signed-in caller to prove again that it is the account's owner, before a change
a stolen session must not make on its own (a new password, a second factor made or taken
off, a new API token): its password, or a code of its second factor in force. Such changes
need a session: an API token, made for a script, does not change its account's credentials.

A wrong password or code counts as a failed sign-in (``throttle``), so a stolen session
cannot guess either: each check takes the login's attempt lock, reads the account once, asks
whether the attempt may go ahead and checks once, in a transaction that commits the count
even though the answer is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from flask import request
from psycopg.rows import DictRow

from cloud.errors import Forbidden, field_error
from cloud.identity import passwords, sign_in, throttle, totp
from cloud.identity.guard import note
from cloud.identity.principal import Principal
from cloud.store.db import Connections

WRONG_TOTP = "wrong TOTP code"
NOT_PASSWORD = "is not the account's password"


def needs_session(who: Principal, what: str) -> None:
    """403 unless the caller is a signed-in session: an API token, made for a script, does
    not change the credentials of its account."""
    if who.via != "session":
        raise Forbidden(f"{what} needs a signed-in session, not an API token")


def held_account(conn: psycopg.Connection[DictRow], who: Principal) -> dict[str, Any]:
    """The caller's account row, read once its login's attempt lock is held
    (``throttle.hold``): attempts on one login run one after the other."""
    throttle.hold(conn, who.login)
    return sign_in.account(conn, who.account_id)


def attempt(
    conn: psycopg.Connection[DictRow],
    who: Principal,
    right: Callable[[], bool],
    *,
    why: str | None = None,
) -> throttle.Refusal | bool:
    """One guess of the caller's, counted like a sign-in (its login's lock held): a refusal
    (too many failures: nothing checked), or whether ``right()`` holds. A wrong guess counts
    as a failure, noted in the audit row as ``why`` if given."""
    address = request.remote_addr
    refusal = throttle.refusal(conn, who.login, address)
    if refusal is not None:
        return refusal
    if right():
        return True
    failures = throttle.failed(conn, who.login, address)
    if why is not None:
        note(failed=why, failures=failures)
    return False


def settle(outcome: throttle.Refusal | bool, field: str, reason: str) -> None:
    """Answer an attempt that failed (after its transaction committed the count): 423/429
    for a refusal, 422 naming ``field`` for a wrong guess."""
    if isinstance(outcome, throttle.Refusal):
        throttle.refuse(outcome)
    if not outcome:
        field_error(field, [reason])


def by_code(
    conn: psycopg.Connection[DictRow], who: Principal, account: dict[str, Any], code: str
) -> throttle.Refusal | bool:
    """``attempt`` with ``code`` of the factor in force of ``account`` (``held_account``),
    accepted once."""
    return attempt(conn, who, lambda: totp.consume(conn, account, code), why=WRONG_TOTP)


def by_password(
    conn: psycopg.Connection[DictRow], who: Principal, account: dict[str, Any], password: str
) -> throttle.Refusal | bool:
    """``attempt`` with ``password`` for ``account`` (``held_account``)."""
    return attempt(conn, who, lambda: passwords.matches(account["password_hash"], password))


def check_password(db: Connections, who: Principal, password: str, field: str) -> None:
    """422 naming ``field`` unless ``password`` is the caller's (423/429: too many failures)."""
    with db.connection(scoped=False) as conn:
        outcome = by_password(conn, who, held_account(conn, who), password)
    settle(outcome, field, NOT_PASSWORD)


def prove(db: Connections, who: Principal, body: dict[str, Any], what: str) -> dict[str, Any]:
    """The caller's account row, once ``body`` has its ``password`` or a ``code`` of its
    factor in force; else 422 naming the field (``what``: the change, for the reason)."""
    with db.connection(scoped=False) as conn:
        account = held_account(conn, who)
        in_force = account["totp_enabled"]
        if "code" in body:
            if not in_force:
                field_error("code", ["there is no second factor in force yet: give the password"])
            field, reason = "code", sign_in.WRONG_CODE
            outcome = by_code(conn, who, account, body["code"])
        elif "password" in body:
            field, reason = "password", NOT_PASSWORD
            outcome = by_password(conn, who, account, body["password"])
        else:
            either = " or a code of the second factor in force" if in_force else ""
            field_error("password", [f"give the account's password{either} to {what}"])
    settle(outcome, field, reason)
    return account
