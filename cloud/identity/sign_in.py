"""Signing in: a login, its password (argon2id) and the second factor make a session.

An account with TOTP enabled, or of an operator that requires it, gets a session of stage
``totp`` (it must confirm a code) or ``totp_enrol`` (it must first set one up) unless a
valid code came with the password. Every failed attempt gets the same answer, whether the
login exists, the password is wrong or the account is disabled; repeated failures are
slowed and locked out by ``throttle`` before the password is even checked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import DictRow

from cloud.config import CloudConfig
from cloud.identity import passwords, throttle, totp
from cloud.identity.guard import note
from cloud.identity.principal import Principal, issue

WRONG = "login or password is wrong"
WRONG_CODE = "the code is wrong or was used already"

_ACCOUNT = """
SELECT a.id, a.login, a.name, a.operator_id, a.store_id, a.password_hash, a.totp_secret,
       a.totp_enabled, a.totp_last_step, a.totp_pending_secret,
       a.totp_pending_secret IS NOT NULL AS totp_pending, a.disabled_at, o.mfa_required
FROM account a JOIN operator o ON o.id = a.operator_id
WHERE a.{key} = %s
"""
ACCOUNT_BY_LOGIN = _ACCOUNT.format(key="login")
ACCOUNT_BY_ID = _ACCOUNT.format(key="id")
SIGNED_IN = "UPDATE account SET last_sign_in_at = now() WHERE id = %s"
REHASH = "UPDATE account SET password_hash = %s WHERE id = %s"
ME = """
SELECT a.id, a.login, a.name, a.operator_id, a.store_id, a.totp_enabled,
       a.totp_pending_secret IS NOT NULL AS totp_pending,
       o.name AS operator_name, o.flags, o.mfa_required, s.name AS store_name
FROM account a
JOIN operator o ON o.id = a.operator_id
LEFT JOIN store s ON s.id = a.store_id
WHERE a.id = %s
"""


def account(conn: psycopg.Connection[DictRow], account_id: int) -> dict[str, Any]:
    """The account row signing in reads (with its secrets and its operator's
    ``mfa_required``)."""
    row = conn.execute(ACCOUNT_BY_ID, (account_id,)).fetchone()
    assert row is not None  # a signed-in caller's own account
    return row


def brief(row: dict[str, Any]) -> dict[str, Any]:
    """What an answer shows of an account row."""
    keys = ("id", "login", "name", "operator_id", "store_id", "totp_enabled", "totp_pending")
    return {key: row[key] for key in keys}


def sign_in(
    conn: psycopg.Connection[DictRow],
    login: str,
    password: str,
    code: str | None,
    *,
    address: str | None,
    user_agent: str,
    config: CloudConfig,
) -> dict[str, Any] | throttle.Refusal | str:
    """The new session (named for the client's ``user_agent``; its lifetimes from
    ``config``), a refusal, or the 401's detail. Runs in one transaction that the caller
    commits before answering, so failures count even though the answer is an error."""
    throttle.hold(conn, login)
    refusal = throttle.refusal(conn, login, address)
    if refusal is not None:
        return refusal
    row = conn.execute(ACCOUNT_BY_LOGIN, (login,)).fetchone()
    if row is not None:
        note(account_id=row["id"], operator_id=row["operator_id"])
    matches = passwords.matches(None if row is None else row["password_hash"], password)
    if row is None or not matches or row["disabled_at"] is not None:
        why = "unknown login" if row is None else "wrong password" if not matches else "disabled"
        note(failed=why, failures=throttle.failed(conn, login, address))
        return WRONG
    if passwords.needs_rehash(row["password_hash"]):
        conn.execute(REHASH, (passwords.hash_password(password), row["id"]))
    stage = "full"
    if row["totp_enabled"]:
        if code is None:
            stage = "totp"
        elif not totp.consume(conn, row, code):
            note(failed="wrong TOTP code", failures=throttle.failed(conn, login, address))
            return f"totp: {WRONG_CODE}"
    elif row["mfa_required"]:
        stage = "totp_enrol"
    if stage != "totp":  # a password alone is not a success while a code is owed
        throttle.succeeded(conn, login)
    conn.execute(SIGNED_IN, (row["id"],))
    expires_at = datetime.now(UTC) + timedelta(hours=config.session_hours)
    _, secret = issue(
        conn,
        row["id"],
        "session",
        name=user_agent[:200],
        stage=stage,
        expires_at=expires_at,
        idle_timeout_s=config.session_idle_minutes * 60,
        ip=address,
    )
    note(stage=stage)
    return {"token": secret, "expires_at": expires_at, "stage": stage, "account": brief(row)}


def me(conn: psycopg.Connection[DictRow], who: Principal) -> dict[str, Any]:
    """Who is asking: its account, operator and store, what it may do now, and its session's
    stage."""
    row = conn.execute(ME, (who.account_id,)).fetchone()
    assert row is not None  # a signed-in caller's own account
    store = None
    if row["store_id"] is not None:
        store = {"id": row["store_id"], "name": row["store_name"]}
    return {
        "account": brief(row),
        "operator": {"id": row["operator_id"], "name": row["operator_name"],
                     "flags": row["flags"], "mfa_required": row["mfa_required"]},
        "store": store,
        "permissions": sorted(who.permissions) if who.stage == "full" else [],
        "stage": who.stage,
        "via": who.via,
    }  # fmt: skip
