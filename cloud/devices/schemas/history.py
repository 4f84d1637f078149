"""Schemas of the time-series endpoints: the range arguments and the rows they return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import marshmallow as ma
from webargs.fields import DelimitedList

from cloud.http.schemas import Boolean, Interval, QueryArgs, Timestamp

DEFAULT_SPAN = timedelta(hours=1)
DEFAULT_LIMIT = 10_000
MAX_LIMIT = 100_000


class TimeRangeArgs(QueryArgs):
    """``from`` <= time < ``to``; by default the last hour up to now."""

    start = Timestamp(
        data_key="from",
        metadata={
            "description": "ISO 8601 with a timezone (2026-11-23T14:00:00Z); default: `to` - 1 h"
        },
    )
    end = Timestamp(
        data_key="to",
        metadata={"description": "ISO 8601 with a timezone, excluded; default: now"},
    )
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"at most this many rows (buckets); at most {MAX_LIMIT}"},
    )

    @ma.post_load
    def _fill_the_range(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        end = data.get("end") or datetime.now(UTC)
        start = data.get("start") or end - DEFAULT_SPAN
        if end <= start:
            raise ma.ValidationError("Must be later than `from`.", field_name="to")
        return {**data, "start": start, "end": end}


class BucketedRangeArgs(TimeRangeArgs):
    bucket = Interval(
        metadata={
            "type": "string",
            "example": "5m",
            "description": "one row per bucket of this length (30s, 5m, 1h, 1d, or seconds),"
            " aligned to the Unix epoch (UTC)",
        }
    )


class PositionArgs(BucketedRangeArgs):
    valid_only = Boolean(
        load_default=True, metadata={"description": "leave out fixes the receiver marked invalid"}
    )


class CanArgs(BucketedRangeArgs):
    signals = DelimitedList(
        ma.fields.String(validate=ma.validate.Length(min=1, max=128)),
        metadata={"description": "comma-separated signal names (default: all)"},
    )


class EventArgs(TimeRangeArgs):
    event_type = ma.fields.String(data_key="type", metadata={"description": "exact event type"})


class _Range(ma.Schema):
    device_id = ma.fields.String()
    start = Timestamp(data_key="from")
    end = Timestamp(data_key="to")
    bucket_s = ma.fields.Integer(
        allow_none=True, metadata={"description": "bucket length in seconds; null: raw rows"}
    )
    limit = ma.fields.Integer()
    truncated = ma.fields.Boolean(metadata={"description": "true: more rows matched than `limit`"})


class MinAvgMax(ma.Schema):
    min = ma.fields.Float(allow_none=True)
    avg = ma.fields.Float(allow_none=True)
    max = ma.fields.Float(allow_none=True)


class SignalStats(MinAvgMax):
    count = ma.fields.Integer(metadata={"description": "samples with a numeric value"})


class BmsSampleSchema(ma.Schema):
    time = Timestamp()
    seq = ma.fields.Integer()
    received_at = Timestamp()
    pack_voltage_v = ma.fields.Float()
    current_a = ma.fields.Float(metadata={"description": "positive: charging"})
    soc_percent = ma.fields.Float()
    cell_voltages_v = ma.fields.List(ma.fields.Float())
    temperatures_c = ma.fields.List(ma.fields.Float())
    cell_min_v = ma.fields.Float()
    cell_max_v = ma.fields.Float()
    temperature_min_c = ma.fields.Float()
    temperature_max_c = ma.fields.Float()
    charge_mos = ma.fields.Boolean()
    discharge_mos = ma.fields.Boolean()
    remaining_ah = ma.fields.Float(allow_none=True)
    full_capacity_ah = ma.fields.Float(allow_none=True)
    cycles = ma.fields.Integer(allow_none=True)
    protection = ma.fields.List(ma.fields.String())
    balancing = ma.fields.List(ma.fields.Integer())
    resent = ma.fields.Boolean()


class BmsBucketSchema(ma.Schema):
    time = Timestamp(metadata={"description": "start of the bucket"})
    samples = ma.fields.Integer()
    pack_voltage_v = ma.fields.Nested(MinAvgMax)
    current_a = ma.fields.Nested(MinAvgMax)
    soc_percent = ma.fields.Nested(MinAvgMax)
    cell_min_v = ma.fields.Nested(MinAvgMax)
    cell_max_v = ma.fields.Nested(MinAvgMax)
    temperature_max_c = ma.fields.Nested(MinAvgMax)


class BmsHistorySchema(_Range):
    rows = ma.fields.List(ma.fields.Nested(BmsSampleSchema), metadata={"description": "raw"})
    buckets = ma.fields.List(
        ma.fields.Nested(BmsBucketSchema),
        metadata={"description": "with `bucket`, instead of rows"},
    )


class PositionSchema(ma.Schema):
    time = Timestamp()
    seq = ma.fields.Integer()
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    speed_kmh = ma.fields.Float(allow_none=True)
    course_deg = ma.fields.Float(allow_none=True)
    valid = ma.fields.Boolean()


class PositionHistorySchema(_Range):
    rows = ma.fields.List(ma.fields.Nested(PositionSchema), metadata={"description": "raw"})
    buckets = ma.fields.List(
        ma.fields.Nested(PositionSchema),
        metadata={"description": "with `bucket`, instead of rows: the last position of each"},
    )


class VehicleSampleSchema(ma.Schema):
    time = Timestamp()
    seq = ma.fields.Integer()
    signals = ma.fields.Dict(
        metadata={"description": "signal name -> value, as decoded by the DBC"}
    )


class VehicleBucketSchema(ma.Schema):
    time = Timestamp(metadata={"description": "start of the bucket"})
    samples = ma.fields.Integer()
    signals = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(SignalStats),
        metadata={"description": "numeric signals only"},
    )


class CanHistorySchema(_Range):
    rows = ma.fields.List(ma.fields.Nested(VehicleSampleSchema), metadata={"description": "raw"})
    buckets = ma.fields.List(
        ma.fields.Nested(VehicleBucketSchema),
        metadata={"description": "with `bucket`, instead of rows"},
    )


class EventSchema(ma.Schema):
    time = Timestamp()
    seq = ma.fields.Integer()
    received_at = Timestamp()
    type = ma.fields.String()
    severity = ma.fields.String(allow_none=True)
    detail = ma.fields.Raw(allow_none=True)
    resent = ma.fields.Boolean()


class EventHistorySchema(_Range):
    rows = ma.fields.List(ma.fields.Nested(EventSchema))
