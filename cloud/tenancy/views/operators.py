"""``/api/operators``: the caller's subtree of operators, and making, editing and removing
sub-operators. The rules on flags and sign-in policy are ``cloud.tenancy.operators``'."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE
from cloud.http.schemas import Blueprint
from cloud.identity.guard import note, requires
from cloud.tenancy import operators
from cloud.tenancy.schemas.operators import (
    OperatorCreateSchema,
    OperatorListArgs,
    OperatorSchema,
    OperatorUpdateSchema,
)

blp = Blueprint(
    "operators", __name__, url_prefix="/operators",
    description="The tree of operators: sub-operators, their capability flags and sign-in policy",
)  # fmt: skip


@blp.route("")
class Operators(MethodView):
    @requires("operator.read")
    @blp.arguments(OperatorListArgs, location="query")
    @blp.response(200, OperatorSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List the caller's operator and everything under it, depth first

        `parent_id` keeps only that operator's children. Pages of `page_size` (default 50,
        at most 500); the `X-Pagination` header gives the total.
        """
        with connection() as conn:
            return operators.page(conn, args.get("parent_id"), pagination_parameters)

    @requires("operator.write")
    @blp.arguments(OperatorCreateSchema)
    @blp.response(201, OperatorSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body):
        """Create a sub-operator

        `parent_id` (default: the caller's operator) must be in the caller's subtree.
        `flags` (default none) must all be flags of the parent. `mfa_required` defaults to
        the parent's, and cannot be false under a parent that requires a second factor.
        """
        with connection() as conn:
            operator_id = operators.create(conn, body)
            created = operators.get(conn, operator_id)
        note(new_operator_id=operator_id)
        location = url_for("operators.Operator", operator_id=operator_id)
        return created, 201, {"Location": location}


@blp.route("/<int:operator_id>")
class Operator(MethodView):
    @requires("operator.read")
    @blp.response(200, OperatorSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, operator_id):
        """Get an operator of the caller's subtree"""
        with connection() as conn:
            return operators.get(conn, operator_id)

    @requires("operator.write")
    @blp.arguments(OperatorUpdateSchema)
    @blp.response(200, OperatorSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, changes, operator_id):
        """Change an operator's name, flags or sign-in policy

        `flags` replaces the list; each must be a flag of the parent. A flag taken away is
        taken from every operator below too, and with it every permission that needs it.
        The flags of the caller's own operator are set by the operator above it (403).
        `mfa_required: true` turns the second factor on for every operator below too; it
        cannot be turned off under a parent that requires it (422), nor by the operator's
        own accounts (403).
        """
        with connection() as conn:
            operators.change(conn, operator_id, changes)
            return operators.get(conn, operator_id)

    @requires("operator.write")
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, operator_id):
        """Delete an operator that holds nothing any more

        Refused (409, saying what is left) while it has sub-operators, devices, stores,
        accounts, geofences, webhooks or command batches. Its roles go with it. Nobody
        deletes their own operator (403).
        """
        with connection() as conn:
            operators.delete(conn, operator_id)
