"""The operators of the caller's subtree: reading them, making sub-operators, changing their
name, capability flags and sign-in policy, and removing them.

An operator's capability flags are a subset of its parent's. This module says so first, as
a 422 naming each flag the parent lacks; the store's trigger ``operator_place``
(cloud/migrations/repeatable/tenancy.sql) refuses the same rows whoever writes them, and
takes a flag from a whole subtree when it is taken from the top of it. Nobody edits the
flags of their own operator: a cap is set from above.

The sign-in policy (``mfa_required``) is a floor the same way (``operator_policy``, same
file): on at an operator, it is on in its whole subtree and cannot be turned off below it
(422), and an operator's own accounts may turn it on but not off (403): that is for the
operator above.
"""

from __future__ import annotations

from typing import Any, NoReturn

import psycopg
from flask_smorest.pagination import PaginationParameters
from psycopg.rows import DictRow

from cloud.errors import Conflict, Forbidden, Invalid, not_found
from cloud.identity import scope
from cloud.identity.guard import note, principal
from cloud.store.pages import fetch_page

# The triggers' constraint names when flags exceed the parent's (operator_place) and when
# the second factor is off under a parent that requires it (operator_policy).
FLAGS_WITHIN_PARENT = "operator_flags_within_parent"
MFA_WITHIN_PARENT = "operator_mfa_within_parent"

_STORE = "(%(store)s::bigint IS NULL OR {column} = %(store)s::bigint)"
_SELECT = f"""
SELECT o.id, o.parent_id, o.path, cardinality(o.path) - 1 AS depth, o.name,
       ARRAY(SELECT f FROM unnest(o.flags) f ORDER BY f) AS flags, o.mfa_required,
       o.created_at, o.updated_at,
       (SELECT count(*) FROM device d
        WHERE d.operator_id = o.id AND {_STORE.format(column="d.store_id")}) AS device_count,
       (SELECT count(*) FROM store s
        WHERE s.operator_id = o.id AND {_STORE.format(column="s.id")}) AS store_count,
       (SELECT count(*) FROM account a
        WHERE a.operator_id = o.id AND {_STORE.format(column="a.store_id")}) AS account_count,
       (SELECT count(*) FROM operator c
        WHERE c.parent_id = o.id AND %(store)s::bigint IS NULL) AS sub_operator_count,
       subtree.device_count AS subtree_device_count,
       subtree.online_count AS subtree_online_count
FROM operator o
CROSS JOIN LATERAL (
    -- the devices of the operator and every operator below it (what its console shows as
    -- its fleet); for a store's account only its store's
    SELECT count(*) AS device_count, count(*) FILTER (WHERE s.online) AS online_count
    FROM device d LEFT JOIN device_state s ON s.device_id = d.id
    WHERE d.operator_id IN (SELECT id FROM operator WHERE path @> ARRAY[o.id])
      AND {_STORE.format(column="d.store_id")}
) subtree
"""
_FILTER = f"""
WHERE {scope.owned("o.id")}
  AND (%(parent_id)s::bigint IS NULL OR o.parent_id = %(parent_id)s::bigint)
"""
# Ordered by path: the tree depth first, each parent before its children.
LIST_OPERATORS = _SELECT + _FILTER + "ORDER BY o.path LIMIT %(limit)s OFFSET %(offset)s"
COUNT_OPERATORS = "SELECT count(*) AS n FROM operator o" + _FILTER
GET_OPERATOR = _SELECT + f"WHERE o.id = %(id)s AND {scope.owned('o.id')}"
# The operator's path (itself last), for an operator of the caller's subtree.
FIND_OPERATOR = f"SELECT id, path FROM operator o WHERE o.id = %(id)s AND {scope.owned('o.id')}"
# FOR SHARE: the parent's flags cannot change until the child is written.
LOCK_PARENT = f"""
SELECT id, flags, mfa_required FROM operator o WHERE o.id = %(id)s AND {scope.owned("o.id")}
FOR SHARE
"""
LOCK_OPERATOR = f"""
SELECT o.id, o.parent_id, o.flags, o.mfa_required, p.flags AS parent_flags,
       coalesce(p.mfa_required, false) AS parent_mfa_required
FROM operator o LEFT JOIN operator p ON p.id = o.parent_id
WHERE o.id = %(id)s AND {scope.owned("o.id")}
FOR UPDATE OF o
"""
INSERT_OPERATOR = """
INSERT INTO operator (parent_id, name, flags, mfa_required)
VALUES (%(parent_id)s, %(name)s, %(flags)s, %(mfa_required)s)
RETURNING id
"""
UPDATE_OPERATOR = """
UPDATE operator SET
    name = coalesce(%(name)s, name),
    flags = coalesce(%(flags)s, flags),
    mfa_required = coalesce(%(mfa_required)s, mfa_required),
    updated_at = now()
WHERE id = %(id)s
"""
# What still refers to an operator; deleting it needs all of these gone.
LEFT_OVER = """
SELECT (SELECT count(*) FROM operator WHERE parent_id = %(id)s) AS "sub-operators",
       (SELECT count(*) FROM device WHERE operator_id = %(id)s) AS devices,
       (SELECT count(*) FROM store WHERE operator_id = %(id)s) AS stores,
       (SELECT count(*) FROM account WHERE operator_id = %(id)s) AS accounts,
       (SELECT count(*) FROM geofence WHERE operator_id = %(id)s) AS geofences,
       (SELECT count(*) FROM webhook WHERE operator_id = %(id)s) AS webhooks,
       (SELECT count(*) FROM command_batch WHERE operator_id = %(id)s) AS "command batches"
"""
DELETE_OPERATOR = "DELETE FROM operator WHERE id = %(id)s RETURNING id"


def path(conn: psycopg.Connection[DictRow], operator_id: int) -> list[int]:
    """The path of an operator of the caller's subtree (from the root to it); a 404 for
    any other id."""
    row = conn.execute(FIND_OPERATOR, scope.params(id=operator_id)).fetchone()
    if row is None:
        not_found("operator", operator_id)
    return row["path"]


def page(
    conn: psycopg.Connection[DictRow], parent_id: int | None, pagination: PaginationParameters
) -> list[dict[str, Any]]:
    """A page of the caller's subtree, depth first; ``parent_id``: that one's children."""
    params = scope.params(parent_id=parent_id)
    return fetch_page(conn, COUNT_OPERATORS, LIST_OPERATORS, params, pagination)


def get(conn: psycopg.Connection[DictRow], operator_id: int) -> dict[str, Any]:
    """An operator of the caller's subtree; a 404 for any other id."""
    row = conn.execute(GET_OPERATOR, scope.params(id=operator_id)).fetchone()
    if row is None:
        not_found("operator", operator_id)
    return row


def create(conn: psycopg.Connection[DictRow], body: dict[str, Any]) -> int:
    """Make a sub-operator of ``parent_id`` (default: the caller's operator); its id."""
    parent_id = body.get("parent_id", principal().operator_id)
    flags = _sorted_flags(body.get("flags", []))
    try:
        with conn.transaction():
            parent = conn.execute(LOCK_PARENT, scope.params(id=parent_id)).fetchone()
            if parent is None:
                not_found("operator", parent_id)
            _check_flags(flags, parent_id, parent["flags"])
            _check_mfa(body.get("mfa_required"), parent_id, parent["mfa_required"])
            row = {
                "parent_id": parent_id,
                "name": body["name"],
                "flags": flags,
                "mfa_required": body.get("mfa_required", parent["mfa_required"]),
            }
            inserted = conn.execute(INSERT_OPERATOR, row).fetchone()
            assert inserted is not None  # an INSERT's RETURNING
            return inserted["id"]
    except psycopg.errors.CheckViolation as err:
        _trigger_refused(err, parent_id)


def change(conn: psycopg.Connection[DictRow], operator_id: int, changes: dict[str, Any]) -> None:
    """Change an operator's name, flags or sign-in policy (the checks in the docstring)."""
    flags = _sorted_flags(changes["flags"]) if "flags" in changes else None
    try:
        with conn.transaction():
            current = conn.execute(LOCK_OPERATOR, scope.params(id=operator_id)).fetchone()
            if current is None:
                not_found("operator", operator_id)
            if flags is not None and flags != _sorted_flags(current["flags"]):
                if operator_id == principal().operator_id:
                    raise Forbidden("an operator's own flags are set by the operator above it,"
                              " not by its own accounts")  # fmt: skip
                _check_flags(flags, current["parent_id"], current["parent_flags"])
                note(flags_before=current["flags"], flags=flags)
            if changes.get("mfa_required") is False and current["mfa_required"]:
                _lowered_mfa(current)
            row = {
                "id": operator_id,
                "name": changes.get("name"),
                "flags": flags,
                "mfa_required": changes.get("mfa_required"),
            }
            conn.execute(UPDATE_OPERATOR, row)
    except psycopg.errors.CheckViolation as err:
        assert current is not None  # the trigger refuses the UPDATE, after the lock
        _trigger_refused(err, current["parent_id"])


def delete(conn: psycopg.Connection[DictRow], operator_id: int) -> None:
    """Delete an operator that holds nothing any more (409 saying what is left), never the
    caller's own (403)."""
    if operator_id == principal().operator_id:
        raise Forbidden("an operator cannot be deleted by its own accounts")
    try:
        with conn.transaction():
            left = conn.execute(LEFT_OVER, {"id": operator_id}).fetchone()
            assert left is not None  # counts
            held = [f"{count} {what}" for what, count in left.items() if count]
            if held:
                raise Conflict(f"operator {operator_id} still has {', '.join(held)}:"
                          " move or delete them first")  # fmt: skip
            if conn.execute(DELETE_OPERATOR, {"id": operator_id}).fetchone() is None:
                not_found("operator", operator_id)
    except psycopg.errors.ForeignKeyViolation as err:
        # something this caller cannot see (a store account's view) or made meanwhile
        raise Conflict(f"operator {operator_id} is still referred to by"
                  f" {err.diag.table_name}: move or delete that first") from None  # fmt: skip


def _sorted_flags(flags: list[str]) -> list[str]:
    return sorted(set(flags))


def _refuse_flags(parent_id: int, lacking: list[str]) -> NoReturn:
    names = ", ".join(map(repr, lacking))
    raise Invalid(f"flags: the parent operator {parent_id} lacks {names}", errors=[
        {"field": "flags", "in": "body",
         "reason": f"{flag!r} is not a flag of the parent operator {parent_id}"}
        for flag in lacking
    ])  # fmt: skip


def _check_flags(flags: list[str], parent_id: int, parent_flags: list[str]) -> None:
    """A 422 naming each of ``flags`` the parent does not hold."""
    lacking = [flag for flag in flags if flag not in parent_flags]
    if lacking:
        _refuse_flags(parent_id, lacking)


def _check_mfa(mfa_required: bool | None, parent_id: int, parent_mfa_required: bool) -> None:
    """A 422 if ``mfa_required`` is off under a parent that requires a second factor."""
    if mfa_required is False and parent_mfa_required:
        _refuse_mfa(parent_id)


def _refuse_mfa(parent_id: int) -> NoReturn:
    reason = f"the parent operator {parent_id} requires a second factor, so its subtree does"
    raise Invalid(f"mfa_required: {reason}", errors=[
        {"field": "mfa_required", "in": "body", "reason": reason}
    ])  # fmt: skip


def _trigger_refused(err: psycopg.errors.CheckViolation, parent_id: int) -> NoReturn:
    """The trigger's refusal (the parent's flags or policy changed meanwhile) as the same
    422."""
    if err.diag.constraint_name == MFA_WITHIN_PARENT:
        _refuse_mfa(parent_id)
    if err.diag.constraint_name != FLAGS_WITHIN_PARENT:
        raise err
    raise Invalid(f"flags: {err.diag.message_primary}", errors=[
        {"field": "flags", "in": "body", "reason": f"exceeds the flags of operator {parent_id}"}
    ])  # fmt: skip


def _lowered_mfa(current: dict[str, Any]) -> None:
    """403 if the caller's own operator turns its second factor off (the platform aside),
    422 if its parent requires one."""
    if current["id"] == principal().operator_id and current["parent_id"] is not None:
        raise Forbidden("an operator's sign-in policy is lowered by the operator above it, not by"
                  " its own accounts")  # fmt: skip
    _check_mfa(False, current["parent_id"], current["parent_mfa_required"])
    note(mfa_required_before=True, mfa_required=False)
