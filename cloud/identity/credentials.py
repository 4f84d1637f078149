"""An account's sessions and API tokens as their owner and its administrators see them, and
revoking them.

The lists show what still works (``principal.works()``, the rule every request is checked
with); tokens are listed until revoked, expired ones too, so their owner sees why a script
stopped. Revoking is in the caller's name (``revoked_by``). Changing or resetting the
password or the second factor and disabling the account end every session and token at once
(``revoke_all``): whoever stole one of them loses it with the old password.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import DictRow

from cloud.errors import not_found
from cloud.identity.guard import note
from cloud.identity.principal import EFFECTIVE_STAGE, principal, works

LIST_SESSIONS = f"""
SELECT c.id, c.account_id, c.name, {EFFECTIVE_STAGE} AS stage, c.created_at, c.expires_at,
       c.idle_timeout_s, c.last_used_at, c.last_ip, c.id = %(current)s AS current
FROM credential c
JOIN account a ON a.id = c.account_id
JOIN operator o ON o.id = a.operator_id
WHERE c.account_id = %(account_id)s AND c.kind = 'session' AND {works("c")}
ORDER BY c.id
"""
_TOKEN_COLUMNS = """
SELECT c.id, c.account_id, c.name, c.permissions, c.created_at, c.expires_at, c.last_used_at,
       c.last_ip
FROM credential c
"""
LIST_TOKENS = (
    _TOKEN_COLUMNS
    + "WHERE c.account_id = %s AND c.kind = 'token' AND c.revoked_at IS NULL ORDER BY c.id"
)
GET_TOKEN = _TOKEN_COLUMNS + "WHERE c.id = %s"
GET_OWN_TOKEN = (
    _TOKEN_COLUMNS
    + "WHERE c.id = %s AND c.account_id = %s AND c.kind = 'token' AND c.revoked_at IS NULL"
)
# Revoke an account's credentials of the given kinds: one (id), or all but one (keep).
REVOKE = """
UPDATE credential SET revoked_at = now(), revoked_by = %(by)s
WHERE account_id = %(account_id)s AND kind = ANY (%(kinds)s) AND revoked_at IS NULL
  AND (%(id)s::bigint IS NULL OR id = %(id)s::bigint)
  AND (%(keep)s::bigint IS NULL OR id <> %(keep)s::bigint)
RETURNING id
"""
SET_STAGE = "UPDATE credential SET stage = %s WHERE id = %s"
EXPIRES_AT = "SELECT expires_at FROM credential WHERE id = %s"


def sessions_of(conn: psycopg.Connection[DictRow], account_id: int) -> list[dict[str, Any]]:
    """The account's sessions that still work, oldest first (``current``: the caller's)."""
    params = {"account_id": account_id, "current": principal().credential_id}
    return conn.execute(LIST_SESSIONS, params).fetchall()


def tokens_of(conn: psycopg.Connection[DictRow], account_id: int) -> list[dict[str, Any]]:
    """The account's tokens not revoked (expired ones included), oldest first."""
    return conn.execute(LIST_TOKENS, (account_id,)).fetchall()


def token(conn: psycopg.Connection[DictRow], token_id: int) -> dict[str, Any]:
    """The token ``token_id`` (any account's, revoked or not: for the answer that made it)."""
    row = conn.execute(GET_TOKEN, (token_id,)).fetchone()
    assert row is not None  # made in this transaction
    return row


def own_token(conn: psycopg.Connection[DictRow], account_id: int, token_id: int) -> dict[str, Any]:
    """``account_id``'s token ``token_id`` not revoked; 404 if it has none of that id."""
    row = conn.execute(GET_OWN_TOKEN, (token_id, account_id)).fetchone()
    if row is None:
        not_found("token", token_id)
    return row


def revoke(
    conn: psycopg.Connection[DictRow],
    account_id: int,
    *,
    kinds: tuple[str, ...] = ("session",),
    credential_id: int | None = None,
    keep: int | None = None,
) -> int:
    """Revoke ``account_id``'s live credentials of ``kinds`` (only ``credential_id``, or all
    but ``keep``), in the caller's name; returns how many."""
    params = {"by": principal().actor, "account_id": account_id, "kinds": list(kinds),
              "id": credential_id, "keep": keep}  # fmt: skip
    return len(conn.execute(REVOKE, params).fetchall())


def revoke_all(
    conn: psycopg.Connection[DictRow], account_id: int, *, keep: int | None = None
) -> int:
    """End every session and API token of ``account_id`` but ``keep`` (the caller's own
    session, where it survives its own change); the audit row and the answer say how many."""
    revoked = revoke(conn, account_id, kinds=("session", "token"), keep=keep)
    note(revoked=revoked)
    return revoked


def revoke_one(
    conn: psycopg.Connection[DictRow], account_id: int, kind: str, credential_id: int
) -> None:
    """Revoke one live ``kind`` ('session' or 'token') of ``account_id``; 404 if it has none
    of that id."""
    if not revoke(conn, account_id, kinds=(kind,), credential_id=credential_id):
        not_found(kind, credential_id)


def second_factor_done(conn: psycopg.Connection[DictRow], credential_id: int) -> datetime | None:
    """The session ``credential_id`` owes no second factor any more (stage ``full``); returns
    when it expires."""
    conn.execute(SET_STAGE, ("full", credential_id))
    row = conn.execute(EXPIRES_AT, (credential_id,)).fetchone()
    assert row is not None  # the caller's own session
    return row["expires_at"]
