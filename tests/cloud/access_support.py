"""Helpers for tests of who may do what (no tests here): operators, stores, accounts and
bearer secrets made with plain SQL, the way the API would leave them."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import psycopg
import pytest

from cloud.identity import passwords
from cloud.identity.principal import issue

PLATFORM = 1  # the root operator migration 0011 makes

# The API's own filters and row-level security are two walls: tests of a subtree run both
# ways, the second with the API connecting as the store's owner (no SET ROLE, so no
# row-level security), so that the API's filters alone are seen to hold.
WALL_ROLES = {"both-walls": "voltrent_api", "api-filters-only": ""}
# for tests taking the ``api_db_role`` fixture (tests/cloud/conftest.py gives the default)
on_both_walls = pytest.mark.parametrize(
    "api_db_role", list(WALL_ROLES.values()), ids=list(WALL_ROLES)
)
ROOT_LOGIN = "root@platform.test"
PASSWORD = "correct horse battery"  # passes the password policy


@functools.cache
def _hashed(password: str) -> str:
    """One argon2 hash per password for the whole run (each costs about 0.1 s)."""
    return passwords.hash_password(password)


def make_operator(
    conn: psycopg.Connection,
    name: str,
    *,
    parent: int = PLATFORM,
    flags: Iterable[str] | None = None,
    mfa_required: bool = False,
) -> int:
    """A sub-operator of ``parent`` (default: with all of the parent's flags)."""
    row = conn.execute(
        """
        INSERT INTO operator (parent_id, name, flags, mfa_required)
        VALUES (%s, %s, coalesce(%s, (SELECT flags FROM operator WHERE id = %s)), %s)
        RETURNING id
        """,
        (parent, name, None if flags is None else list(flags), parent, mfa_required),
    ).fetchone()
    return row[0]


def make_store(conn: psycopg.Connection, operator_id: int, name: str) -> int:
    return conn.execute(
        "INSERT INTO store (operator_id, name) VALUES (%s, %s) RETURNING id", (operator_id, name)
    ).fetchone()[0]


def make_role(
    conn: psycopg.Connection, operator_id: int, name: str, permissions: Iterable[str]
) -> int:
    return conn.execute(
        "INSERT INTO role (operator_id, name, permissions) VALUES (%s, %s, %s) RETURNING id",
        (operator_id, name, list(permissions)),
    ).fetchone()[0]


def make_account(
    conn: psycopg.Connection,
    operator_id: int,
    login: str,
    *,
    roles: Iterable[str] = ("administrator",),
    store_id: int | None = None,
    password: str | None = None,
) -> int:
    """An account of ``operator_id`` holding the named roles of its operator."""
    password_hash = _hashed(password) if password else None
    account_id = conn.execute(
        """
        INSERT INTO account (operator_id, store_id, login, name, password_hash,
                             password_changed_at)
        VALUES (%s, %s, %s, %s, %s, CASE WHEN %s::text IS NULL THEN NULL ELSE now() END)
        RETURNING id
        """,
        (operator_id, store_id, login, login, password_hash, password_hash),
    ).fetchone()[0]
    conn.execute(
        """
        INSERT INTO account_role (account_id, role_id)
        SELECT %s, id FROM role WHERE operator_id = %s AND name = ANY (%s)
        """,
        (account_id, operator_id, list(roles)),
    )
    return account_id


def token_for(
    conn: psycopg.Connection, account_id: int, *, permissions: list[str] | None = None
) -> str:
    """A bearer secret (an API token) acting as ``account_id``."""
    _, secret = issue(conn, account_id, "token", name="test", permissions=permissions)
    return secret


def root_token(database_url: str) -> str:
    """A token of the platform's administrator (made once per database)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT id FROM account WHERE login = %s", (ROOT_LOGIN,)).fetchone()
        account_id = row[0] if row else make_account(conn, PLATFORM, ROOT_LOGIN)
        return token_for(conn, account_id)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def client_as(database: str, account_id: int):
    """An API test client (a context manager) bearing a new token of ``account_id``."""
    from tests.cloud.api_support import api_client

    with psycopg.connect(database, autocommit=True) as conn:
        return api_client(database, secret=token_for(conn, account_id))
