"""Roles: named sets of permissions an operator gives its accounts.

A role belongs to one operator. What it may hold is capped twice: by its operator's
capability flags (``permissions.refused``: a sub-operator without ``bms_param_write`` cannot
have a role that writes BMS parameters) and by the caller, who cannot make or change a
role into more than it may do itself (``powers``). Built-in roles (each operator's
``administrator``) are read-only. An account of a store counts the holders of its store
only, as row-level security shows them.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import DictRow

from cloud.errors import Conflict
from cloud.identity import powers, scope
from cloud.store.db import Connections
from cloud.store.pages import Page, fetch_page

_SELECT = f"""
SELECT r.id, r.operator_id, r.name, r.description, r.permissions, r.builtin,
       (SELECT count(*) FROM account_role ar JOIN account a ON a.id = ar.account_id
        WHERE ar.role_id = r.id AND {scope.in_store("a.store_id")}) AS accounts,
       r.created_at, r.updated_at
FROM role r
"""
_FILTER = f"""
WHERE {scope.owned("r.operator_id")}
  AND (%(operator_id)s::bigint IS NULL OR r.operator_id = %(operator_id)s)
"""
LIST_ROLES = _SELECT + _FILTER + "ORDER BY r.operator_id, r.id LIMIT %(limit)s OFFSET %(offset)s"
COUNT_ROLES = "SELECT count(*) AS n FROM role r" + _FILTER
GET_ROLE = _SELECT + f"WHERE r.id = %(id)s AND {scope.owned('r.operator_id')}"
INSERT_ROLE = """
INSERT INTO role (operator_id, name, description, permissions)
VALUES (%(operator_id)s, %(name)s, %(description)s, %(permissions)s)
RETURNING id
"""
UPDATE_ROLE = """
UPDATE role SET name = %(name)s, description = %(description)s, permissions = %(permissions)s,
                updated_at = now()
WHERE id = %(id)s
"""
LOCK_ROLE = "SELECT 1 FROM role WHERE id = %s FOR UPDATE"
HOLDERS = "SELECT count(*) AS n FROM account_role WHERE role_id = %s"
DELETE_ROLE = "DELETE FROM role WHERE id = %s"


def page(
    conn: psycopg.Connection[DictRow], operator_id: int | None, pagination: Page
) -> list[dict[str, Any]]:
    """One page of the roles of the caller's subtree (only ``operator_id``'s, if given)."""
    params = scope.params(operator_id=operator_id)
    return fetch_page(conn, COUNT_ROLES, LIST_ROLES, params, pagination)


def get(conn: psycopg.Connection[DictRow], role_id: int) -> dict[str, Any]:
    """The role ``role_id`` of the caller's subtree; 404 if it is not one."""
    return scope.one(conn, GET_ROLE, "role", role_id)


def _editable(conn: psycopg.Connection[DictRow], role: dict[str, Any]) -> dict[str, Any]:
    """The role's operator, once sure the caller may change the role."""
    if role["builtin"]:
        raise Conflict(f"role {role['id']} ({role['name']}) is built in: it cannot be changed")
    operator = powers.operator(conn, role["operator_id"])
    assert operator is not None  # the role's, in the caller's subtree as the role is
    powers.check_role_holds(operator, role)
    return operator


def _taken(name: str, operator_id: int) -> None:
    raise Conflict(f"operator {operator_id} has a role named {name!r} already")


def create(conn: psycopg.Connection[DictRow], wanted: dict[str, Any]) -> dict[str, Any]:
    """Make the role ``wanted`` (the API's body) for an operator of the caller's subtree;
    409 if the operator has one of that name."""
    operator = powers.target_operator(conn, wanted.get("operator_id"))
    powers.check_permissions(operator, wanted["permissions"])
    try:
        with conn.transaction():
            params = {**wanted, "operator_id": operator["id"]}
            created = conn.execute(INSERT_ROLE, params).fetchone()
            assert created is not None  # RETURNING of an INSERT
            role_id = created["id"]
    except psycopg.errors.UniqueViolation:
        _taken(wanted["name"], operator["id"])
    return get(conn, role_id)


def change(
    conn: psycopg.Connection[DictRow], role_id: int, changes: dict[str, Any]
) -> dict[str, Any]:
    """Apply ``changes`` (the API's body) to a role the caller may change."""
    role = get(conn, role_id)
    operator = _editable(conn, role)
    if "permissions" in changes:
        powers.check_permissions(operator, changes["permissions"])
    try:
        with conn.transaction():
            conn.execute(UPDATE_ROLE, {**role, **changes})
    except psycopg.errors.UniqueViolation:
        _taken(changes["name"], role["operator_id"])
    return get(conn, role_id)


def delete(db: Connections, role_id: int) -> None:
    """Delete a role the caller may change and no account holds (409 otherwise)."""
    with db.connection() as conn:
        _editable(conn, get(conn, role_id))
    # Owner rights: a store's account sees only its store's holders, and deleting the
    # role would take it from the others unseen (account_role cascades).
    with db.connection(scoped=False) as owner:
        # locked first: an assignment racing this one waits, then finds no role
        owner.execute(LOCK_ROLE, (role_id,))
        counted = owner.execute(HOLDERS, (role_id,)).fetchone()
        assert counted is not None  # count(*)
        held = counted["n"]
        if not held:
            owner.execute(DELETE_ROLE, (role_id,))
    if held:
        raise Conflict(f"role {role_id} is held by {held} account(s): take it from them first")
