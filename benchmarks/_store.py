"""A benchmark's own database on the PostgreSQL server of $DATABASE_URL (or the machine's at
127.0.0.1:5432): made afresh and migrated, so a run never meets an earlier one's rows."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import psycopg

from cloud.store.migrate import migrate

SERVER = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    """The URL of database ``name`` on SERVER."""
    return urlsplit(SERVER)._replace(path=f"/{name}").geturl()


def drop_database(name: str) -> None:
    """Drop ``name`` (a benchmark's own database) if it exists, ending its sessions."""
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_database(name: str, layout: str = "partitioned") -> str:
    """Drop ``name`` if it exists, create it, migrate it (``layout``); its URL."""
    drop_database(name)
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    migrate(url, layout=layout)
    return url


def add_operator(conn: psycopg.Connection, name: str, parent_id: int = 1) -> int:
    """A new operator under ``parent_id`` with its parent's flags; its id."""
    row = conn.execute(
        "INSERT INTO operator (parent_id, name, flags) SELECT %s, %s, flags FROM operator"
        " WHERE id = %s RETURNING id",
        (parent_id, name, parent_id),
    ).fetchone()
    assert row is not None, f"no operator {parent_id}"
    return int(row[0])


def add_administrator(
    conn: psycopg.Connection, operator_id: int, login: str, password_hash: str | None = None
) -> int:
    """A new account of ``operator_id`` holding its administrator role; the account's id."""
    row = conn.execute(
        "INSERT INTO account (operator_id, login, name, password_hash, password_changed_at)"
        " VALUES (%s, %s, %s, %s, CASE WHEN %s::text IS NULL THEN NULL ELSE now() END)"
        " RETURNING id",
        (operator_id, login, login, password_hash, password_hash),
    ).fetchone()
    assert row is not None
    conn.execute(
        "INSERT INTO account_role (account_id, role_id) SELECT %s, id FROM role"
        " WHERE operator_id = %s AND name = 'administrator'",
        (row[0], operator_id),
    )
    return int(row[0])
