"""Asking a signed-in caller to prove again that it is the account's owner, before a change
a stolen session must not make on its own (a new second factor, a new API token): its
password, or a code of its second factor in force. A wrong one counts as a failed sign-in
(``cloud.identity.throttle``), so a stolen session cannot guess either."""

from __future__ import annotations

from typing import Any

import psycopg
from flask import request

from cloud.http.db import connection, database
from cloud.http.problems import field_error
from cloud.identity import throttle, totp
from cloud.identity.guard import note
from cloud.identity.principal import Principal
from cloud.identity.views.auth import ACCOUNT_BY_ID, WRONG_CODE, check_password, refuse

WRONG_TOTP = "wrong TOTP code"


def take_code(conn: psycopg.Connection, who: Principal, code: str) -> throttle.Refusal | bool:
    """Accept ``code`` of the caller's factor in force once, counted like a sign-in: a
    refusal (too many failures), or whether it was right. The caller commits either way."""
    address = request.remote_addr
    throttle.hold(conn, who.login)
    refusal = throttle.refusal(conn, who.login, address)
    if refusal is not None:
        return refusal
    account = conn.execute(ACCOUNT_BY_ID, (who.account_id,)).fetchone()
    if not totp.consume(conn, who.account_id, account["totp_secret"], code,
                        account["totp_last_step"]):  # fmt: skip
        note(failed=WRONG_TOTP, failures=throttle.failed(conn, who.login, address))
        return False
    return True


def prove(who: Principal, body: dict[str, Any], what: str) -> dict[str, Any]:
    """The caller's account row, once ``body`` has its ``password`` or a ``code`` of its
    factor in force; else 422 naming the field (``what``: the change, for the reason)."""
    with connection() as conn:
        account = conn.execute(ACCOUNT_BY_ID, (who.account_id,)).fetchone()
    in_force = account["totp_enabled"]
    if "code" in body:
        if not in_force:
            field_error("code", ["there is no second factor in force yet: give the password"])
        with database().connection(scoped=False) as conn:
            outcome = take_code(conn, who, body["code"])
        if isinstance(outcome, throttle.Refusal):
            refuse(outcome)
        if not outcome:
            field_error("code", [WRONG_CODE])
    elif "password" in body:
        check_password(who, body["password"], "password")
    else:
        either = " or a code of the second factor in force" if in_force else ""
        field_error("password", [f"give the account's password{either} to {what}"])
    return account
