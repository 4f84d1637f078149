"""Keep-in and keep-out fences of the caller's subtree, and the devices each one applies to.

A fence belongs to an operator and watches only devices of that operator's subtree; a caller
sees and edits the fences of its own subtree. An account of a store sees the fences assigned
to its store's devices and changes none (``geofence.write`` is operator-wide: a fence's
action reaches every device it is assigned to). A fence is a GeoJSON (Multi)Polygon or a
circle in metres. Every shape is checked by the geofence core the rules worker uses
(``cloud.rules.geofence``), margin included, so a fence the API accepts is one the worker
can build; its refusal comes back as a 422 in its words.
"""

from __future__ import annotations

from typing import Any

import psycopg
from flask_smorest.pagination import PaginationParameters
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from cloud.errors import Conflict, Invalid, NotFound, not_found
from cloud.identity import scope
from cloud.identity.guard import principal
from cloud.rules.geofence import Fence, FenceError, circle, from_geojson
from cloud.store.pages import fetch_page

_SHAPE_COLUMNS = ("geometry", "circle_lat", "circle_lon", "circle_radius_m")
_SELECT = f"""
SELECT g.*, (SELECT count(*) FROM geofence_assignment a
             WHERE a.geofence_id = g.id AND {scope.device_id("a.device_id")}) AS device_count
FROM geofence g
"""
# Every filter is optional: a NULL parameter switches its condition off.
_FILTER = f"""
WHERE {scope.geofence("g")}
  AND (%(kind)s::text IS NULL OR g.kind = %(kind)s)
  AND (%(device_id)s::text IS NULL OR EXISTS (
       SELECT 1 FROM geofence_assignment a
       WHERE a.geofence_id = g.id AND a.device_id = %(device_id)s
         AND {scope.device_id("a.device_id")}))
"""
LIST_GEOFENCES = _SELECT + _FILTER + "ORDER BY g.id LIMIT %(limit)s OFFSET %(offset)s"
COUNT_GEOFENCES = "SELECT count(*) AS n FROM geofence g" + _FILTER
_MINE = f"g.id = %(id)s AND {scope.geofence('g')}"
GET_GEOFENCE = _SELECT + "WHERE " + _MINE
# FOR UPDATE: an edit checks the merged fence, so no other edit may slip in between.
LOCK_GEOFENCE = f"SELECT * FROM geofence g WHERE {_MINE} FOR UPDATE"
# FOR KEY SHARE: the fence cannot be deleted while devices are being assigned to it.
HOLD_GEOFENCE = f"SELECT operator_id FROM geofence g WHERE {_MINE} FOR KEY SHARE"
# Nothing is inserted unless the operator is in the caller's subtree.
INSERT_GEOFENCE = f"""
INSERT INTO geofence (operator_id, name, kind, geometry, circle_lat, circle_lon,
                      circle_radius_m, margin_m, dwell_s, action)
SELECT %(operator_id)s, %(name)s, %(kind)s, %(geometry)s, %(circle_lat)s, %(circle_lon)s,
       %(circle_radius_m)s, %(margin_m)s, %(dwell_s)s, %(action)s
WHERE {scope.owned("%(operator_id)s::bigint")}
RETURNING id
"""
UPDATE_GEOFENCE = f"""
UPDATE geofence g SET
    name = %(name)s, kind = %(kind)s, geometry = %(geometry)s, circle_lat = %(circle_lat)s,
    circle_lon = %(circle_lon)s, circle_radius_m = %(circle_radius_m)s,
    margin_m = %(margin_m)s, dwell_s = %(dwell_s)s, action = %(action)s,
    updated_at = now(), version = version + 1
WHERE {_MINE}
"""
DELETE_GEOFENCE = f"DELETE FROM geofence g WHERE {_MINE} RETURNING id"
# A fence watches only devices of its own operator's subtree: a sub-operator's fence never
# reaches its parent's devices, even when the caller could see both.
_FENCE_REACH = "d.operator_id IN (SELECT id FROM operator WHERE path @> ARRAY[%(owner)s::bigint])"
KNOWN_DEVICES = f"""
SELECT d.id, {_FENCE_REACH} AS in_reach FROM device d
WHERE d.id = ANY(%(device_ids)s) AND {scope.device("d")}
"""
FILTERED_DEVICES = f"""
SELECT d.id FROM device d
WHERE {scope.device("d")} AND {_FENCE_REACH}
  AND (%(kind)s::text IS NULL OR d.kind = %(kind)s)
  AND (%(model)s::text IS NULL OR d.model = %(model)s)
ORDER BY d.id COLLATE "C"
"""
ASSIGN = """
INSERT INTO geofence_assignment (geofence_id, device_id)
SELECT %(id)s, unnest(%(device_ids)s::text[])
ON CONFLICT DO NOTHING
RETURNING device_id
"""
COUNT_ASSIGNED = f"""
SELECT count(*) AS n FROM geofence_assignment
WHERE geofence_id = %(id)s AND {scope.device_id("device_id")}
"""
UNASSIGN = f"""
DELETE FROM geofence_assignment
WHERE geofence_id = %(id)s AND device_id = %(device_id)s
  AND geofence_id IN (SELECT g.id FROM geofence g WHERE {_MINE})
  AND {scope.device_id("device_id")}
RETURNING device_id
"""
DEVICE_GEOFENCES = (
    _SELECT
    + f"""
WHERE {scope.geofence("g")}
  AND g.id IN (SELECT geofence_id FROM geofence_assignment WHERE device_id = %(device_id)s)
ORDER BY g.id
"""
)


def page(
    conn: psycopg.Connection[DictRow],
    kind: str | None,
    device_id: str | None,
    pagination: PaginationParameters,
) -> list[dict[str, Any]]:
    """A page of the fences the caller sees, by id; ``kind`` and ``device_id`` (the fences
    assigned to it) filter them."""
    params = scope.params(kind=kind, device_id=device_id)
    rows = fetch_page(conn, COUNT_GEOFENCES, LIST_GEOFENCES, params, pagination)
    return [_geofence(row) for row in rows]


def get(conn: psycopg.Connection[DictRow], geofence_id: int) -> dict[str, Any]:
    """A fence the caller sees, as the API shows it; a 404 for any other id."""
    row = conn.execute(GET_GEOFENCE, scope.params(id=geofence_id)).fetchone()
    if row is None:
        not_found("geofence", geofence_id)
    return _geofence(row)


def create(conn: psycopg.Connection[DictRow], body: dict[str, Any]) -> int:
    """Make a fence of the caller's operator or of ``operator_id`` (404 unless it is in the
    caller's subtree), after the geofence core has built it; its id."""
    fence = {key: body[key] for key in ("name", "kind", "margin_m", "dwell_s", "action")}
    fence |= _shape_columns(body)
    _checked(fence, set(body))
    owner = body.get("operator_id") or principal().operator_id
    row = conn.execute(INSERT_GEOFENCE, _params({**fence, "operator_id": owner})).fetchone()
    if row is None:
        not_found("operator", owner)
    return row["id"]


def change(conn: psycopg.Connection[DictRow], geofence_id: int, changes: dict[str, Any]) -> None:
    """Change a fence, refused (409) if ``version`` is given and not the stored one; the
    merged fence must build (422)."""
    expected = changes.pop("version", None)
    with conn.transaction():
        current = conn.execute(LOCK_GEOFENCE, scope.params(id=geofence_id)).fetchone()
        if current is None:
            not_found("geofence", geofence_id)
        if expected is not None and expected != current["version"]:
            raise Conflict(f"geofence {geofence_id} is at version {current['version']},"
                      f" not {expected}: read it again")  # fmt: skip
        if changes:
            fence = {**current, **{k: v for k, v in changes.items() if k != "circle"}}
            if "geometry" in changes or "circle" in changes:
                fence |= _shape_columns(changes)
            _checked(fence, set(changes))
            conn.execute(UPDATE_GEOFENCE, _params(fence))


def delete(conn: psycopg.Connection[DictRow], geofence_id: int) -> None:
    """Delete a fence and its assignments; a 404 if the caller has no such fence."""
    if conn.execute(DELETE_GEOFENCE, scope.params(id=geofence_id)).fetchone() is None:
        not_found("geofence", geofence_id)


def assign(
    conn: psycopg.Connection[DictRow], geofence_id: int, body: dict[str, Any]
) -> dict[str, int]:
    """Assign a fence to the devices ``device_ids`` names or ``filter`` selects; how many
    matched, were assigned now or already, and the fence's device count now."""
    try:
        with conn.transaction():
            held = conn.execute(HOLD_GEOFENCE, scope.params(id=geofence_id)).fetchone()
            if held is None:
                not_found("geofence", geofence_id)
            device_ids = _selected(conn, body, held["operator_id"])
            params = scope.params(id=geofence_id, device_ids=device_ids)
            added = conn.execute(ASSIGN, params).fetchall()
            counted = conn.execute(COUNT_ASSIGNED, params).fetchone()
            assert counted is not None  # count(*)
            total = counted["n"]
    except psycopg.errors.ForeignKeyViolation:
        raise Conflict("a device was deleted while it was being assigned; assign again") from None
    return {
        "matched": len(device_ids),
        "assigned": len(added),
        "already_assigned": len(device_ids) - len(added),
        "device_count": total,
    }


def unassign(conn: psycopg.Connection[DictRow], geofence_id: int, device_id: str) -> None:
    """Take a device off a fence; a 404 unless the caller sees both and they are paired."""
    params = scope.params(id=geofence_id, device_id=device_id)
    if conn.execute(UNASSIGN, params).fetchone() is None:
        raise NotFound(f"device {device_id!r} is not assigned to geofence {geofence_id}")


def of_device(conn: psycopg.Connection[DictRow], device_id: str) -> list[dict[str, Any]]:
    """The fences assigned to a device that the caller sees, by id (the guard has answered
    404 for another's device)."""
    params = scope.params(device_id=device_id)
    return [_geofence(row) for row in conn.execute(DEVICE_GEOFENCES, params)]


def _geofence(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the API shows it: the circle's three columns as one object."""
    fence = {k: v for k, v in row.items() if not k.startswith("circle_")}
    fence["circle"] = (
        None
        if row["circle_lat"] is None
        else {
            "lat": row["circle_lat"],
            "lon": row["circle_lon"],
            "radius_m": row["circle_radius_m"],
        }
    )
    return fence


def _shape_columns(body: dict[str, Any]) -> dict[str, Any]:
    """The four shape columns for a body's ``geometry`` or ``circle`` (exactly one given)."""
    if "geometry" in body:
        return dict.fromkeys(_SHAPE_COLUMNS) | {"geometry": body["geometry"]}
    given = body["circle"]
    return {"geometry": None, "circle_lat": given["lat"], "circle_lon": given["lon"],
            "circle_radius_m": given["radius_m"]}  # fmt: skip


def _unusable(field: str, err: FenceError) -> None:
    raise Invalid(f"{field}: {err}", errors=[{"field": field, "in": "body", "reason": str(err)}])


def _checked(fence: dict[str, Any], changed: set[str]) -> None:
    """A 422 unless the geofence core can build this fence, naming the field at fault."""
    shape_field = "geometry" if fence["geometry"] is not None else "circle"
    try:
        if fence["geometry"] is not None:
            shape = from_geojson(fence["geometry"])
        else:
            shape = circle(
                lat=fence["circle_lat"], lon=fence["circle_lon"], radius_m=fence["circle_radius_m"]
            )
    except FenceError as err:
        _unusable(shape_field, err)
    try:
        Fence.build(fence["name"], shape, fence["kind"], fence["margin_m"])
    except FenceError as err:
        # the margin and the shape are refused together; blame the one this request changed
        _unusable("margin_m" if "margin_m" in changed or shape_field not in changed
                  else shape_field, err)  # fmt: skip


def _params(fence: dict[str, Any]) -> dict[str, Any]:
    params = scope.params(**fence)
    for column in ("geometry", "action"):
        params[column] = None if fence[column] is None else Jsonb(fence[column])
    return params


def _listed(device_ids: list[str]) -> str:
    shown = ", ".join(map(repr, device_ids[:10]))
    return shown + (f" and {len(device_ids) - 10} more" if len(device_ids) > 10 else "")


def _selected(conn: psycopg.Connection[DictRow], body: dict[str, Any], owner: int) -> list[str]:
    """The device ids a body names or selects for a fence of operator ``owner``: a 422 for
    ids the caller has no device of (unknown ones and other operators' alike), for devices
    out of the fence's reach, and for a filter matching nothing."""
    if "device_ids" in body:
        device_ids = list(dict.fromkeys(body["device_ids"]))
        params = scope.params(device_ids=device_ids, owner=owner)
        reach = {row["id"]: row["in_reach"] for row in conn.execute(KNOWN_DEVICES, params)}
        unknown = [d for d in device_ids if d not in reach]
        if unknown:
            reason = f"not registered: {_listed(unknown)}"
            raise Invalid(f"unknown devices: {_listed(unknown)}", errors=[
                {"field": "device_ids", "in": "body", "reason": reason}
            ])  # fmt: skip
        beyond = [d for d in device_ids if not reach[d]]
        if beyond:
            reason = f"not devices of operator {owner} or its sub-operators: {_listed(beyond)}"
            raise Invalid(f"device_ids: {reason}", errors=[
                {"field": "device_ids", "in": "body", "reason": reason}
            ])  # fmt: skip
        return device_ids
    wanted = {key: body["filter"].get(key) for key in ("kind", "model")}
    params = scope.params(owner=owner, **wanted)
    device_ids = [row["id"] for row in conn.execute(FILTERED_DEVICES, params)]
    if not device_ids:
        raise Invalid(f"no device matches the filter {body['filter']}")
    return device_ids
