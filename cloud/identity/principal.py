"""The caller of a request: an account signed in with a session or an API token.

A bearer secret is ``vrs_…`` (session) or ``vrt_…`` (token); the store keeps only its
SHA-256. ``authenticate()`` finds the credential, checks expiry, idle time, revocation and
the account, and works out what the caller may do now (roles cut down by the operator's
flags; a token further narrowed to its own list).

An operator requiring a second factor binds its accounts from the moment it says so: a
session or token of an account without a confirmed factor then has the stage ``totp_enrol``
(``EFFECTIVE_STAGE``) whatever it had when it was made, so it can only enrol one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import psycopg
from flask import g

from cloud.identity.permissions import effective

SESSION_PREFIX = "vrs_"
TOKEN_PREFIX = "vrt_"
# last_used_at is written at most this often per credential (not on every request)
TOUCH_EVERY_S = 60

# A credential's stage now (c: credential, a: its account, o: the account's operator).
EFFECTIVE_STAGE = """
CASE WHEN c.stage = 'full' AND o.mfa_required AND NOT a.totp_enabled THEN 'totp_enrol'
     ELSE c.stage END
"""


def works(alias: str = "c") -> str:
    """The credential row ``alias`` still works: not revoked, not expired, and used within its
    idle timeout. Every request's credential is checked with it, and the lists of sessions."""
    return (
        f"{alias}.revoked_at IS NULL"
        f" AND ({alias}.expires_at IS NULL OR {alias}.expires_at > now())"
        f" AND ({alias}.idle_timeout_s IS NULL OR coalesce({alias}.last_used_at,"
        f" {alias}.created_at) + make_interval(secs => {alias}.idle_timeout_s) > now())"
    )


_LOOKUP = f"""
SELECT c.id AS credential_id, c.kind, {EFFECTIVE_STAGE} AS stage, c.permissions AS narrowed,
       a.id AS account_id, a.login, a.operator_id, a.store_id,
       o.flags, o.parent_id IS NULL AS platform,
       ARRAY(SELECT DISTINCT p FROM account_role ar JOIN role r ON r.id = ar.role_id,
                   unnest(r.permissions) p
             WHERE ar.account_id = a.id) AS granted,
       c.last_used_at < now() - make_interval(secs => %(touch)s) OR c.last_used_at IS NULL
           AS stale
FROM credential c
JOIN account a ON a.id = c.account_id
JOIN operator o ON o.id = a.operator_id
WHERE c.secret_hash = %(hash)s AND {works("c")} AND a.disabled_at IS NULL
"""
_TOUCH = "UPDATE credential SET last_used_at = now(), last_ip = %s WHERE id = %s"


@dataclass(frozen=True)
class Principal:
    """Who is asking, and what they may do."""

    account_id: int
    login: str
    operator_id: int
    store_id: int | None
    platform: bool  # an account of the root operator
    permissions: frozenset[str]
    credential_id: int
    via: str  # 'session' or 'token'
    stage: str  # 'full', or a second factor still owed: 'totp', 'totp_enrol'

    def can(self, permission: str) -> bool:
        return self.stage == "full" and permission in self.permissions

    @property
    def actor(self) -> str:
        """How audit rows and issued_by columns name this caller."""
        return self.login


def principal() -> Principal:
    """The caller of the current request (the endpoint's access rule guarantees one)."""
    return g.principal


def new_secret(kind: str) -> str:
    """A fresh bearer secret for a 'session' or a 'token'."""
    prefix = SESSION_PREFIX if kind == "session" else TOKEN_PREFIX
    return prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def authenticate(conn: psycopg.Connection, secret: str, ip: str | None) -> Principal | None:
    """The principal holding ``secret``, or None if it is unknown, expired, idle too long,
    revoked, or its account is disabled. Records the use (at most once a minute)."""
    if not secret.startswith((SESSION_PREFIX, TOKEN_PREFIX)):
        return None
    row = conn.execute(_LOOKUP, {"hash": secret_hash(secret), "touch": TOUCH_EVERY_S}).fetchone()
    if row is None:
        return None
    if row["stale"]:
        conn.execute(_TOUCH, (ip, row["credential_id"]))
    permissions = effective(
        row["granted"], row["flags"], platform=row["platform"], store=row["store_id"] is not None
    )
    if row["narrowed"] is not None:
        permissions = permissions & frozenset(row["narrowed"])
    return Principal(
        account_id=row["account_id"],
        login=row["login"],
        operator_id=row["operator_id"],
        store_id=row["store_id"],
        platform=row["platform"],
        permissions=permissions,
        credential_id=row["credential_id"],
        via=row["kind"],
        stage=row["stage"],
    )


def issue(
    conn: psycopg.Connection,
    account_id: int,
    kind: str,
    *,
    name: str = "",
    stage: str = "full",
    expires_at: datetime | None = None,
    idle_timeout_s: int | None = None,
    permissions: list[str] | None = None,
    ip: str | None = None,
) -> tuple[int, str]:
    """Make a session or token for ``account_id``; returns (credential id, secret). The
    secret is shown once: only its hash is stored."""
    secret = new_secret(kind)
    row = conn.execute(
        """
        INSERT INTO credential (account_id, kind, secret_hash, name, stage, expires_at,
                                idle_timeout_s, permissions, last_used_at, last_ip)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now(), %s)
        RETURNING id
        """,
        (
            account_id,
            kind,
            secret_hash(secret),
            name,
            stage,
            expires_at,
            idle_timeout_s,
            permissions,
            ip,
        ),
    ).fetchone()
    return row["id"] if isinstance(row, dict) else row[0], secret
