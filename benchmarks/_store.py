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
