"""The API's connections to the store: one pool per app, opened on first use.

Waitress serves requests from a few threads; each borrows a connection for the length of
one request. A store that is down surfaces as StoreUnavailable (a 503 problem), never as a
hung request: borrowing waits at most ``timeout_s``.

For a signed-in request the connection runs as ``role`` (``SET ROLE``, session level, made
before the view's first statement and undone when the connection goes back), with
``voltrent.tenant`` and ``voltrent.store`` naming the caller's operator and store: the
row-level security policies (migration 0011) then show only the caller's subtree, whatever
the view's SQL forgets. Session level, not ``SET LOCAL``: a view that commits or rolls back
half-way must not fall back to the owner's rights.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import psycopg
from flask import Flask, current_app, g, has_request_context
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from cloud.errors import StoreUnavailable
from cloud.store.db import DictConnection, describe

# One connection per waitress thread (cloud/server.py), so a request never queues for one.
POOL_MAX_SIZE = 8
_EXTENSION = "voltrent.db"


class Database:
    """A lazily opened pool of connections to the store, shared by the app's threads."""

    def __init__(
        self,
        url: str,
        *,
        role: str = "",
        max_size: int = POOL_MAX_SIZE,
        timeout_s: float = 5.0,
    ):
        self.url = url
        self.role = role
        self.max_size = max_size
        self.timeout_s = timeout_s
        self._pool: ConnectionPool[DictConnection] | None = None
        self._close_pool: weakref.finalize | None = None
        self._lock = threading.Lock()

    def _opened(self) -> ConnectionPool[DictConnection]:
        with self._lock:
            if self._pool is None:
                pool = ConnectionPool(
                    self.url,
                    connection_class=DictConnection,
                    min_size=1,
                    max_size=self.max_size,
                    # prepare_threshold=None: never prepared, so every query is planned
                    # with its parameters. The views' optional filters ("$1 IS NULL OR
                    # ...") fold away only then; a prepared query's generic plan kept them
                    # and joined every device first (89 against 12 ms for a platform's page
                    # of devices; BENCHMARKS.md, section 9). It also suits PgBouncer.
                    kwargs={
                        "row_factory": dict_row,
                        "connect_timeout": 5,
                        "prepare_threshold": None,
                    },
                    check=ConnectionPool.check_connection,
                    name="voltrent-api",
                    open=False,
                )
                # Not waiting here: a store that is down at start must not stop the API
                # from answering /api/health with a 503.
                pool.open(wait=False)
                # Closes the pool when this object goes away or the interpreter exits; the
                # finalizer holds the pool, not self, so it does not keep self alive.
                self._close_pool = weakref.finalize(self, pool.close)
                self._pool = pool
            return self._pool

    @contextmanager
    def connection(self, *, scoped: bool = True) -> Iterator[DictConnection]:
        """Borrow a connection for one unit of work: committed on success, else rolled back.

        ``scoped`` (default) and a signed-in caller: the connection sees only the caller's
        subtree. ``scoped=False`` is for the platform's own bookkeeping (authentication, the
        audit log), never for answering a caller."""
        who = g.get("principal") if scoped and has_request_context() else None
        try:
            with self._opened().connection(timeout=self.timeout_s) as conn:
                if who is None:
                    yield conn
                    return
                self._enter_scope(conn, who.operator_id, who.store_id)
                try:
                    yield conn
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
                finally:
                    self._leave_scope(conn)
        except PoolTimeout as err:
            raise StoreUnavailable(
                f"PostgreSQL at {describe(self.url)}: no connection within {self.timeout_s} s"
            ) from err
        except psycopg.OperationalError as err:
            raise StoreUnavailable(f"PostgreSQL at {describe(self.url)}: {err}") from err

    def _enter_scope(self, conn: DictConnection, tenant: int, store: int | None) -> None:
        # one round trip; set_config('role', ...) is SET ROLE ('none': the connecting role).
        # Committed, so a view's own rollback cannot drop the caller's scope.
        conn.execute(
            "SELECT set_config('voltrent.tenant', %s, false),"
            " set_config('voltrent.store', %s, false), set_config('role', %s, false)",
            (str(tenant), "" if store is None else str(store), self.role or "none"),
        )
        conn.commit()

    def _leave_scope(self, conn: DictConnection) -> None:
        if conn.closed or conn.broken:
            return  # the pool drops it
        try:
            conn.execute("RESET ROLE; RESET voltrent.tenant; RESET voltrent.store")
            conn.commit()
        except psycopg.Error:
            conn.close()  # never hand a connection still in a caller's scope to another
            raise

    def close(self) -> None:
        """Close the pool; the next connection() opens a new one."""
        with self._lock:
            close_pool, self._close_pool, self._pool = self._close_pool, None, None
        if close_pool is not None:
            close_pool()  # a finalizer runs once: closing here also unregisters it


def init_database(app: Flask, url: str, role: str = "") -> Database:
    """Attach a Database for ``url`` to ``app``; signed-in requests run as ``role``."""
    database = Database(url, role=role)
    app.extensions[_EXTENSION] = database
    return database


def database(app: Flask | None = None) -> Database:
    """The Database of ``app`` (default: the current app)."""
    return (app or current_app).extensions[_EXTENSION]


def connection() -> AbstractContextManager[DictConnection]:
    """Borrow a connection of the current app's pool (a context manager)."""
    return database().connection()
