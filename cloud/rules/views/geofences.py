"""``/api/geofences``: keep-in and keep-out fences, and the devices each one applies to
(``cloud.rules.fence_admin``)."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires
from cloud.rules import fence_admin
from cloud.rules.schemas.geofences import (
    AssignResultSchema,
    AssignSchema,
    GeofenceCreateSchema,
    GeofenceListArgs,
    GeofenceSchema,
    GeofenceUpdateSchema,
)

blp = Blueprint("geofences", __name__, description="Keep-in and keep-out fences")


@blp.route("/geofences")
class Geofences(MethodView):
    @requires("geofence.read")
    @blp.arguments(GeofenceListArgs, location="query")
    @blp.response(200, GeofenceSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List geofences, ordered by id

        The fences of the caller's operator and its sub-operators. Filter by `kind`, or by
        `device_id` for the fences assigned to a device. Pages of `page_size` (default 50,
        at most 500); the `X-Pagination` header gives the total.
        """
        with connection() as conn:
            return fence_admin.page(
                conn, args.get("kind"), args.get("device_id"), pagination_parameters
            )

    @requires("geofence.write")
    @blp.arguments(GeofenceCreateSchema)
    @blp.response(201, GeofenceSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body):
        """Create a geofence

        Give its shape as `geometry` (a GeoJSON Polygon or MultiPolygon, positions
        `[lon, lat]`, rings closed) or as `circle` (`lat`, `lon`, `radius_m`), not both.
        `margin_m` (default 25) is the band either side of the border where a device does
        not change sides; it must leave something inside the fence. `dwell_s` (default 60)
        is how long a crossing must last. The fence belongs to the caller's operator, or to
        `operator_id`, one of its sub-operators; it can watch only that operator's devices
        and its sub-operators'.
        """
        with connection() as conn:
            geofence_id = fence_admin.create(conn, body)
            created = fence_admin.get(conn, geofence_id)
        return created, 201, {"Location": url_for("geofences.Geofence", geofence_id=geofence_id)}


@blp.route("/geofences/<int:geofence_id>")
class Geofence(MethodView):
    @requires("geofence.read")
    @blp.response(200, GeofenceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, geofence_id):
        """Get a geofence"""
        with connection() as conn:
            return fence_admin.get(conn, geofence_id)

    @requires("geofence.write")
    @blp.arguments(GeofenceUpdateSchema)
    @blp.response(200, GeofenceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, changes, geofence_id):
        """Change a geofence's name, kind, shape, margin, dwell time or action

        A new `geometry` or `circle` replaces the shape. Every change raises `version`;
        send the `version` you read to refuse (409) an edit made meanwhile by someone else.
        """
        with connection() as conn:
            fence_admin.change(conn, geofence_id, changes)
            return fence_admin.get(conn, geofence_id)

    @requires("geofence.write")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, geofence_id):
        """Delete a geofence (and its assignments to devices)"""
        with connection() as conn:
            fence_admin.delete(conn, geofence_id)


@blp.route("/geofences/<int:geofence_id>/devices")
class GeofenceDevices(MethodView):
    @requires("geofence.write")
    @blp.arguments(AssignSchema)
    @blp.response(200, AssignResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, geofence_id):
        """Assign a geofence to many devices

        Name the devices with `device_ids` or select them with `filter` (`kind`, `model`; at
        least one). Only the caller's devices of the fence operator's subtree can be
        assigned: a sub-operator's fence never watches its parent's devices. Devices already
        assigned stay so; the answer counts both.
        """
        with connection() as conn:
            return fence_admin.assign(conn, geofence_id, body)


@blp.route("/geofences/<int:geofence_id>/devices/<string:device_id>")
class GeofenceDevice(MethodView):
    @requires("geofence.write")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, geofence_id, device_id):
        """Unassign a geofence from a device"""
        with connection() as conn:
            fence_admin.unassign(conn, geofence_id, device_id)


@blp.route("/devices/<string:device_id>/geofences")
class DeviceGeofences(MethodView):
    @requires("geofence.read")
    @blp.response(200, GeofenceSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, device_id):
        """List the geofences assigned to a device that the caller can see, ordered by id"""
        with connection() as conn:  # the guard has answered 404 for another's device
            return fence_admin.of_device(conn, device_id)
