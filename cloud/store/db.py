"""Connections to the store, with errors that say where and why."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg

from cloud.errors import StoreUnavailable


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
