"""``/api/devices``: the registry of packs and vehicles, and each one's latest state."""

from __future__ import annotations

from typing import Any, NoReturn

import psycopg
from flask import request, url_for
from flask.views import MethodView
from psycopg.types.json import Jsonb

from cloud.devices.csv_import import CsvFileError, conflict, import_devices
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
from cloud.http.paging import PAGE_SIZE, fetch_page
from cloud.http.problems import fail
from cloud.http.schemas import Blueprint
from cloud.identity import scope
from cloud.identity.guard import requires

blp = Blueprint(
    "devices", __name__, url_prefix="/devices", description="The registry of packs and vehicles"
)

_SELECT = """
SELECT d.id, d.serial, d.kind, d.model, d.name, d.attributes, d.operator_id, d.store_id,
       d.created_at, d.updated_at,
       coalesce(s.online, false) AS online, s.last_seen_at, s.soc_percent, s.lat, s.lon
FROM device d LEFT JOIN device_state s ON s.device_id = d.id
"""
# Every filter is optional: a NULL parameter switches its condition off.
_FILTER = f"""
WHERE {scope.device("d")}
  AND (%(operator_id)s::bigint IS NULL
       OR d.operator_id IN (SELECT id FROM operator WHERE path @> ARRAY[%(operator_id)s::bigint]))
  AND (%(store_id)s::bigint IS NULL OR d.store_id = %(store_id)s)
  AND (%(kind)s::text IS NULL OR d.kind = %(kind)s)
  AND (%(model)s::text IS NULL OR d.model = %(model)s)
  AND (%(online)s::boolean IS NULL OR coalesce(s.online, false) = %(online)s)
  AND (%(q)s::text IS NULL
       OR strpos(lower(d.id), lower(%(q)s)) > 0
       OR strpos(lower(d.name), lower(%(q)s)) > 0
       OR strpos(lower(coalesce(d.serial, '')), lower(%(q)s)) > 0)
"""
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
GET_DEVICE = _SELECT + f"WHERE d.id = %(id)s AND {scope.device('d')}"
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
DELETE_DEVICE = f"DELETE FROM device d WHERE d.id = %(id)s AND {scope.device('d')} RETURNING id"
GET_STATE = f"SELECT * FROM device_state WHERE device_id = %(id)s AND {scope.device_id()}"

_STATE_COLUMNS = ("online", "last_seen_at", "soc_percent", "lat", "lon")
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


def _device(row: dict[str, Any]) -> dict[str, Any]:
    device = {k: v for k, v in row.items() if k not in _STATE_COLUMNS}
    device["state"] = {k: row[k] for k in _STATE_COLUMNS}
    return device


def _fetch(conn: psycopg.Connection, device_id: str) -> dict[str, Any]:
    row = conn.execute(GET_DEVICE, scope.params(id=device_id)).fetchone()
    if row is None:
        fail(404, f"no device {device_id!r}")
    return _device(row)


def _conflict(
    conn: psycopg.Connection, err: psycopg.errors.UniqueViolation, device: dict[str, Any]
) -> NoReturn:
    """409 naming what is taken: the id, or the serial (by whom, only if the caller's)."""
    field, reason = conflict(conn, err, device)
    fail(409, reason, errors=[{"field": field, "in": "body", "reason": reason}])


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
        names = ("operator_id", "store_id", "kind", "model", "online", "q")
        params = scope.params(**{key: args.get(key) for key in names})
        with connection() as conn:
            rows = fetch_page(conn, COUNT_DEVICES, LIST_DEVICES, params, pagination_parameters)
        return [_device(row) for row in rows]

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
        params = {
            **new_device,
            "serial": new_device.get("serial"),
            "attributes": Jsonb(new_device["attributes"]),
        }
        with connection() as conn:
            params["operator_id"], params["store_id"] = owner(
                conn, new_device.get("operator_id"), new_device.get("store_id")
            )
            try:
                with conn.transaction():
                    conn.execute(INSERT_DEVICE, params)
            except psycopg.errors.UniqueViolation as err:
                _conflict(conn, err, new_device)
            device = _fetch(conn, new_device["id"])
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
            return _fetch(conn, device_id)

    @requires("device.write")
    @blp.arguments(DeviceUpdateSchema)
    @blp.response(200, DeviceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, changes, device_id):
        """Change a device's serial, kind, model, name or attributes"""
        params = {
            **scope.params(id=device_id),
            "serial_given": "serial" in changes,
            "serial": changes.get("serial"),
            "kind": changes.get("kind"),
            "model": changes.get("model"),
            "name": changes.get("name"),
            "attributes": Jsonb(changes["attributes"]) if "attributes" in changes else None,
        }
        with connection() as conn:
            if changes:
                try:
                    with conn.transaction():
                        updated = conn.execute(UPDATE_DEVICE, params).fetchone()
                except psycopg.errors.UniqueViolation as err:
                    _conflict(conn, err, {"id": device_id, **changes})
                if updated is None:
                    fail(404, f"no device {device_id!r}")
            return _fetch(conn, device_id)

    @requires("device.write")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, device_id):
        """Remove a device from the registry (its history stays in the store)

        Its id stays reserved: only its operator (or store), or one above, may register
        it again.
        """
        with connection() as conn:
            if conn.execute(DELETE_DEVICE, scope.params(id=device_id)).fetchone() is None:
                fail(404, f"no device {device_id!r}")


@blp.route("/<string:device_id>/state")
class DeviceState(MethodView):
    @requires("device.read")
    @blp.response(200, DeviceStateSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, device_id):
        """Get the latest state a device reported (BMS, position, CAN signals, status)"""
        with connection() as conn:
            row = conn.execute(GET_STATE, scope.params(id=device_id)).fetchone()
        if row is None:
            fail(404, f"no device {device_id!r}")
        return row
