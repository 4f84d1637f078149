"""The live feed's request and response schemas."""

from __future__ import annotations

import marshmallow as ma

from cloud.http.schemas import QueryArgs
from cloud.live.cursor import Cursor, CursorError
from cloud.live.feed import COLUMNS


def _check_cursor(value: str) -> None:
    try:
        Cursor.parse(value)
    except CursorError as err:
        raise ma.ValidationError(str(err)) from err


class StreamArgs(QueryArgs):
    cursor = ma.fields.String(
        validate=[ma.validate.Length(max=4096), _check_cursor],
        metadata={
            "description": "resume after this point: the snapshot's `cursor` (a reconnecting"
            " browser sends the last event's id as `Last-Event-ID` instead, which wins)"
        },
    )


class LiveSnapshotSchema(ma.Schema):
    """Every device of the caller's scope, one compact row each, in the order of `columns`."""

    columns = ma.fields.List(
        ma.fields.String(),
        metadata={"description": f"the columns of every row: {', '.join(COLUMNS)}"},
    )
    rows = ma.fields.List(
        ma.fields.List(ma.fields.Raw(allow_none=True)),
        metadata={
            "description": "one per device, ordered by id: id, kind, model, operator_id,"
            " store_id, lat, lon, soc_percent, pack_voltage_v, current_a, speed_kmh, online,"
            " last_seen_at (ISO 8601 UTC), discharge_mos, charge_mos, alarm_severity (the"
            " highest of its open alarms: info, warning, critical, or null), lease (leased,"
            " expired or none); null where the device has not reported the value"
        },
    )
    cursor = ma.fields.String(
        metadata={"description": "open `/api/live/stream?cursor=...` to get what changes next"}
    )
