"""Connections to the store, with errors that say where and why."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import DictRow

from cloud.errors import StoreUnavailable

# A connection whose rows are dicts (row_factory=dict_row), as the API's pool gives them.
DictConnection = psycopg.Connection[DictRow]


class Connections(Protocol):
    """Where domain code borrows a connection for one unit of work (committed on success).

    ``scoped`` (default): the connection sees only the signed-in caller's subtree.
    ``scoped=False``: the owner's rights, for the platform's own bookkeeping (counting failed
    proofs, locking a role), never for answering a caller. The API's pool
    (``cloud.http.db.Database``) is one; domain code is handed it by the view."""

    def connection(self, *, scoped: bool = True) -> AbstractContextManager[DictConnection]: ...


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def connect(url: str, *, autocommit: bool = False, timeout_s: float = 10) -> psycopg.Connection:
    """A connection to the store; StoreUnavailable says which server refused and why."""
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=max(1, int(timeout_s)))
    except psycopg.OperationalError as err:
        raise StoreUnavailable(f"PostgreSQL at {describe(url)}: {_first_line(err)}") from err


async def connect_async(url: str, *, timeout_s: float = 10) -> psycopg.AsyncConnection:
    """The asyncio twin of connect(), for the ingest worker."""
    try:
        return await psycopg.AsyncConnection.connect(url, connect_timeout=max(1, int(timeout_s)))
    except psycopg.OperationalError as err:
        raise StoreUnavailable(f"PostgreSQL at {describe(url)}: {_first_line(err)}") from err


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
