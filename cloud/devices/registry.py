"""The registry of devices: list, register, read, change and remove the caller's devices, and
``require``, the one lookup of "a device of the caller's, or 404" that every context uses.

Only the caller's devices are seen (``cloud.identity.scope``); another operator's device is
answered like a missing one. A unique key that refuses a registration or a change is a 409
that names the caller's own device or serial holder, never another operator's.
"""

from __future__ import annotations

from typing import Any, NoReturn

import psycopg
from flask_smorest.pagination import PaginationParameters
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from cloud.errors import Conflict, not_found
from cloud.identity import scope
from cloud.store.pages import fetch_page

_MINE = f"d.id = %(id)s AND {scope.device('d')}"
EXISTS = f"SELECT 1 FROM device d WHERE {_MINE}"
# A device locked until the transaction ends: what is written for it (a lease term) waits
# for a transfer of it, or makes the transfer wait.
LOCK = EXISTS + " FOR NO KEY UPDATE"

_SELECT = """
SELECT d.id, d.serial, d.kind, d.model, d.name, d.attributes, d.operator_id, d.store_id,
       d.created_at, d.updated_at,
       coalesce(s.online, false) AS online, s.last_seen_at, s.soc_percent, s.lat, s.lon
FROM device d LEFT JOIN device_state s ON s.device_id = d.id
"""
# Every filter is optional: a NULL parameter switches its condition off.
_FILTER = f"""
WHERE {scope.device("d")}
  AND (%(operator_id)s::bigint IS NULL OR {scope.under("d.operator_id", "%(operator_id)s")})
  AND (%(store_id)s::bigint IS NULL OR d.store_id = %(store_id)s)
  AND (%(kind)s::text IS NULL OR d.kind = %(kind)s)
  AND (%(model)s::text IS NULL OR d.model = %(model)s)
  AND (%(online)s::boolean IS NULL OR coalesce(s.online, false) = %(online)s)
  AND (%(q)s::text IS NULL
       OR strpos(lower(d.id), lower(%(q)s)) > 0
       OR strpos(lower(d.name), lower(%(q)s)) > 0
       OR strpos(lower(coalesce(d.serial, '')), lower(%(q)s)) > 0)
"""
FILTERS = ("operator_id", "store_id", "kind", "model", "online", "q")
# COLLATE "C": the same order on every server, whatever its locale. The page is chosen
# first and only its devices' state joined after: joined before the LIMIT, all of the
# caller's devices went through device_state's row policy before the sort (82 -> 13 ms for a
# platform page of 20,000 devices; BENCHMARKS.md, section 9). The inner join stays for the
# `online` filter; without it the planner drops that join.
LIST_DEVICES = f"""
SELECT d.id, d.serial, d.kind, d.model, d.name, d.attributes, d.operator_id, d.store_id,
       d.created_at, d.updated_at,
       coalesce(s.online, false) AS online, s.last_seen_at, s.soc_percent, s.lat, s.lon
FROM (SELECT d.* FROM device d LEFT JOIN device_state s ON s.device_id = d.id
      {_FILTER}
      ORDER BY d.id COLLATE "C" LIMIT %(limit)s OFFSET %(offset)s) d
LEFT JOIN device_state s ON s.device_id = d.id
ORDER BY d.id COLLATE "C"
"""
COUNT_DEVICES = (
    "SELECT count(*) AS n FROM device d LEFT JOIN device_state s ON s.device_id = d.id" + _FILTER
)
GET_DEVICE = _SELECT + f"WHERE {_MINE}"
INSERT_DEVICE = """
INSERT INTO device (id, serial, kind, model, name, attributes, operator_id, store_id)
VALUES (%(id)s, %(serial)s, %(kind)s, %(model)s, %(name)s, %(attributes)s, %(operator_id)s,
        %(store_id)s)
"""
# Absent fields keep their value; serial needs a flag because null is a value it can take.
UPDATE_DEVICE = f"""
UPDATE device SET
    serial = CASE WHEN %(serial_given)s THEN %(serial)s ELSE serial END,
    kind = coalesce(%(kind)s, kind),
    model = coalesce(%(model)s, model),
    name = coalesce(%(name)s, name),
    attributes = coalesce(%(attributes)s, attributes),
    updated_at = now()
WHERE id = %(id)s AND {scope.device("device")}
RETURNING id
"""
DELETE_DEVICE = f"DELETE FROM device d WHERE {_MINE} RETURNING id"
GET_STATE = f"SELECT * FROM device_state WHERE device_id = %(id)s AND {scope.device_id()}"
# Only a device the caller can see is named: another operator's serial is just "used".
SERIAL_OWNER = f"SELECT d.id FROM device d WHERE d.serial = %(serial)s AND {scope.device('d')}"
# The unique keys an id collides with: a device, or the tombstone of a deleted one that the
# caller may not take back (migration 0013).
ID_KEYS = frozenset({"device_pkey", "device_tombstone_pkey"})

_STATE_COLUMNS = ("online", "last_seen_at", "soc_percent", "lat", "lon")


def visible(conn: psycopg.Connection[DictRow], device_id: str) -> bool:
    """Whether ``device_id`` is one of the caller's devices."""
    return conn.execute(EXISTS, scope.params(id=device_id)).fetchone() is not None


def require(conn: psycopg.Connection[DictRow], device_id: str, *, lock: bool = False) -> None:
    """404 unless ``device_id`` is one of the caller's devices (``lock``: and lock it until
    the transaction ends)."""
    scope.one(conn, LOCK if lock else EXISTS, "device", device_id)


def unavailable(device_id: str) -> str:
    """Why an id that is another operator's, now or before its deletion, cannot be
    registered: the same words for both, naming nobody."""
    return (
        f"device id {device_id!r} is not available: choose another (the id of a deleted"
        " device stays reserved for the operator that held it)"
    )


def conflict(
    conn: psycopg.Connection[DictRow], err: psycopg.errors.UniqueViolation, device: dict[str, Any]
) -> tuple[str, str]:
    """(field, reason) of a registration or change a unique key refused: the caller's own
    device or serial holder is named; another operator's, or a tombstone, is not."""
    if err.diag.constraint_name in ID_KEYS:
        if visible(conn, device["id"]):
            return "id", f"device {device['id']!r} already exists"
        return "id", unavailable(device["id"])
    owner = conn.execute(SERIAL_OWNER, scope.params(serial=device.get("serial"))).fetchone()
    holder = f" by device {owner['id']!r}" if owner else ""
    return "serial", f"serial {device.get('serial')!r} is already used{holder}"


def _refuse(
    conn: psycopg.Connection[DictRow], err: psycopg.errors.UniqueViolation, device: dict[str, Any]
) -> NoReturn:
    """409 naming what is taken: the id, or the serial (by whom, only if the caller's)."""
    field, reason = conflict(conn, err, device)
    raise Conflict(reason, errors=[{"field": field, "in": "body", "reason": reason}])


def _device(row: dict[str, Any]) -> dict[str, Any]:
    device = {k: v for k, v in row.items() if k not in _STATE_COLUMNS}
    device["state"] = {k: row[k] for k in _STATE_COLUMNS}
    return device


def page(
    conn: psycopg.Connection[DictRow], filters: dict[str, Any], pagination: PaginationParameters
) -> list[dict[str, Any]]:
    """One page of the caller's devices that pass ``filters`` (FILTERS; absent: off)."""
    params = scope.params(**{key: filters.get(key) for key in FILTERS})
    rows = fetch_page(conn, COUNT_DEVICES, LIST_DEVICES, params, pagination)
    return [_device(row) for row in rows]


def get(conn: psycopg.Connection[DictRow], device_id: str) -> dict[str, Any]:
    """The caller's device with its latest state in brief; 404 if it has none of that id."""
    return _device(scope.one(conn, GET_DEVICE, "device", device_id))


def register(
    conn: psycopg.Connection[DictRow],
    device: dict[str, Any],
    operator_id: int,
    store_id: int | None,
) -> dict[str, Any]:
    """Register ``device`` to ``operator_id`` / ``store_id`` (owners.owner checked them);
    the new device, or a 409 naming what is taken."""
    params = {
        **device,
        "serial": device.get("serial"),
        "attributes": Jsonb(device["attributes"]),
        "operator_id": operator_id,
        "store_id": store_id,
    }
    try:
        with conn.transaction():
            conn.execute(INSERT_DEVICE, params)
    except psycopg.errors.UniqueViolation as err:
        _refuse(conn, err, device)
    return get(conn, device["id"])


def change(
    conn: psycopg.Connection[DictRow], device_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Apply ``changes`` (serial, kind, model, name, attributes; absent ones stay) to the
    caller's device; the device after them."""
    if changes:
        params = scope.params(
            id=device_id,
            serial_given="serial" in changes,
            serial=changes.get("serial"),
            kind=changes.get("kind"),
            model=changes.get("model"),
            name=changes.get("name"),
            attributes=Jsonb(changes["attributes"]) if "attributes" in changes else None,
        )
        try:
            with conn.transaction():
                updated = conn.execute(UPDATE_DEVICE, params).fetchone()
        except psycopg.errors.UniqueViolation as err:
            _refuse(conn, err, {"id": device_id, **changes})
        if updated is None:
            not_found("device", device_id)
    return get(conn, device_id)


def remove(conn: psycopg.Connection[DictRow], device_id: str) -> None:
    """Delete the caller's device (its history stays; its id stays reserved)."""
    if conn.execute(DELETE_DEVICE, scope.params(id=device_id)).fetchone() is None:
        not_found("device", device_id)


def state(conn: psycopg.Connection[DictRow], device_id: str) -> dict[str, Any]:
    """The latest state the caller's device reported."""
    return scope.one(conn, GET_STATE, "device", device_id)
