"""``/api/devices/<id>/{bms,positions,can,events}``: one device's history over a time range.

The range is ``from`` <= time < ``to`` in device time (ISO 8601 with a timezone; default
the last hour). Rows come in time order, at most ``limit`` (default 10,000, at most
100,000); ``truncated`` says more matched. With ``bucket`` the answer has ``buckets``
instead of ``rows``. The body is written straight from the query, without a marshmallow
pass per row: a 100,000-row answer must not take seconds to serialise. Only the caller's
devices (``device.read``); another operator's is a 404 like a missing one. Rows of a time
before the caller's subtree held the device (before a transfer, or of an earlier
registration of its id) are left out.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask.views import MethodView

from cloud.devices import history as queries
from cloud.devices.schemas.history import (
    BmsHistorySchema,
    BucketedRangeArgs,
    CanArgs,
    CanHistorySchema,
    EventArgs,
    EventHistorySchema,
    PositionArgs,
    PositionHistorySchema,
)
from cloud.http.db import connection
from cloud.http.schemas import Blueprint
from cloud.identity import scope
from cloud.identity.guard import requires

blp = Blueprint(
    "history",
    __name__,
    url_prefix="/devices",
    description="One device's samples and events over a time range",
)


def _params(device_id: str, args: dict[str, Any], **extra: Any) -> dict[str, Any]:
    # One row beyond the limit tells a cut answer from one that just fits.
    return scope.params(
        device_id=device_id,
        start=args["start"],
        end=args["end"],
        bucket=args.get("bucket"),
        limit=args["limit"] + 1,
        **extra,
    )


def _answer(device_id: str, args: dict[str, Any], rows: list[dict[str, Any]]) -> Response:
    limit = args["limit"]
    bucket = args.get("bucket")
    return jsonify(
        {
            "device_id": device_id,
            "from": args["start"],
            "to": args["end"],
            "bucket_s": int(bucket.total_seconds()) if bucket else None,
            "limit": limit,
            "truncated": len(rows) > limit,
            ("buckets" if bucket else "rows"): rows[:limit],
        }
    )


@blp.route("/<string:device_id>/bms")
class BmsHistory(MethodView):
    @requires("device.read")
    @blp.arguments(BucketedRangeArgs, location="query")
    @blp.response(200, BmsHistorySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, device_id):
        """BMS samples of a device, raw or per bucket

        Raw: every sample with its cell voltages and temperatures. With `bucket`: per
        bucket, the sample count and min/avg/max of pack voltage, current, SOC, lowest
        and highest cell voltage and highest temperature.
        """
        params = _params(device_id, args)
        with connection() as conn:
            params = queries.held(conn, params)
            if args.get("bucket"):
                rows = queries.bms_buckets(conn, params)
            else:
                rows = conn.execute(queries.BMS_ROWS, params).fetchall()
        return _answer(device_id, args, rows)


@blp.route("/<string:device_id>/positions")
class PositionHistory(MethodView):
    @requires("device.read")
    @blp.arguments(PositionArgs, location="query")
    @blp.response(200, PositionHistorySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, device_id):
        """Trajectory of a device, or its last position per bucket

        Only valid fixes unless `valid_only=false`. With `bucket`, the answer is still
        positions (in `buckets`): the last fix of each bucket, with its own time.
        """
        params = _params(device_id, args, valid_only=args["valid_only"])
        query = queries.POSITION_BUCKETS if args.get("bucket") else queries.POSITION_ROWS
        with connection() as conn:
            params = queries.held(conn, params)
            rows = conn.execute(query, params).fetchall()
        return _answer(device_id, args, rows)


@blp.route("/<string:device_id>/can")
class CanHistory(MethodView):
    @requires("device.read")
    @blp.arguments(CanArgs, location="query")
    @blp.response(200, CanHistorySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, device_id):
        """Vehicle CAN signals of a device, raw or per bucket

        `signals=motor_rpm,speed_kmh` narrows each sample to those names (samples with
        none of them are left out). With `bucket`: per bucket, the sample count and
        min/avg/max/count of each numeric signal.
        """
        names = args.get("signals") or None
        params = _params(device_id, args, names=names)
        with connection() as conn:
            params = queries.held(conn, params)
            if args.get("bucket"):
                rows = queries.can_buckets(conn, params)
            else:
                rows = queries.can_rows(conn, params, names)
        return _answer(device_id, args, rows)


@blp.route("/<string:device_id>/events")
class EventHistory(MethodView):
    @requires("device.read")
    @blp.arguments(EventArgs, location="query")
    @blp.response(200, EventHistorySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, device_id):
        """Events a device reported (protection trips, boots, cut-offs, ...)"""
        params = _params(device_id, args, event_type=args.get("event_type"))
        with connection() as conn:
            params = queries.held(conn, params)
            rows = conn.execute(queries.EVENT_ROWS, params).fetchall()
        return _answer(device_id, args, rows)
