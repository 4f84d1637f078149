"""``/api/stores``: the shops of an operator's subtree, where packs are rented and swapped.

A store belongs to one operator; devices and accounts may point at a store of their own
operator only (the store's foreign keys say so). An account of a store sees that store alone
and may edit its details, but cannot make stores, move its store to another operator or
delete it: those are the operator's decisions (403).
"""

from __future__ import annotations

from typing import Any

import psycopg
from flask import url_for
from flask.views import MethodView
from psycopg.types.json import Jsonb

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE, fetch_page
from cloud.http.problems import fail
from cloud.http.schemas import Blueprint
from cloud.identity import scope
from cloud.identity.guard import note, principal, requires
from cloud.identity.principal import Principal
from cloud.tenancy.schemas.stores import (
    StoreCreateSchema,
    StoreListArgs,
    StoreSchema,
    StoreUpdateSchema,
)

blp = Blueprint("stores", __name__, url_prefix="/stores", description="Stores of operators")

# A store's account sees its own store only.
IN_SCOPE = (
    f"{scope.owned('s.operator_id')} AND (%(store)s::bigint IS NULL OR s.id = %(store)s::bigint)"
)
_SELECT = """
SELECT s.id, s.operator_id, s.name, s.manager, s.phone, s.opening_hours, s.address, s.lat,
       s.lon, s.payment_options, s.created_at, s.updated_at,
       (SELECT count(*) FROM device d WHERE d.store_id = s.id) AS device_count,
       (SELECT count(*) FROM account a WHERE a.store_id = s.id) AS account_count
FROM store s
"""
# Every filter is optional: a NULL parameter switches its condition off.
_FILTER = f"""
WHERE {IN_SCOPE}
  AND (%(operator_id)s::bigint IS NULL OR s.operator_id = %(operator_id)s)
  AND (%(q)s::text IS NULL
       OR strpos(lower(s.name), lower(%(q)s)) > 0
       OR strpos(lower(s.manager), lower(%(q)s)) > 0
       OR strpos(lower(s.address), lower(%(q)s)) > 0)
"""
LIST_STORES = _SELECT + _FILTER + "ORDER BY s.id LIMIT %(limit)s OFFSET %(offset)s"
COUNT_STORES = "SELECT count(*) AS n FROM store s" + _FILTER
GET_STORE = _SELECT + f"WHERE s.id = %(id)s AND {IN_SCOPE}"
OPERATORIN_SCOPE = f"SELECT 1 FROM operator o WHERE o.id = %(id)s AND {scope.owned('o.id')}"
INSERT_STORE = """
INSERT INTO store (operator_id, name, manager, phone, opening_hours, address, lat, lon,
                   payment_options)
VALUES (%(operator_id)s, %(name)s, %(manager)s, %(phone)s, %(opening_hours)s, %(address)s,
        %(lat)s, %(lon)s, %(payment_options)s)
RETURNING id
"""
# Absent fields keep their value; the position needs a flag because null is a value.
UPDATE_STORE = """
UPDATE store SET
    operator_id = coalesce(%(operator_id)s, operator_id),
    name = coalesce(%(name)s, name),
    manager = coalesce(%(manager)s, manager),
    phone = coalesce(%(phone)s, phone),
    opening_hours = coalesce(%(opening_hours)s, opening_hours),
    address = coalesce(%(address)s, address),
    lat = CASE WHEN %(position_given)s THEN %(lat)s ELSE lat END,
    lon = CASE WHEN %(position_given)s THEN %(lon)s ELSE lon END,
    payment_options = coalesce(%(payment_options)s, payment_options),
    updated_at = now()
WHERE id = %(id)s
RETURNING id
"""
HOLDERS = """
SELECT (SELECT count(*) FROM device WHERE store_id = %(id)s) AS devices,
       (SELECT count(*) FROM account WHERE store_id = %(id)s) AS accounts
"""
DELETE_STORE = "DELETE FROM store WHERE id = %(id)s RETURNING id"


def _fetch(conn: psycopg.Connection, store_id: int) -> dict[str, Any]:
    row = conn.execute(GET_STORE, scope.params(id=store_id)).fetchone()
    if row is None:
        fail(404, f"no store {store_id}")
    return row


def _operator_level(who: Principal, what: str) -> None:
    """403 for an account of a store: it works with its store alone."""
    if who.store_id is not None:
        fail(403, f"{who.login} is an account of store {who.store_id} and works with it"
                  f" alone: it cannot {what}")  # fmt: skip


def _require_operator(conn: psycopg.Connection, operator_id: int) -> None:
    if conn.execute(OPERATORIN_SCOPE, scope.params(id=operator_id)).fetchone() is None:
        fail(404, f"no operator {operator_id}")


def _columns(body: dict[str, Any]) -> dict[str, Any]:
    """Body fields as column parameters (None: leave the column alone)."""
    columns = {
        name: body.get(name)
        for name in ("operator_id", "name", "manager", "phone", "address", "lat", "lon")
    }
    hours = body.get("opening_hours")
    columns["opening_hours"] = None if hours is None else Jsonb(hours)
    options = body.get("payment_options")
    columns["payment_options"] = None if options is None else list(dict.fromkeys(options))
    return columns


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
        params = scope.params(operator_id=args.get("operator_id"), q=args.get("q"))
        with connection() as conn:
            return fetch_page(conn, COUNT_STORES, LIST_STORES, params, pagination_parameters)

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
        who = principal()
        _operator_level(who, "create stores")
        row = {
            "manager": "", "phone": "", "opening_hours": Jsonb({}), "address": "",
            "payment_options": [],
        }  # fmt: skip
        row |= {name: value for name, value in _columns(body).items() if value is not None}
        row.setdefault("operator_id", who.operator_id)
        row.setdefault("lat", None)
        row.setdefault("lon", None)
        with connection() as conn:
            with conn.transaction():
                _require_operator(conn, row["operator_id"])
                store_id = conn.execute(INSERT_STORE, row).fetchone()["id"]
            created = _fetch(conn, store_id)
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
            return _fetch(conn, store_id)

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
        if "operator_id" in changes:
            _operator_level(principal(), "move its store to another operator")
        params = _columns(changes) | {"id": store_id, "position_given": "lat" in changes}
        with connection() as conn:
            try:
                with conn.transaction():
                    if changes.get("operator_id") is not None:
                        _require_operator(conn, changes["operator_id"])
                    if conn.execute(UPDATE_STORE, params).fetchone() is None:
                        fail(404, f"no store {store_id}")
            except psycopg.errors.ForeignKeyViolation:
                fail(409, f"store {store_id} still has devices or accounts of its operator:"
                          " move them before moving the store")  # fmt: skip
            return _fetch(conn, store_id)

    @requires("store.write")
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, store_id):
        """Delete a store no device or account points at (else 409)"""
        _operator_level(principal(), "delete stores")
        with connection() as conn:
            try:
                with conn.transaction():
                    holders = conn.execute(HOLDERS, {"id": store_id}).fetchone()
                    held = [f"{count} {what}" for what, count in holders.items() if count]
                    if held:
                        fail(409, f"store {store_id} still has {' and '.join(held)}:"
                                  " move or delete them first")  # fmt: skip
                    if conn.execute(DELETE_STORE, {"id": store_id}).fetchone() is None:
                        fail(404, f"no store {store_id}")
            except psycopg.errors.ForeignKeyViolation:
                fail(409, f"store {store_id} was given a device or account meanwhile")
