"""Schemas of alarms, their mutes and profiles, and fence crossings: bodies, query arguments
and responses.

Alarm types are checked against the catalogue (``cloud.rules.catalogue.TYPES``) wherever a
request names one, so a typo is a 422 rather than an empty list or a mute that never applies.
A profile document is only shaped here; ``check_profile`` is the one judge of its content.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from cloud.devices.schemas.devices import check_device_id
from cloud.http.paging import PagedQueryArgs
from cloud.http.schemas import Boolean, QueryArgs, Timestamp
from cloud.rules.catalogue import CHEMISTRIES, SEVERITIES, TYPES

STATES = ("open", "resolved")
GEOFENCE_EVENT_TYPES = ("left", "reentered")
MAX_ID = 2**63 - 1  # bigint: a bigger id names nothing, and must not reach the store
MAX_BATCH = 10_000
MAX_NOTE = 2000
MAX_NAME = 200  # a device model, as alarm_profile.model allows
DEFAULT_AROUND_S = 1800
MAX_AROUND_S = 7 * 86_400
_TYPES = ", ".join(TYPES)


def _type_field(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        validate=ma.validate.OneOf(TYPES), metadata={"description": f"one of {_TYPES}"}, **kwargs
    )


class NoArgs(QueryArgs):
    """An endpoint without query arguments: any parameter is a 422, not ignored."""


class _RangeArgs(PagedQueryArgs):
    start = Timestamp(
        data_key="from", metadata={"description": "ISO 8601 with a timezone; inclusive"}
    )
    end = Timestamp(data_key="to", metadata={"description": "ISO 8601 with a timezone; excluded"})

    @ma.validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "start" in data and "end" in data and data["end"] <= data["start"]:
            raise ma.ValidationError("Must be later than `from`.", "to")


class AlarmListArgs(_RangeArgs):
    type = ma.fields.List(
        _type_field(), metadata={"description": f"repeatable (`type=a&type=b`); one of {_TYPES}"}
    )
    state = ma.fields.String(validate=ma.validate.OneOf(STATES))
    active = Boolean(metadata={"description": "whether the condition holds now"})
    severity = ma.fields.String(validate=ma.validate.OneOf(SEVERITIES))
    device_id = ma.fields.String(validate=check_device_id)
    store_id = ma.fields.Integer(
        validate=ma.validate.Range(min=1, max=MAX_ID),
        metadata={"description": "the alarms of the devices now in this store"},
    )
    subject = ma.fields.String(
        validate=ma.validate.Length(max=200),
        metadata={"description": "a protection name or a fence id; '' for none"},
    )
    include_muted = Boolean(
        load_default=False,
        metadata={"description": "also the types the caller has muted (default: left out)"},
    )


class AlarmSchema(ma.Schema):
    """An alarm: one per (device, type, subject) while open, counting its occurrences."""

    id = ma.fields.Integer()
    device_id = ma.fields.String()
    type = ma.fields.String()
    subject = ma.fields.String(metadata={"description": "protection name or fence id; or ''"})
    severity = ma.fields.String()
    state = ma.fields.String(metadata={"description": "open | resolved"})
    active = ma.fields.Boolean(metadata={"description": "the condition holds now"})
    count = ma.fields.Integer(metadata={"description": "occurrences so far"})
    first_at = Timestamp(metadata={"description": "device time of the first occurrence"})
    latest_at = Timestamp(metadata={"description": "device time of the latest occurrence"})
    cleared_at = Timestamp(allow_none=True, metadata={"description": "condition last cleared"})
    value = ma.fields.Float(allow_none=True, metadata={"description": "of the latest occurrence"})
    threshold = ma.fields.Float(allow_none=True)
    unit = ma.fields.String(metadata={"description": "of value and threshold"})
    message = ma.fields.String()
    resent = ma.fields.Boolean(metadata={"description": "every occurrence came from a backlog"})
    resolved_at = Timestamp(allow_none=True)
    resolved_by = ma.fields.String(
        allow_none=True, metadata={"description": "the login of who resolved it, or 'auto'"}
    )
    resolution_note = ma.fields.String(allow_none=True)
    muted = ma.fields.Boolean(metadata={"description": "the caller has muted its type"})
    created_at = Timestamp()
    updated_at = Timestamp()


class OccurrenceSchema(ma.Schema):
    n = ma.fields.Integer(metadata={"description": "1 .. the alarm's count"})
    time = Timestamp(metadata={"description": "device time"})
    received_at = Timestamp(allow_none=True)
    value = ma.fields.Float(allow_none=True)
    threshold = ma.fields.Float(allow_none=True)
    resent = ma.fields.Boolean()


class OccurrenceWithSampleSchema(OccurrenceSchema):
    sample = ma.fields.Dict(
        allow_none=True, metadata={"description": "the sample or event that raised it"}
    )


class AlarmEventSchema(ma.Schema):
    id = ma.fields.Integer()
    event = ma.fields.String(metadata={"description": "raised | repeated | cleared | resolved"})
    at = Timestamp(metadata={"description": "when the cloud recorded it"})
    time = Timestamp(allow_none=True, metadata={"description": "device time, if from a sample"})
    resent = ma.fields.Boolean()
    by = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)


class AlarmDetailSchema(AlarmSchema):
    occurrences = ma.fields.List(
        ma.fields.Nested(OccurrenceSchema),
        metadata={"description": "the latest 20, newest first (samples: see /occurrences)"},
    )
    events = ma.fields.List(
        ma.fields.Nested(AlarmEventSchema),
        metadata={"description": "the lifecycle, oldest first (the latest 200)"},
    )
    event_count = ma.fields.Integer(metadata={"description": "lifecycle events in all"})


class ResolveSchema(ma.Schema):
    """The body of POST /api/alarms/{id}/resolve."""

    note = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=MAX_NOTE),
        metadata={"description": "what was done about it"},
    )


class AlarmFilterSchema(ma.Schema):
    """Open alarms by type, device, severity and whether they are active; at least one."""

    type = _type_field()
    device_id = ma.fields.String(validate=check_device_id)
    severity = ma.fields.String(validate=ma.validate.OneOf(SEVERITIES))
    active = Boolean()

    @ma.validates_schema
    def _not_empty(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("name at least one of type, device_id, severity, active")


class BatchResolveSchema(ResolveSchema):
    """The body of POST /api/alarms/resolve: ``alarm_ids`` or ``filter``, and a note."""

    alarm_ids = ma.fields.List(
        ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=MAX_ID)),
        validate=ma.validate.Length(min=1, max=MAX_BATCH),
    )
    filter = ma.fields.Nested(AlarmFilterSchema)

    @ma.validates_schema
    def _one_selector(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("alarm_ids" in data) == ("filter" in data):
            raise ma.ValidationError("give either alarm_ids or filter", "alarm_ids")


class ResolveResultSchema(ma.Schema):
    id = ma.fields.Integer()
    result = ma.fields.String(metadata={"description": "resolved | already_resolved"})


class BatchResolvedSchema(ma.Schema):
    resolved = ma.fields.Integer(metadata={"description": "alarms this request resolved"})
    already_resolved = ma.fields.Integer()
    results = ma.fields.List(
        ma.fields.Nested(ResolveResultSchema),
        metadata={"description": "one per id, in the order given (a filter: the alarms it hit)"},
    )


class CurveArgs(QueryArgs):
    before_s = ma.fields.Integer(
        load_default=DEFAULT_AROUND_S,
        validate=ma.validate.Range(min=0, max=MAX_AROUND_S),
        metadata={"description": "seconds shown before the first occurrence (default 1800)"},
    )
    after_s = ma.fields.Integer(
        load_default=DEFAULT_AROUND_S,
        validate=ma.validate.Range(min=0, max=MAX_AROUND_S),
        metadata={"description": "seconds shown after it cleared, or after the latest one"},
    )


class PointSchema(ma.Schema):
    time = Timestamp()
    value = ma.fields.Float(allow_none=True)


class PositionPointSchema(ma.Schema):
    time = Timestamp()
    lat = ma.fields.Float()
    lon = ma.fields.Float()


class CurveSchema(ma.Schema):
    """The signal around an alarm: points for BMS thresholds and protections, positions for
    fences."""

    alarm_id = ma.fields.Integer()
    device_id = ma.fields.String()
    type = ma.fields.String()
    subject = ma.fields.String()
    source = ma.fields.String(metadata={"description": "bms | protection | geofence"})
    signal = ma.fields.String(
        allow_none=True,
        metadata={"description": "what the points are; a protection: 1 while it was reported"},
    )
    unit = ma.fields.String()
    high = ma.fields.Boolean(
        allow_none=True, metadata={"description": "raised above `raise` (true) or below it"}
    )
    when = ma.fields.String(allow_none=True, metadata={"description": "charging | discharging"})
    raise_ = ma.fields.Float(
        data_key="raise", allow_none=True, metadata={"description": "the device's effective one"}
    )
    clear = ma.fields.Float(allow_none=True)
    start = Timestamp(data_key="from")
    end = Timestamp(data_key="to")
    bucket_s = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "null: every sample; else each bucket's lowest and highest"},
    )
    points = ma.fields.List(ma.fields.Nested(PointSchema))
    positions = ma.fields.List(ma.fields.Nested(PositionPointSchema))
    occurrences = ma.fields.List(
        Timestamp(), metadata={"description": "device times of its occurrences in the window"}
    )


class MuteBodySchema(ma.Schema):
    """The body of PUT /api/alarm-mutes/{type}."""

    until = ma.fields.AwareDateTime(
        load_default=None, allow_none=True, metadata={"description": "null or absent: for good"}
    )


class MuteSchema(ma.Schema):
    login = ma.fields.String(metadata={"description": "the account that muted it"})
    type = ma.fields.String()
    until = Timestamp(allow_none=True)
    in_force = ma.fields.Boolean(metadata={"description": "false once `until` has passed"})
    created_at = Timestamp()


class AlarmTypeSchema(ma.Schema):
    type = ma.fields.String()
    source = ma.fields.String(
        metadata={"description": "bms | protection | event | offline | geofence"}
    )
    description = ma.fields.String()
    unit = ma.fields.String()
    defaults = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Dict(),
        metadata={"description": f"settings per chemistry ({', '.join(CHEMISTRIES)})"},
    )


class ProfileBodySchema(ma.Schema):
    """A profile document: shaped here, judged by the catalogue's check_profile."""

    class Meta:
        unknown = ma.INCLUDE  # check_profile names an unknown field in its own words

    chemistry = ma.fields.Raw(metadata={"description": " or ".join(CHEMISTRIES), "example": "LFP"})
    rules = ma.fields.Raw(
        metadata={
            "description": "alarm type -> settings to override (enabled, severity, auto_clear,"
            " raise, clear, dwell_s, as the type has them)",
            "example": {"low_soc": {"raise": 15, "clear": 20}},
        }
    )


class EffectiveSchema(ma.Schema):
    chemistry = ma.fields.String()
    rules = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Dict(), metadata={"description": "per type"}
    )


class ProfileSchema(ma.Schema):
    model = ma.fields.String(metadata={"description": "'' : the fleet-wide profile"})
    profile = ma.fields.Dict(metadata={"description": "the stored document"})
    updated_at = Timestamp()
    updated_by = ma.fields.String(allow_none=True)


class ProfileDetailSchema(ProfileSchema):
    effective = ma.fields.Nested(
        EffectiveSchema,
        allow_none=True,
        metadata={
            "description": "the defaults with the document applied; null if the catalogue no"
            " longer accepts the document (the worker then passes over it)"
        },
    )


class GeofenceEventArgs(_RangeArgs):
    device_id = ma.fields.String(validate=check_device_id)
    geofence_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))
    type = ma.fields.String(validate=ma.validate.OneOf(GEOFENCE_EVENT_TYPES))
    breach = Boolean(metadata={"description": "only those that broke the fence (or not)"})


class GeofenceActionSchema(ma.Schema):
    cmd_id = ma.fields.String()
    type = ma.fields.String()
    args = ma.fields.Dict()


class GeofenceEventSchema(ma.Schema):
    """A confirmed fence crossing."""

    id = ma.fields.Integer()
    device_id = ma.fields.String()
    geofence_id = ma.fields.Integer(allow_none=True, metadata={"description": "null: deleted"})
    geofence_name = ma.fields.String()
    type = ma.fields.String(metadata={"description": "left | reentered"})
    breach = ma.fields.Boolean(
        metadata={"description": "the fence is broken now (left a keep-in, entered a keep-out)"}
    )
    time = Timestamp(metadata={"description": "device time of the sample that confirmed it"})
    received_at = Timestamp(allow_none=True)
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)
    resent = ma.fields.Boolean()
    action = ma.fields.Nested(
        GeofenceActionSchema, allow_none=True, metadata={"description": "a command it issued"}
    )
    created_at = Timestamp()
