"""Broker credentials: random passwords, hashed as Mosquitto 2 hashes them.

A Mosquitto 2 password file line is ``username:$7$<iterations>$<salt>$<hash>``: PBKDF2 with
HMAC-SHA512 over the password, a 12-byte salt, 64 bytes out, salt and hash in base64. We keep
exactly that string in ``broker_account.password_hash`` so the password file is written
from the table and never needs the password itself. Passwords are 32 random bytes
(``secrets.token_urlsafe``), not chosen by people, so the iteration count guards nothing a
dictionary could find; it stays at Mosquitto's own default (101) to keep the cost of a whole
fleet reconnecting at once small.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

import psycopg
from psycopg.rows import DictRow, dict_row

from cloud.platform.broker_rules import allowed

ITERATIONS = 101
SALT_BYTES = 12
SERVICE_PREFIX = "_"
_HASH = re.compile(r"^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")


def new_password() -> str:
    """A fresh random password (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The Mosquitto 2 (``$7$``) hash of ``password``."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a ``$7$`` hash (constant time; False for a bad hash)."""
    match = _HASH.match(stored)
    if match is None:
        return False
    iterations, salt, digest = int(match[1]), base64.b64decode(match[2]), base64.b64decode(match[3])
    computed = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, len(digest))
    return hmac.compare_digest(computed, digest)


# -- the table -------------------------------------------------------------------------------
ISSUE_DEVICE = """
INSERT INTO broker_account (username, kind, device_id, password_hash)
VALUES (%(username)s, 'device', %(username)s, %(hash)s)
ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,
    rotated_at = now(), revoked_at = NULL
RETURNING username, kind, created_at, rotated_at, revoked_at"""
ISSUE_SERVICE = """
INSERT INTO broker_account (username, kind, password_hash)
VALUES (%(username)s, 'service', %(hash)s)
ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,
    rotated_at = now(), revoked_at = NULL
RETURNING username, kind, created_at, rotated_at, revoked_at"""
REVOKE = """
UPDATE broker_account SET revoked_at = now() WHERE username = %s AND revoked_at IS NULL
RETURNING username"""
ACCOUNT = (
    "SELECT kind, password_hash FROM broker_account WHERE username = %s AND revoked_at IS NULL"
)
ACTIVE = """
SELECT username, kind, password_hash FROM broker_account WHERE revoked_at IS NULL
ORDER BY kind DESC, username COLLATE "C" """


def issue(conn: psycopg.Connection, username: str, *, service: bool = False) -> tuple[str, dict]:
    """Create or rotate an account: (the new password, its row). The password is never kept."""
    if service != username.startswith(SERVICE_PREFIX):
        raise ValueError(
            f"{username!r}: service accounts start with {SERVICE_PREFIX!r}, device accounts do not"
        )
    password = new_password()
    query = ISSUE_SERVICE if service else ISSUE_DEVICE
    cur = conn.cursor(row_factory=dict_row)
    row = cur.execute(query, {"username": username, "hash": hash_password(password)}).fetchone()
    assert row is not None
    return password, row


def revoke(conn: psycopg.Connection, username: str) -> bool:
    """Revoke an account (kept, with the time); False if there was no active one."""
    return conn.execute(REVOKE, (username,)).fetchone() is not None


def active(conn: psycopg.Connection[DictRow], username: str) -> DictRow | None:
    """The account ``username`` (its kind and hash) unless it is revoked or unknown. (``conn``
    gives dict rows, as the API's do. Only the platform's accounts hold ``platform.broker``:
    under row-level security they see the service accounts as well as every device's.)"""
    return conn.execute(ACCOUNT, (username,)).fetchone()


def may_connect(conn: psycopg.Connection[DictRow], username: str, password: str) -> bool:
    """Whether ``username`` may connect with ``password`` (an active account whose hash it
    matches)."""
    account = active(conn, username)
    return account is not None and verify_password(password, account["password_hash"])


def may(conn: psycopg.Connection[DictRow], username: str, action: str, topic: str) -> bool:
    """Whether the active account ``username`` may ``action`` (publish | subscribe)
    ``topic`` (``broker_rules``)."""
    account = active(conn, username)
    return account is not None and allowed(account["kind"], username, action, topic)
