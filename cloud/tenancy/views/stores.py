"""``/api/stores``: the shops of an operator's subtree (``cloud.tenancy.stores``)."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE
from cloud.http.schemas import Blueprint
from cloud.identity.guard import note, requires
from cloud.tenancy import stores
from cloud.tenancy.schemas.stores import (
    StoreCreateSchema,
    StoreListArgs,
    StoreSchema,
    StoreUpdateSchema,
)

blp = Blueprint("stores", __name__, url_prefix="/stores", description="Stores of operators")


@blp.route("")
class Stores(MethodView):
    @requires("store.read")
    @blp.arguments(StoreListArgs, location="query")
    @blp.response(200, StoreSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List the stores of the caller's subtree, ordered by id

        Filter by `operator_id`, or `q` (a substring of the name, manager or address).
        Pages of `page_size` (default 50, at most 500); the `X-Pagination` header gives the
        total.
        """
        with connection() as conn:
            return stores.page(conn, args.get("operator_id"), args.get("q"), pagination_parameters)

    @requires("store.write")
    @blp.arguments(StoreCreateSchema)
    @blp.response(201, StoreSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body):
        """Create a store

        It belongs to `operator_id` (default: the caller's operator), which must be in the
        caller's subtree. An account of a store cannot create stores (403).
        """
        with connection() as conn:
            store_id = stores.create(conn, body)
            created = stores.get(conn, store_id)
        note(new_store_id=store_id)
        return created, 201, {"Location": url_for("stores.Store", store_id=store_id)}


@blp.route("/<int:store_id>")
class Store(MethodView):
    @requires("store.read")
    @blp.response(200, StoreSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, store_id):
        """Get a store"""
        with connection() as conn:
            return stores.get(conn, store_id)

    @requires("store.write")
    @blp.arguments(StoreUpdateSchema)
    @blp.response(200, StoreSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, changes, store_id):
        """Change a store

        `opening_hours` and `payment_options` replace the whole value; `lat` and `lon` go
        together (both null: no position). A new `operator_id` (in the caller's subtree)
        moves the store to that operator, only while no device or account points at it (not
        by an account of a store: 403).
        """
        with connection() as conn:
            stores.change(conn, store_id, changes)
            return stores.get(conn, store_id)

    @requires("store.write")
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, store_id):
        """Delete a store no device or account points at (else 409)"""
        with connection() as conn:
            stores.delete(conn, store_id)
