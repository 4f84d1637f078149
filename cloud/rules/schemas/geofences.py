"""Schemas of geofences and their assignment to devices: bodies, query arguments, responses.

Only types and required fields are checked here; whether a shape, a circle or a margin makes
a usable fence is for the geofence core (``cloud.rules.geofence``) to say, in its own words.
"""

from __future__ import annotations

import marshmallow as ma

from cloud.commands.schemas import MAX_BULK_DEVICES
from cloud.devices.schemas.devices import KINDS as DEVICE_KINDS
from cloud.devices.schemas.devices import check_device_id
from cloud.http.paging import PagedQueryArgs
from cloud.http.schemas import Boolean, Timestamp
from cloud.rules.geofence import KINDS
from cloud.rules.schemas.alarms import MAX_ID

DEFAULT_MARGIN_M = 25.0
DEFAULT_DWELL_S = 60
MAX_DWELL_S = 86_400
_KINDS = " or ".join(KINDS)


class CircleSchema(ma.Schema):
    """A circle: centre in WGS-84 decimal degrees, radius in metres."""

    lat = ma.fields.Float(required=True)
    lon = ma.fields.Float(required=True)
    radius_m = ma.fields.Float(required=True)


class ActionSchema(ma.Schema):
    """What to do while a device is outside (kept for the rules worker)."""

    cut_discharge_after_s = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=0, max=7 * 86_400),
        metadata={"description": "cut discharge after this long outside"},
    )
    restore_on_return = Boolean(
        load_default=False, metadata={"description": "restore discharge on re-entry"}
    )


def _fields() -> dict[str, ma.fields.Field]:
    """The editable fields, without defaults (PATCH leaves absent ones alone)."""
    return {
        "name": ma.fields.String(validate=ma.validate.Length(min=1, max=200)),
        "kind": ma.fields.String(
            validate=ma.validate.OneOf(KINDS), metadata={"description": _KINDS}
        ),
        "geometry": ma.fields.Dict(
            metadata={"description": "a GeoJSON Polygon or MultiPolygon, [lon, lat] positions"}
        ),
        "circle": ma.fields.Nested(CircleSchema),
        "margin_m": ma.fields.Float(
            metadata={"description": "hysteresis band either side of the border, metres"}
        ),
        "dwell_s": ma.fields.Integer(
            validate=ma.validate.Range(min=0, max=MAX_DWELL_S),
            metadata={"description": "seconds a crossing must last before it counts"},
        ),
        "action": ma.fields.Nested(ActionSchema, allow_none=True),
    }


def _one_shape(data: dict, required: bool) -> None:
    given = [name for name in ("geometry", "circle") if name in data]
    if len(given) == 2:
        raise ma.ValidationError("give either geometry or circle, not both", "circle")
    if required and not given:
        raise ma.ValidationError("give geometry (GeoJSON) or circle", "geometry")


class GeofenceCreateSchema(ma.Schema.from_dict(_fields())):  # type: ignore[misc]
    """The body of POST /api/geofences: ``geometry`` or ``circle``, exactly one."""

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    kind = ma.fields.String(
        required=True, validate=ma.validate.OneOf(KINDS), metadata={"description": _KINDS}
    )
    margin_m = ma.fields.Float(load_default=DEFAULT_MARGIN_M)
    dwell_s = ma.fields.Integer(
        load_default=DEFAULT_DWELL_S, validate=ma.validate.Range(min=0, max=MAX_DWELL_S)
    )
    action = ma.fields.Nested(ActionSchema, load_default=None, allow_none=True)
    operator_id = ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(min=1, max=MAX_ID),
        metadata={"description": "the owner: a sub-operator (default: the caller's operator)"},
    )

    @ma.validates_schema
    def _shape(self, data, **kwargs):
        _one_shape(data, required=True)


class GeofenceUpdateSchema(ma.Schema.from_dict(_fields())):  # type: ignore[misc]
    """The fields to change (PATCH); a new ``geometry`` or ``circle`` replaces the shape."""

    version = ma.fields.Integer(
        metadata={"description": "optional: refuse (409) unless the fence is at this version"}
    )

    @ma.validates_schema
    def _shape(self, data, **kwargs):
        _one_shape(data, required=False)


class GeofenceSchema(ma.Schema):
    """A geofence as stored."""

    id = ma.fields.Integer()
    operator_id = ma.fields.Integer(metadata={"description": "the operator it belongs to"})
    name = ma.fields.String()
    kind = ma.fields.String()
    geometry = ma.fields.Dict(allow_none=True, metadata={"description": "null for a circle"})
    circle = ma.fields.Nested(CircleSchema, allow_none=True, metadata={"description": "or null"})
    margin_m = ma.fields.Float()
    dwell_s = ma.fields.Integer()
    action = ma.fields.Nested(ActionSchema, allow_none=True)
    device_count = ma.fields.Integer(metadata={"description": "devices assigned to it"})
    created_at = Timestamp()
    updated_at = Timestamp()
    version = ma.fields.Integer(metadata={"description": "grows with every edit"})


class GeofenceListArgs(PagedQueryArgs):
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    device_id = ma.fields.String(
        validate=check_device_id, metadata={"description": "only fences assigned to it"}
    )


class AssignFilterSchema(ma.Schema):
    """Devices by their registry fields; at least one."""

    kind = ma.fields.String(validate=ma.validate.OneOf(DEVICE_KINDS))
    model = ma.fields.String(validate=ma.validate.Length(min=1, max=200))

    @ma.validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("name at least one of kind, model")


class AssignSchema(ma.Schema):
    """The body of POST /api/geofences/{id}/devices: ``device_ids`` or ``filter``."""

    device_ids = ma.fields.List(
        ma.fields.String(validate=check_device_id),
        validate=ma.validate.Length(min=1, max=MAX_BULK_DEVICES),
    )
    filter = ma.fields.Nested(AssignFilterSchema)

    @ma.validates_schema
    def _one_selector(self, data, **kwargs):
        if ("device_ids" in data) == ("filter" in data):
            raise ma.ValidationError("give either device_ids or filter", "device_ids")


class AssignResultSchema(ma.Schema):
    matched = ma.fields.Integer(metadata={"description": "devices named or matching the filter"})
    assigned = ma.fields.Integer(metadata={"description": "newly assigned by this request"})
    already_assigned = ma.fields.Integer()
    device_count = ma.fields.Integer(metadata={"description": "devices assigned now, in all"})
