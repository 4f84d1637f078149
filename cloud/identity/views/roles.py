"""``/api/roles`` and ``/api/permissions``: named sets of permissions an operator gives its
accounts, and the catalogue they are made from.

A role belongs to one operator. What it may hold is capped twice: by its operator's
capability flags (``permissions.refused``: a sub-operator without ``bms_param_write`` cannot
have a role that writes BMS parameters) and by the caller, who cannot make or change a
role into more than it may do itself. Built-in roles (each operator's ``administrator``)
are read-only. Roles are the operator's: an account of a store reads them and gives them to
its store's accounts, but makes and changes none (``role.write`` is operator-wide).
"""

from __future__ import annotations

from typing import Any

import psycopg
from flask import url_for
from flask.views import MethodView

from cloud.http.db import connection, database
from cloud.http.paging import PAGE_SIZE, fetch_page
from cloud.http.problems import fail, field_error
from cloud.http.schemas import Blueprint
from cloud.identity import scope
from cloud.identity.guard import principal, requires, signed_in
from cloud.identity.permissions import (
    FLAGS,
    OPERATOR_WIDE,
    PERMISSIONS,
    effective,
    platform_only,
    refused,
)
from cloud.identity.schemas.accounts import (
    CatalogueSchema,
    RoleCreateSchema,
    RoleListArgs,
    RoleSchema,
    RoleUpdateSchema,
)

blp = Blueprint("roles", __name__, description="Roles and permissions")

# A store's account counts the holders of its store only, as row-level security shows them.
_SELECT = """
SELECT r.id, r.operator_id, r.name, r.description, r.permissions, r.builtin,
       (SELECT count(*) FROM account_role ar JOIN account a ON a.id = ar.account_id
        WHERE ar.role_id = r.id
          AND (%(store)s::bigint IS NULL OR a.store_id = %(store)s::bigint)) AS accounts,
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
OPERATOR = f"""
SELECT o.id, o.flags, o.parent_id IS NULL AS platform FROM operator o
WHERE o.id = %(id)s AND {scope.owned("o.id")}
"""
INSERT_ROLE = """
INSERT INTO role (operator_id, name, description, permissions)
VALUES (%(operator_id)s, %(name)s, %(description)s, %(permissions)s)
RETURNING id
"""
HOLDERS = "SELECT count(*) AS n FROM account_role WHERE role_id = %s"
UPDATE_ROLE = """
UPDATE role SET name = %(name)s, description = %(description)s, permissions = %(permissions)s,
                updated_at = now()
WHERE id = %(id)s
"""


def target_operator(conn: psycopg.Connection, operator_id: int | None) -> dict[str, Any]:
    """The operator a new object goes to: ``operator_id`` of the caller's subtree (422 naming
    the field otherwise), default the caller's own."""
    wanted = principal().operator_id if operator_id is None else operator_id
    row = conn.execute(OPERATOR, scope.params(id=wanted)).fetchone()
    if row is None:
        field_error("operator_id", [f"no operator {wanted}"])
    return row


def beyond_caller(granted: frozenset[str]) -> list[str]:
    """The permissions of ``granted`` the caller does not have itself, sorted."""
    return sorted(granted - principal().permissions)


def _check_permissions(operator: dict[str, Any], wanted: list[str]) -> None:
    reasons = refused(wanted, operator["flags"], platform=operator["platform"])
    granted = effective(wanted, operator["flags"], platform=operator["platform"])
    reasons += [f"{name!r} is more than you may do yourself" for name in beyond_caller(granted)]
    field_error("permissions", reasons)


def _fetch(conn: psycopg.Connection, role_id: int) -> dict[str, Any]:
    row = conn.execute(GET_ROLE, scope.params(id=role_id)).fetchone()
    if row is None:
        fail(404, f"no role {role_id}")
    return row


def _editable(conn: psycopg.Connection, role: dict[str, Any]) -> dict[str, Any]:
    """The role's operator, once sure the caller may change the role."""
    if role["builtin"]:
        fail(409, f"role {role['id']} ({role['name']}) is built in: it cannot be changed")
    operator = conn.execute(OPERATOR, scope.params(id=role["operator_id"])).fetchone()
    held = effective(role["permissions"], operator["flags"], platform=operator["platform"])
    beyond = beyond_caller(held)
    if beyond:
        fail(403, f"role {role['id']} holds permissions you do not have: {', '.join(beyond)}")
    return operator


def _taken(name: str, operator_id: int) -> None:
    fail(409, f"operator {operator_id} has a role named {name!r} already")


@blp.route("/roles")
class Roles(MethodView):
    @requires("role.read")
    @blp.arguments(RoleListArgs, location="query")
    @blp.response(200, RoleSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List the roles of the caller's operator and its sub-operators"""
        params = scope.params(operator_id=args.get("operator_id"))
        with connection() as conn:
            return fetch_page(conn, COUNT_ROLES, LIST_ROLES, params, pagination_parameters)

    @requires("role.write")
    @blp.arguments(RoleCreateSchema)
    @blp.response(201, RoleSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body):
        """Create a role

        Its permissions must be ones the operator's flags allow (422 says which flag each
        missing one needs) and ones the caller has itself.
        """
        with connection() as conn:
            operator = target_operator(conn, body.get("operator_id"))
            _check_permissions(operator, body["permissions"])
            params = {**body, "operator_id": operator["id"]}
            try:
                with conn.transaction():
                    role_id = conn.execute(INSERT_ROLE, params).fetchone()["id"]
            except psycopg.errors.UniqueViolation:
                _taken(body["name"], operator["id"])
            created = _fetch(conn, role_id)
        return created, 201, {"Location": url_for("roles.Role", role_id=role_id)}


@blp.route("/roles/<int:role_id>")
class Role(MethodView):
    @requires("role.read")
    @blp.response(200, RoleSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, role_id):
        """Get a role"""
        with connection() as conn:
            return _fetch(conn, role_id)

    @requires("role.write")
    @blp.arguments(RoleUpdateSchema)
    @blp.response(200, RoleSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, changes, role_id):
        """Change a role's name, description or permissions

        Every account holding it gets the new permissions on its next request.
        """
        with connection() as conn:
            role = _fetch(conn, role_id)
            operator = _editable(conn, role)
            if "permissions" in changes:
                _check_permissions(operator, changes["permissions"])
            try:
                with conn.transaction():
                    conn.execute(UPDATE_ROLE, {**role, **changes})
            except psycopg.errors.UniqueViolation:
                _taken(changes["name"], role["operator_id"])
            return _fetch(conn, role_id)

    @requires("role.write")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, role_id):
        """Delete a role no account holds"""
        with connection() as conn:
            _editable(conn, _fetch(conn, role_id))
        # Owner rights: a store's account sees only its store's holders, and deleting the
        # role would take it from the others unseen (account_role cascades).
        with database().connection(scoped=False) as conn:
            # locked first: an assignment racing this one waits, then finds no role
            conn.execute("SELECT 1 FROM role WHERE id = %s FOR UPDATE", (role_id,))
            held = conn.execute(HOLDERS, (role_id,)).fetchone()["n"]
            if not held:
                conn.execute("DELETE FROM role WHERE id = %s", (role_id,))
        if held:
            fail(409, f"role {role_id} is held by {held} account(s): take it from them first")


@blp.route("/permissions")
class Permissions(MethodView):
    @signed_in
    @blp.response(200, CatalogueSchema)
    def get(self):
        """The permission catalogue and the operator capability flags"""
        return {
            "permissions": [
                {"name": name, "description": description, "flag": flag,
                 "platform_only": platform_only(name), "operator_wide": name in OPERATOR_WIDE}
                for name, (description, flag) in PERMISSIONS.items()
            ],
            "flags": [{"name": name, "description": text} for name, text in FLAGS.items()],
        }  # fmt: skip
