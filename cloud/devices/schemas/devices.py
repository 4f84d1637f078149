"""Schemas of the device registry: bodies, query arguments and responses."""

from __future__ import annotations

import marshmallow as ma
from werkzeug.routing import BaseConverter

from cloud.http.paging import PagedQueryArgs
from cloud.http.schemas import Boolean, QueryArgs, Timestamp
from protocols.contract.topics import DEVICE_ID_PATTERN

KINDS = ("pack", "vehicle")
_ID_RULE = "1-64 of A-Z a-z 0-9 _ . -, starting with a letter or digit"


# /api/devices/import and /api/devices/transfer are operations of their own, so no device
# may be called that: its URL would be theirs.
RESERVED_DEVICE_IDS = ("import", "transfer")


def check_device_id(value: str) -> None:
    """Refuse an id that cannot stand in an MQTT topic (the contract's rule, whole string),
    or that names an operation under /api/devices."""
    if not DEVICE_ID_PATTERN.fullmatch(value):
        raise ma.ValidationError(f"Not a valid device id: {_ID_RULE}.")
    if value in RESERVED_DEVICE_IDS:
        raise ma.ValidationError(f"{value!r} names an operation under /api/devices.")


class DeviceIdConverter(BaseConverter):
    """``<device_id:...>``: one path segment, never a reserved id. Werkzeug would otherwise
    take ``GET /api/devices/import`` for the device "import" and list GET, PATCH and DELETE
    in its ``Allow``; the document says the path has POST only."""

    regex = "(?!(?:" + "|".join(RESERVED_DEVICE_IDS) + ")$)[^/]+"


def device_id_parameter(converter: DeviceIdConverter) -> dict:
    """How the OpenAPI document shows a DeviceIdConverter parameter."""
    return {"type": "string", "not": {"enum": list(RESERVED_DEVICE_IDS)}}


def _serial() -> ma.fields.String:
    return ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=128),
        metadata={"description": "the manufacturer's serial number; unique when set"},
    )


class DeviceCreateSchema(ma.Schema):
    """A device to register (the body of POST /api/devices, and one CSV row)."""

    id = ma.fields.String(
        required=True,
        validate=check_device_id,
        metadata={"description": f"the MQTT device id: {_ID_RULE}", "example": "pack-0001"},
    )
    serial = _serial()
    kind = ma.fields.String(load_default="pack", validate=ma.validate.OneOf(KINDS))
    model = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    name = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    attributes = ma.fields.Dict(keys=ma.fields.String(), load_default=dict)
    operator_id = ma.fields.Integer(
        metadata={"description": "the owner, in the caller's subtree (default: the caller's)"}
    )
    store_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "a store of that operator (default: none)"}
    )


class DeviceOwnerArgs(QueryArgs):
    """Who devices imported from a CSV file belong to."""

    operator_id = ma.fields.Integer(
        metadata={"description": "the owner, in the caller's subtree (default: the caller's)"}
    )
    store_id = ma.fields.Integer(metadata={"description": "a store of that operator"})


class DeviceUpdateSchema(ma.Schema):
    """The fields of a device to change (PATCH); ``attributes`` replaces the whole object."""

    serial = _serial()
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    model = ma.fields.String(validate=ma.validate.Length(max=200))
    name = ma.fields.String(validate=ma.validate.Length(max=200))
    attributes = ma.fields.Dict(keys=ma.fields.String())


class DeviceListArgs(PagedQueryArgs):
    operator_id = ma.fields.Integer(
        metadata={"description": "devices of this operator and its sub-operators"}
    )
    store_id = ma.fields.Integer(metadata={"description": "devices of this store"})
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    model = ma.fields.String(metadata={"description": "exact model"})
    online = Boolean(metadata={"description": "as the device's last status said"})
    q = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "substring of the id, name or serial (any case)"},
    )


class CompactStateSchema(ma.Schema):
    online = ma.fields.Boolean()
    last_seen_at = Timestamp(allow_none=True)
    soc_percent = ma.fields.Float(allow_none=True)
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)


class DeviceSchema(ma.Schema):
    id = ma.fields.String()
    serial = ma.fields.String(allow_none=True)
    kind = ma.fields.String()
    model = ma.fields.String()
    name = ma.fields.String()
    attributes = ma.fields.Dict()
    operator_id = ma.fields.Integer()
    store_id = ma.fields.Integer(allow_none=True)
    created_at = Timestamp()
    updated_at = Timestamp()
    state = ma.fields.Nested(CompactStateSchema)


class DeviceStateSchema(ma.Schema):
    """The latest of everything a device reported, kept by ingest (one row per device)."""

    device_id = ma.fields.String()
    online = ma.fields.Boolean()
    online_changed_at = Timestamp(allow_none=True)
    last_seen_at = Timestamp(allow_none=True)
    last_seq = ma.fields.Integer(allow_none=True)
    status = ma.fields.Dict(allow_none=True)
    bms_time = Timestamp(allow_none=True)
    pack_voltage_v = ma.fields.Float(allow_none=True)
    current_a = ma.fields.Float(allow_none=True)
    soc_percent = ma.fields.Float(allow_none=True)
    cell_voltages_v = ma.fields.List(ma.fields.Float(), allow_none=True)
    temperatures_c = ma.fields.List(ma.fields.Float(), allow_none=True)
    charge_mos = ma.fields.Boolean(allow_none=True)
    discharge_mos = ma.fields.Boolean(allow_none=True)
    remaining_ah = ma.fields.Float(allow_none=True)
    full_capacity_ah = ma.fields.Float(allow_none=True)
    cycles = ma.fields.Integer(allow_none=True)
    protection = ma.fields.List(ma.fields.String(), allow_none=True)
    position_time = Timestamp(allow_none=True)
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)
    speed_kmh = ma.fields.Float(allow_none=True)
    course_deg = ma.fields.Float(allow_none=True)
    vehicle_time = Timestamp(allow_none=True)
    vehicle_signals = ma.fields.Dict(allow_none=True)


class UnknownDeviceSchema(ma.Schema):
    device_id = ma.fields.String()
    first_seen_at = Timestamp()
    last_seen_at = Timestamp()
    messages = ma.fields.Integer()
    last_topic = ma.fields.String()


class ImportErrorSchema(ma.Schema):
    line = ma.fields.Integer(metadata={"description": "line in the file; the header is line 1"})
    field = ma.fields.String(allow_none=True)
    reason = ma.fields.String()


class ImportReportSchema(ma.Schema):
    created = ma.fields.Integer()
    skipped_existing = ma.fields.Integer(
        metadata={"description": "ids already registered to the caller's subtree"}
    )
    errors = ma.fields.List(ma.fields.Nested(ImportErrorSchema))
