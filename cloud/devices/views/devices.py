"""``/api/devices``: the registry of packs and vehicles, and each one's latest state."""

from __future__ import annotations

from flask import request, url_for
from flask.views import MethodView

from cloud.devices import registry
from cloud.devices.csv_import import CsvFileError, import_devices
from cloud.devices.owners import owner
from cloud.devices.schemas.devices import (
    DeviceCreateSchema,
    DeviceListArgs,
    DeviceOwnerArgs,
    DeviceSchema,
    DeviceStateSchema,
    DeviceUpdateSchema,
    ImportReportSchema,
)
from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE
from cloud.http.problems import fail
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires

blp = Blueprint(
    "devices", __name__, url_prefix="/devices", description="The registry of packs and vehicles"
)

_IMPORT_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


@blp.route("")
class Devices(MethodView):
    @requires("device.read")
    @blp.arguments(DeviceListArgs, location="query")
    @blp.response(200, DeviceSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List devices, filtered, ordered by id

        Pages of `page_size` (default 50, at most 500); the `X-Pagination` header
        gives the total and the neighbouring pages.
        """
        with connection() as conn:
            return registry.page(conn, args, pagination_parameters)

    @requires("device.write")
    @blp.arguments(DeviceCreateSchema)
    @blp.response(201, DeviceSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(409, response="CONFLICT")
    def post(self, new_device):
        """Register a device

        It belongs to the caller's operator (and store, for a store's account) unless
        `operator_id` / `store_id` name another of the caller's subtree. The id of a
        deleted device stays reserved: the operator that held it (or its store), or one
        above it, may register it again (its earlier history comes back, with a new command
        key); anyone else gets the same 409 as for an id registered to another operator,
        which names no one.
        """
        with connection() as conn:
            operator_id, store_id = owner(
                conn, new_device.get("operator_id"), new_device.get("store_id")
            )
            device = registry.register(conn, new_device, operator_id, store_id)
        return device, 201, {"Location": url_for("devices.Device", device_id=device["id"])}


@blp.route("/import")
class DeviceImport(MethodView):
    @requires("device.write")
    @blp.arguments(DeviceOwnerArgs, location="query")
    @blp.doc(requestBody=_IMPORT_BODY)
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, args):
        """Register devices from a CSV file

        Send the file as a `text/csv` body or as the multipart/form-data field `file`.
        The header row names the columns: `id,serial,kind,model,name` (only `id` is
        required). Each row stands alone: a bad row is listed in `errors` (its line,
        the header being line 1) and the good ones are registered; ids already
        registered to the caller's subtree are counted in `skipped_existing` and left
        unchanged (another operator's id, or a reserved one, is an error of its row). A
        file that cannot be read as CSV, or has no `id` column, is a 422.
        """
        data = _uploaded_csv()
        with connection() as conn:
            operator_id, store_id = owner(conn, args.get("operator_id"), args.get("store_id"))
            try:
                report = import_devices(conn, data, operator_id, store_id)
            except CsvFileError as err:
                fail(422, f"cannot import this CSV: {err}")
        return report


def _uploaded_csv() -> bytes:
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            fail(
                422,
                "the multipart upload has no `file` field",
                errors=[
                    {"field": "file", "in": "body", "reason": "Missing data for required field."}
                ],
            )
        return upload.read()
    if request.mimetype == "text/csv":
        return request.get_data()
    fail(415, "send the CSV as a text/csv body, or as the multipart/form-data field `file`")


@blp.route("/<device_id:device_id>")
class Device(MethodView):
    @requires("device.read")
    @blp.response(200, DeviceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, device_id):
        """Get a device"""
        with connection() as conn:
            return registry.get(conn, device_id)

    @requires("device.write")
    @blp.arguments(DeviceUpdateSchema)
    @blp.response(200, DeviceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, changes, device_id):
        """Change a device's serial, kind, model, name or attributes"""
        with connection() as conn:
            return registry.change(conn, device_id, changes)

    @requires("device.write")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, device_id):
        """Remove a device from the registry (its history stays in the store)

        Its id stays reserved: only its operator (or store), or one above, may register
        it again.
        """
        with connection() as conn:
            registry.remove(conn, device_id)


@blp.route("/<string:device_id>/state")
class DeviceState(MethodView):
    @requires("device.read")
    @blp.response(200, DeviceStateSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, device_id):
        """Get the latest state a device reported (BMS, position, CAN signals, status)"""
        with connection() as conn:
            return registry.state(conn, device_id)
