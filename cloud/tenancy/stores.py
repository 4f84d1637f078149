"""The stores of the caller's subtree: the shops where packs are rented and swapped.

A store belongs to one operator; devices and accounts may point at a store of their own
operator only (the store's foreign keys say so). An account of a store sees that store alone
and may edit its details, but cannot make stores, move its store to another operator or
delete it: those are the operator's decisions (403).
"""

from __future__ import annotations

from typing import Any

import psycopg
from flask_smorest.pagination import PaginationParameters
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from cloud.errors import Conflict, Forbidden, not_found
from cloud.identity import scope
from cloud.identity.guard import principal
from cloud.identity.principal import Principal
from cloud.store.pages import fetch_page
from cloud.tenancy import operators

# A store of the caller's subtree; a store's account sees its own store only.
_MINE = (
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
WHERE {_MINE}
  AND (%(operator_id)s::bigint IS NULL OR s.operator_id = %(operator_id)s)
  AND (%(q)s::text IS NULL
       OR strpos(lower(s.name), lower(%(q)s)) > 0
       OR strpos(lower(s.manager), lower(%(q)s)) > 0
       OR strpos(lower(s.address), lower(%(q)s)) > 0)
"""
LIST_STORES = _SELECT + _FILTER + "ORDER BY s.id LIMIT %(limit)s OFFSET %(offset)s"
COUNT_STORES = "SELECT count(*) AS n FROM store s" + _FILTER
GET_STORE = _SELECT + f"WHERE s.id = %(id)s AND {_MINE}"
FIND_STORE = f"SELECT id, operator_id FROM store s WHERE s.id = %(id)s AND {_MINE}"
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


def find(conn: psycopg.Connection[DictRow], store_id: int) -> dict[str, Any]:
    """``{id, operator_id}`` of a store the caller sees; a 404 for any other id."""
    row = conn.execute(FIND_STORE, scope.params(id=store_id)).fetchone()
    if row is None:
        not_found("store", store_id)
    return row


def page(
    conn: psycopg.Connection[DictRow],
    operator_id: int | None,
    q: str | None,
    pagination: PaginationParameters,
) -> list[dict[str, Any]]:
    """A page of the caller's stores, by id; ``operator_id`` and ``q`` (a substring of the
    name, manager or address) filter them."""
    params = scope.params(operator_id=operator_id, q=q)
    return fetch_page(conn, COUNT_STORES, LIST_STORES, params, pagination)


def get(conn: psycopg.Connection[DictRow], store_id: int) -> dict[str, Any]:
    """A store the caller sees, with its counts; a 404 for any other id."""
    row = conn.execute(GET_STORE, scope.params(id=store_id)).fetchone()
    if row is None:
        not_found("store", store_id)
    return row


def create(conn: psycopg.Connection[DictRow], body: dict[str, Any]) -> int:
    """Make a store of ``operator_id`` (default: the caller's operator); its id."""
    who = principal()
    _operator_level(who, "create stores")
    row: dict[str, Any] = {
        "manager": "", "phone": "", "opening_hours": Jsonb({}), "address": "",
        "payment_options": [],
    }  # fmt: skip
    row |= {name: value for name, value in _columns(body).items() if value is not None}
    row.setdefault("operator_id", who.operator_id)
    row.setdefault("lat", None)
    row.setdefault("lon", None)
    with conn.transaction():
        operators.path(conn, row["operator_id"])
        inserted = conn.execute(INSERT_STORE, row).fetchone()
        assert inserted is not None  # an INSERT's RETURNING
        return inserted["id"]


def change(conn: psycopg.Connection[DictRow], store_id: int, changes: dict[str, Any]) -> None:
    """Change a store's details; a new ``operator_id`` moves it, only while nothing points
    at it (409) and not by an account of a store (403)."""
    if "operator_id" in changes:
        _operator_level(principal(), "move its store to another operator")
    params = _columns(changes) | {"id": store_id, "position_given": "lat" in changes}
    try:
        with conn.transaction():
            if changes.get("operator_id") is not None:
                operators.path(conn, changes["operator_id"])
            if conn.execute(UPDATE_STORE, params).fetchone() is None:
                not_found("store", store_id)
    except psycopg.errors.ForeignKeyViolation:
        raise Conflict(f"store {store_id} still has devices or accounts of its operator:"
                  " move them before moving the store") from None  # fmt: skip


def delete(conn: psycopg.Connection[DictRow], store_id: int) -> None:
    """Delete a store no device or account points at (else 409); not by an account of a
    store (403)."""
    _operator_level(principal(), "delete stores")
    try:
        with conn.transaction():
            holders = conn.execute(HOLDERS, {"id": store_id}).fetchone()
            assert holders is not None  # counts
            held = [f"{count} {what}" for what, count in holders.items() if count]
            if held:
                raise Conflict(f"store {store_id} still has {' and '.join(held)}:"
                          " move or delete them first")  # fmt: skip
            if conn.execute(DELETE_STORE, {"id": store_id}).fetchone() is None:
                not_found("store", store_id)
    except psycopg.errors.ForeignKeyViolation:
        raise Conflict(f"store {store_id} was given a device or account meanwhile") from None


def _operator_level(who: Principal, what: str) -> None:
    """403 for an account of a store: it works with its store alone."""
    if who.store_id is not None:
        raise Forbidden(f"{who.login} is an account of store {who.store_id} and works with it"
                  f" alone: it cannot {what}")  # fmt: skip


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
