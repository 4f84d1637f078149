"""Whether the API can reach its store, for load balancers (``/api/health``); ``doctor``
checks much more, from the command line."""

from __future__ import annotations

import psycopg
from psycopg.rows import DictRow

PING = "SELECT 1"


def database_answers(conn: psycopg.Connection[DictRow]) -> str:
    """``ok`` once the store has answered a query (a store that is down raises, which the
    API answers with a 503)."""
    conn.execute(PING).fetchone()
    return "ok"
