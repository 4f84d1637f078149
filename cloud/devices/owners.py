"""Who a new object belongs to: an operator of the caller's subtree and, maybe, one of that
operator's stores. Ids outside the subtree are answered like missing ones (404)."""

from __future__ import annotations

import psycopg
from psycopg.rows import DictRow

from cloud.errors import Invalid, not_found
from cloud.identity import scope
from cloud.identity.principal import principal

_OPERATOR = f"SELECT id FROM operator WHERE id = %(operator)s AND {scope.owned('id')}"
_STORE = """
SELECT operator_id FROM store
WHERE id = %(id)s AND (%(store)s::bigint IS NULL OR id = %(store)s::bigint)
"""


def owner(
    conn: psycopg.Connection[DictRow], operator_id: int | None, store_id: int | None
) -> tuple[int, int | None]:
    """The (operator, store) a new object of the caller goes to: the given ones, checked, or
    the caller's own. A store's account can only place objects in its store."""
    who = principal()
    if operator_id is None:
        operator_id = who.operator_id
    if store_id is None:
        store_id = who.store_id
    if not _is_callers(conn, operator_id):
        not_found("operator", operator_id)
    if store_id is not None:
        row = conn.execute(_STORE, scope.params(id=store_id)).fetchone()
        if row is None or not _is_callers(conn, row["operator_id"]):
            not_found("store", store_id)
        if row["operator_id"] != operator_id:
            reason = f"store {store_id} is not a store of operator {operator_id}"
            raise Invalid(reason, errors=[{"field": "store_id", "in": "body", "reason": reason}])
    return operator_id, store_id


def _is_callers(conn: psycopg.Connection[DictRow], operator_id: int) -> bool:
    return conn.execute(_OPERATOR, scope.params(operator=operator_id)).fetchone() is not None
