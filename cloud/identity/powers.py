"""Nobody hands out or takes over more than it may do itself.

A caller may only give permissions (in a role) and roles (to an account) within what it may do
itself, and may only change an account that cannot do more than it can, so nobody takes over
a stronger account by resetting its password. What a role or an account may do is its
permissions cut by its operator's capability flags (``permissions.effective``). New roles
and accounts go to an operator of the caller's subtree (``target_operator``).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import DictRow

from cloud.errors import Forbidden, field_error
from cloud.identity import scope
from cloud.identity.permissions import effective, refused
from cloud.identity.principal import principal

OPERATOR = f"""
SELECT o.id, o.flags, o.parent_id IS NULL AS platform FROM operator o
WHERE o.id = %(id)s AND {scope.owned("o.id")}
"""
# What the account may do (its roles cut by its operator's flags), to compare with the caller.
ACCOUNT_POWERS = """
SELECT o.flags, o.parent_id IS NULL AS platform,
       ARRAY(SELECT DISTINCT p FROM account_role ar JOIN role r ON r.id = ar.role_id,
                   unnest(r.permissions) p
             WHERE ar.account_id = a.id) AS granted
FROM account a JOIN operator o ON o.id = a.operator_id
WHERE a.id = %s
"""
ROLES_OF = "SELECT id, permissions FROM role WHERE id = ANY (%s) AND operator_id = %s"


def operator(conn: psycopg.Connection[DictRow], operator_id: int) -> dict[str, Any] | None:
    """The operator ``operator_id`` (id, flags, platform) if it is of the caller's subtree."""
    return conn.execute(OPERATOR, scope.params(id=operator_id)).fetchone()


def target_operator(conn: psycopg.Connection[DictRow], operator_id: int | None) -> dict[str, Any]:
    """The operator a new object goes to: ``operator_id`` of the caller's subtree (422 naming
    the field otherwise), default the caller's own."""
    wanted = principal().operator_id if operator_id is None else operator_id
    row = operator(conn, wanted)
    if row is None:
        field_error("operator_id", [f"no operator {wanted}"])
    assert row is not None  # field_error stopped the request
    return row


def beyond_caller(granted: frozenset[str]) -> list[str]:
    """The permissions of ``granted`` the caller does not have itself, sorted."""
    return sorted(granted - principal().permissions)


def check_permissions(operator: dict[str, Any], wanted: list[str]) -> None:
    """422 unless a role of ``operator`` may hold ``wanted``: its flags allow each, and the
    caller has each itself."""
    reasons = refused(wanted, operator["flags"], platform=operator["platform"])
    granted = effective(wanted, operator["flags"], platform=operator["platform"])
    reasons += [f"{name!r} is more than you may do yourself" for name in beyond_caller(granted)]
    field_error("permissions", reasons)


def check_role_holds(operator: dict[str, Any], role: dict[str, Any]) -> None:
    """403 unless the caller has every permission ``role`` (of ``operator``) holds: only then
    may it change the role."""
    held = effective(role["permissions"], operator["flags"], platform=operator["platform"])
    beyond = beyond_caller(held)
    if beyond:
        raise Forbidden(f"role {role['id']} holds permissions you do not have: {', '.join(beyond)}")


def _within_store() -> bool:
    """Whether the caller is an account of a store: the accounts it manages are of its store
    and stay there, so what they may do is compared without the operator-wide permissions,
    which neither side has. Anyone else compares everything a role holds: it could move the
    account out of its store."""
    return principal().store_id is not None


def check_roles(
    conn: psycopg.Connection[DictRow], operator: dict[str, Any], role_ids: list[int]
) -> None:
    """422 unless each role is ``operator``'s and grants nothing the caller does not have."""
    rows = {row["id"]: row for row in conn.execute(ROLES_OF, (role_ids, operator["id"]))}
    reasons = [f"no role {role_id} of operator {operator['id']}"
               for role_id in role_ids if role_id not in rows]  # fmt: skip
    for role_id in rows:
        granted = effective(rows[role_id]["permissions"], operator["flags"],
                            platform=operator["platform"], store=_within_store())  # fmt: skip
        beyond = beyond_caller(granted)
        if beyond:
            reasons.append(f"role {role_id} grants what you may not do: {', '.join(beyond)}")
    field_error("role_ids", reasons)


def check_manageable(conn: psycopg.Connection[DictRow], account_id: int) -> None:
    """403 unless the caller may do everything ``account_id`` may (its own: also fine); the
    guard has answered 404 for an account outside the caller's subtree."""
    if account_id == principal().account_id:
        return
    row = conn.execute(ACCOUNT_POWERS, (account_id,)).fetchone()
    assert row is not None  # the guard found it in the caller's subtree
    powers = effective(
        row["granted"], row["flags"], platform=row["platform"], store=_within_store()
    )
    beyond = beyond_caller(powers)
    if beyond:
        raise Forbidden(f"account {account_id} may do what you may not ({', '.join(beyond)}):"
                  " only someone who may do all of it can change it")  # fmt: skip
