"""``/api/roles`` and ``/api/permissions``: the roles of the caller's subtree
(``cloud.identity.roles``) and the catalogue they are made from. Roles are the operator's:
an account of a store reads them and gives them to its store's accounts, but makes and
changes none (``role.write`` is operator-wide)."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from cloud.http.db import connection, database
from cloud.http.paging import PAGE_SIZE
from cloud.http.schemas import Blueprint
from cloud.identity import roles
from cloud.identity.guard import requires, signed_in
from cloud.identity.permissions import listed
from cloud.identity.schemas.accounts import (
    CatalogueSchema,
    RoleCreateSchema,
    RoleListArgs,
    RoleSchema,
    RoleUpdateSchema,
)

blp = Blueprint("roles", __name__, description="Roles and permissions")


@blp.route("/roles")
class Roles(MethodView):
    @requires("role.read")
    @blp.arguments(RoleListArgs, location="query")
    @blp.response(200, RoleSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List the roles of the caller's operator and its sub-operators"""
        with connection() as conn:
            return roles.page(conn, args.get("operator_id"), pagination_parameters)

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
            created = roles.create(conn, body)
        return created, 201, {"Location": url_for("roles.Role", role_id=created["id"])}


@blp.route("/roles/<int:role_id>")
class Role(MethodView):
    @requires("role.read")
    @blp.response(200, RoleSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, role_id):
        """Get a role"""
        with connection() as conn:
            return roles.get(conn, role_id)

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
            return roles.change(conn, role_id, changes)

    @requires("role.write")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, role_id):
        """Delete a role no account holds"""
        roles.delete(database(), role_id)


@blp.route("/permissions")
class Permissions(MethodView):
    @signed_in
    @blp.response(200, CatalogueSchema)
    def get(self):
        """The permission catalogue and the operator capability flags"""
        return listed()
