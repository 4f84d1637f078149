"""``/api/geofences``: keep-in and keep-out fences, and the devices each one applies to.

A fence is a GeoJSON (Multi)Polygon or a circle in metres. Every shape is checked by the
geofence core the rules worker uses (``cloud.rules.geofence``), margin included, so a fence
the API accepts is one the worker can build; its refusal comes back as a 422 in its words.
"""

from __future__ import annotations

from typing import Any

import psycopg
from flask import url_for
from flask.views import MethodView
from psycopg.types.json import Jsonb

from cloud.api.db import connection
from cloud.api.geofence_schemas import (
    AssignResultSchema,
    AssignSchema,
    GeofenceCreateSchema,
    GeofenceListArgs,
    GeofenceSchema,
    GeofenceUpdateSchema,
)
from cloud.api.paging import PAGE_SIZE, fetch_page
from cloud.api.problems import fail
from cloud.api.schemas import Blueprint
from cloud.rules.geofence import Fence, FenceError, circle, from_geojson

blp = Blueprint("geofences", __name__, url_prefix="/api", description="Keep-in and keep-out fences")

_SELECT = """
SELECT g.*, (SELECT count(*) FROM geofence_assignment a WHERE a.geofence_id = g.id)
       AS device_count
FROM geofence g
"""
# Every filter is optional: a NULL parameter switches its condition off.
_FILTER = """
WHERE (%(kind)s::text IS NULL OR g.kind = %(kind)s)
  AND (%(device_id)s::text IS NULL OR EXISTS (
       SELECT 1 FROM geofence_assignment a
       WHERE a.geofence_id = g.id AND a.device_id = %(device_id)s))
"""
LIST_GEOFENCES = _SELECT + _FILTER + "ORDER BY g.id LIMIT %(limit)s OFFSET %(offset)s"
COUNT_GEOFENCES = "SELECT count(*) AS n FROM geofence g" + _FILTER
GET_GEOFENCE = _SELECT + "WHERE g.id = %s"
# FOR UPDATE: an edit checks the merged fence, so no other edit may slip in between.
LOCK_GEOFENCE = "SELECT * FROM geofence WHERE id = %s FOR UPDATE"
# FOR KEY SHARE: the fence cannot be deleted while devices are being assigned to it.
HOLD_GEOFENCE = "SELECT 1 FROM geofence WHERE id = %s FOR KEY SHARE"
INSERT_GEOFENCE = """
INSERT INTO geofence (name, kind, geometry, circle_lat, circle_lon, circle_radius_m,
                      margin_m, dwell_s, action)
VALUES (%(name)s, %(kind)s, %(geometry)s, %(circle_lat)s, %(circle_lon)s,
        %(circle_radius_m)s, %(margin_m)s, %(dwell_s)s, %(action)s)
RETURNING id
"""
UPDATE_GEOFENCE = """
UPDATE geofence SET
    name = %(name)s, kind = %(kind)s, geometry = %(geometry)s, circle_lat = %(circle_lat)s,
    circle_lon = %(circle_lon)s, circle_radius_m = %(circle_radius_m)s,
    margin_m = %(margin_m)s, dwell_s = %(dwell_s)s, action = %(action)s,
    updated_at = now(), version = version + 1
WHERE id = %(id)s
"""
DELETE_GEOFENCE = "DELETE FROM geofence WHERE id = %s RETURNING id"
DEVICE_EXISTS = "SELECT 1 FROM device WHERE id = %s"
KNOWN_DEVICES = "SELECT id FROM device WHERE id = ANY(%s)"
FILTERED_DEVICES = """
SELECT id FROM device
WHERE (%(kind)s::text IS NULL OR kind = %(kind)s)
  AND (%(model)s::text IS NULL OR model = %(model)s)
ORDER BY id COLLATE "C"
"""
ASSIGN = """
INSERT INTO geofence_assignment (geofence_id, device_id)
SELECT %s, unnest(%s::text[])
ON CONFLICT DO NOTHING
RETURNING device_id
"""
COUNT_ASSIGNED = "SELECT count(*) AS n FROM geofence_assignment WHERE geofence_id = %s"
UNASSIGN = """
DELETE FROM geofence_assignment WHERE geofence_id = %s AND device_id = %s RETURNING device_id
"""
DEVICE_GEOFENCES = (
    _SELECT
    + """
WHERE g.id IN (SELECT geofence_id FROM geofence_assignment WHERE device_id = %s)
ORDER BY g.id
"""
)

_SHAPE_COLUMNS = ("geometry", "circle_lat", "circle_lon", "circle_radius_m")


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
    fail(422, f"{field}: {err}", errors=[{"field": field, "in": "body", "reason": str(err)}])


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
    params = {**fence}
    for column in ("geometry", "action"):
        params[column] = None if fence[column] is None else Jsonb(fence[column])
    return params


def _fetch(conn: psycopg.Connection, geofence_id: int) -> dict[str, Any]:
    row = conn.execute(GET_GEOFENCE, (geofence_id,)).fetchone()
    if row is None:
        fail(404, f"no geofence {geofence_id}")
    return _geofence(row)


@blp.route("/geofences")
class Geofences(MethodView):
    @blp.arguments(GeofenceListArgs, location="query")
    @blp.response(200, GeofenceSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List geofences, ordered by id

        Filter by `kind`, or by `device_id` for the fences assigned to a device. Pages of
        `page_size` (default 50, at most 500); the `X-Pagination` header gives the total.
        """
        params = {"kind": args.get("kind"), "device_id": args.get("device_id")}
        with connection() as conn:
            rows = fetch_page(conn, COUNT_GEOFENCES, LIST_GEOFENCES, params, pagination_parameters)
        return [_geofence(row) for row in rows]

    @blp.arguments(GeofenceCreateSchema)
    @blp.response(201, GeofenceSchema, headers={"Location": {"schema": {"type": "string"}}})
    def post(self, body):
        """Create a geofence

        Give its shape as `geometry` (a GeoJSON Polygon or MultiPolygon, positions
        `[lon, lat]`, rings closed) or as `circle` (`lat`, `lon`, `radius_m`), not both.
        `margin_m` (default 25) is the band either side of the border where a device does
        not change sides; it must leave something inside the fence. `dwell_s` (default 60)
        is how long a crossing must last.
        """
        fence = {key: body[key] for key in ("name", "kind", "margin_m", "dwell_s", "action")}
        fence |= _shape_columns(body)
        _checked(fence, set(body))
        with connection() as conn:
            geofence_id = conn.execute(INSERT_GEOFENCE, _params(fence)).fetchone()["id"]
            created = _fetch(conn, geofence_id)
        return created, 201, {"Location": url_for("geofences.Geofence", geofence_id=geofence_id)}


@blp.route("/geofences/<int:geofence_id>")
class Geofence(MethodView):
    @blp.response(200, GeofenceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, geofence_id):
        """Get a geofence"""
        with connection() as conn:
            return _fetch(conn, geofence_id)

    @blp.arguments(GeofenceUpdateSchema)
    @blp.response(200, GeofenceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, changes, geofence_id):
        """Change a geofence's name, kind, shape, margin, dwell time or action

        A new `geometry` or `circle` replaces the shape. Every change raises `version`;
        send the `version` you read to refuse (409) an edit made meanwhile by someone else.
        """
        expected = changes.pop("version", None)
        with connection() as conn, conn.transaction():
            current = conn.execute(LOCK_GEOFENCE, (geofence_id,)).fetchone()
            if current is None:
                fail(404, f"no geofence {geofence_id}")
            if expected is not None and expected != current["version"]:
                fail(409, f"geofence {geofence_id} is at version {current['version']},"
                          f" not {expected}: read it again")  # fmt: skip
            if changes:
                fence = {**current, **{k: v for k, v in changes.items() if k != "circle"}}
                if "geometry" in changes or "circle" in changes:
                    fence |= _shape_columns(changes)
                _checked(fence, set(changes))
                conn.execute(UPDATE_GEOFENCE, _params(fence))
            return _fetch(conn, geofence_id)

    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, geofence_id):
        """Delete a geofence (and its assignments to devices)"""
        with connection() as conn:
            if conn.execute(DELETE_GEOFENCE, (geofence_id,)).fetchone() is None:
                fail(404, f"no geofence {geofence_id}")


@blp.route("/geofences/<int:geofence_id>/devices")
class GeofenceDevices(MethodView):
    @blp.arguments(AssignSchema)
    @blp.response(200, AssignResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, geofence_id):
        """Assign a geofence to many devices

        Name the devices with `device_ids` (every one must be registered) or select them
        with `filter` (`kind`, `model`; at least one). Devices already assigned stay so;
        the answer counts both.
        """
        with connection() as conn:
            try:
                with conn.transaction():
                    if conn.execute(HOLD_GEOFENCE, (geofence_id,)).fetchone() is None:
                        fail(404, f"no geofence {geofence_id}")
                    device_ids = _selected(conn, body)
                    added = conn.execute(ASSIGN, (geofence_id, device_ids)).fetchall()
                    total = conn.execute(COUNT_ASSIGNED, (geofence_id,)).fetchone()["n"]
            except psycopg.errors.ForeignKeyViolation:
                fail(409, "a device was deleted while it was being assigned; assign again")
        return {
            "matched": len(device_ids),
            "assigned": len(added),
            "already_assigned": len(device_ids) - len(added),
            "device_count": total,
        }


def _selected(conn: psycopg.Connection, body: dict[str, Any]) -> list[str]:
    """The device ids a body names or selects: a 422 for unknown ids or an empty filter."""
    if "device_ids" in body:
        device_ids = list(dict.fromkeys(body["device_ids"]))
        known = {row["id"] for row in conn.execute(KNOWN_DEVICES, (device_ids,))}
        unknown = [d for d in device_ids if d not in known]
        if unknown:
            listed = ", ".join(map(repr, unknown[:10]))
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            fail(422, f"unknown devices: {listed}{more}", errors=[
                {"field": "device_ids", "in": "body", "reason": f"not registered: {listed}{more}"}
            ])  # fmt: skip
        return device_ids
    wanted = {key: body["filter"].get(key) for key in ("kind", "model")}
    device_ids = [row["id"] for row in conn.execute(FILTERED_DEVICES, wanted)]
    if not device_ids:
        fail(422, f"no device matches the filter {body['filter']}")
    return device_ids


@blp.route("/geofences/<int:geofence_id>/devices/<string:device_id>")
class GeofenceDevice(MethodView):
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, geofence_id, device_id):
        """Unassign a geofence from a device"""
        with connection() as conn:
            if conn.execute(UNASSIGN, (geofence_id, device_id)).fetchone() is None:
                fail(404, f"device {device_id!r} is not assigned to geofence {geofence_id}")


@blp.route("/devices/<string:device_id>/geofences")
class DeviceGeofences(MethodView):
    @blp.response(200, GeofenceSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, device_id):
        """List the geofences assigned to a device, ordered by id"""
        with connection() as conn:
            if conn.execute(DEVICE_EXISTS, (device_id,)).fetchone() is None:
                fail(404, f"no device {device_id!r}")
            return [_geofence(row) for row in conn.execute(DEVICE_GEOFENCES, (device_id,))]
