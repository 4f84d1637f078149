"""Request and response schemas of the device transfers (``/api/devices/transfer``)."""

from __future__ import annotations

import marshmallow as ma

from cloud.devices.schemas.devices import check_device_id
from cloud.http.schemas import Timestamp

MAX_DEVICES = 1000


class TransferSchema(ma.Schema):
    """The body of POST /api/devices/transfer."""

    device_ids = ma.fields.List(
        ma.fields.String(validate=check_device_id),
        required=True,
        validate=ma.validate.Length(min=1, max=MAX_DEVICES),
        metadata={"description": f"1 to {MAX_DEVICES} devices of the caller's subtree"},
    )
    to_operator_id = ma.fields.Integer(
        required=True, metadata={"description": "an operator of the caller's subtree"}
    )
    to_store_id = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        metadata={"description": "a store of to_operator_id; null: no store"},
    )
    note = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=1000)
    )


class TransferResultSchema(ma.Schema):
    moved = ma.fields.List(ma.fields.String(), metadata={"description": "the devices moved"})
    unchanged = ma.fields.List(
        ma.fields.String(), metadata={"description": "already at that operator and store"}
    )
    to_operator_id = ma.fields.Integer()
    to_store_id = ma.fields.Integer(allow_none=True)
    dropped_geofence_assignments = ma.fields.Integer(
        metadata={"description": "assignments to fences the new operator may not use"}
    )
    resolved_alarms = ma.fields.Integer(
        metadata={"description": "open alarms of those fences, resolved by 'auto'"}
    )
    cancelled_commands = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "queued or sent commands of devices that changed operator"},
    )


class DeviceTransferSchema(ma.Schema):
    id = ma.fields.Integer()
    device_id = ma.fields.String()
    from_operator_id = ma.fields.Integer()
    from_store_id = ma.fields.Integer(allow_none=True)
    to_operator_id = ma.fields.Integer()
    to_store_id = ma.fields.Integer(allow_none=True)
    moved_at = Timestamp()
    moved_by = ma.fields.String()
    note = ma.fields.String(allow_none=True)
