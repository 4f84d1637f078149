"""Making an account: the one INSERT the API, ``voltrent cloud account create`` and the demo
share (its password hashed by ``passwords``, its roles attached)."""

from __future__ import annotations

import psycopg
from psycopg.rows import tuple_row

from cloud.identity import passwords

INSERT_ACCOUNT = """
INSERT INTO account (operator_id, store_id, login, name, password_hash, password_changed_at)
VALUES (%s, %s, %s, %s, %s, now())
RETURNING id
"""
SET_ROLES = "INSERT INTO account_role (account_id, role_id) SELECT %s, unnest(%s::bigint[])"


def create(
    conn: psycopg.Connection,
    *,
    operator_id: int,
    login: str,
    name: str,
    password: str,
    role_ids: list[int],
    store_id: int | None = None,
) -> int:
    """The new account's id. psycopg's UniqueViolation: the login is taken; CheckViolation:
    it is not a valid login. The caller checks the roles and the password's policy."""
    with conn.cursor(row_factory=tuple_row) as cur:
        password_hash = passwords.hash_password(password)
        cur.execute(INSERT_ACCOUNT, (operator_id, store_id, login, name, password_hash))
        (account_id,) = cur.fetchone()  # type: ignore[misc]
        cur.execute(SET_ROLES, (account_id, role_ids))
    return account_id
