"""The audit log: one row for every state-changing request (written by ``guard``: who, what,
the answer's status, refused ones included) and for every command (the store writes those,
migration 0011), read by the caller's subtree newest first.

A row belongs to the actor's operator; an account of a store reads only the rows of its
store's accounts. Rows of callers who were not signed in (a failed sign-in with an unknown
login) name no operator: only the platform reads them.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import DictRow

from cloud.identity import scope
from cloud.identity.principal import principal
from cloud.store.pages import fetch_page

INSERT = """
INSERT INTO audit_log (operator_id, account_id, actor, via, action, target, status, ip,
                       user_agent, detail)
VALUES (%(operator_id)s, %(account_id)s, %(actor)s, %(via)s, %(action)s, %(target)s,
        %(status)s, %(ip)s, %(user_agent)s, %(detail)s)
"""
# Every filter is optional: a NULL parameter switches its condition off.
_FILTER = f"""
WHERE ({scope.owned("l.operator_id")} OR (l.operator_id IS NULL AND %(platform)s::boolean))
  AND (%(store)s::bigint IS NULL
       OR l.account_id IN (SELECT a.id FROM account a WHERE a.store_id = %(store)s::bigint))
  AND (%(start)s::timestamptz IS NULL OR l.at >= %(start)s)
  AND (%(end)s::timestamptz IS NULL OR l.at < %(end)s)
  AND (%(operator_id)s::bigint IS NULL OR l.operator_id = %(operator_id)s)
  AND (%(actor)s::text IS NULL OR l.actor = %(actor)s)
  AND (%(action)s::text IS NULL OR starts_with(l.action, %(action)s))
  AND (%(status)s::integer IS NULL OR l.status = %(status)s)
  AND (%(target)s::text IS NULL OR starts_with(l.target, %(target)s))
"""
LIST_AUDIT = f"""
SELECT l.id, l.at, l.operator_id, l.account_id, l.actor, l.via, l.action, l.target, l.status,
       l.ip, l.user_agent, l.detail
FROM audit_log l
{_FILTER}
ORDER BY l.at DESC, l.id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT_AUDIT = "SELECT count(*) AS n FROM audit_log l" + _FILTER
FILTERS = ("start", "end", "operator_id", "actor", "action", "status", "target")


def write(conn: psycopg.Connection[DictRow], row: dict[str, Any]) -> None:
    """Add ``row`` (the columns of ``INSERT``) to the log."""
    conn.execute(INSERT, row)


def page(
    conn: psycopg.Connection[DictRow], filters: dict[str, Any], pagination: dict[str, Any]
) -> list[dict[str, Any]]:
    """One page of the caller's rows matching ``filters`` (``FILTERS``), newest first."""
    params = scope.params(**{name: filters.get(name) for name in FILTERS})
    params["platform"] = principal().platform  # rows of nobody's are the platform's
    return fetch_page(conn, COUNT_AUDIT, LIST_AUDIT, params, pagination)
