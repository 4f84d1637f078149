"""``/api/alarms``: list alarms, read one with its occurrences, resolve them, plot the signal
around one; and ``/api/alarm-mutes``, the alarm types a person does not want to see.

The rules engine in the worker raises, repeats and clears alarms; people only resolve them.
A caller sees and resolves the alarms of its own devices (its operator's subtree; a store's
account: its store's). Who resolves is the signed-in account's login. Mutes belong to the
signed-in account too: a mute hides its type from that account's list (and from webhooks
following that login), it changes nothing about the alarm itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.encoding import format_time
from cloud.http.paging import PAGE_SIZE, PagedQueryArgs, fetch_page
from cloud.http.problems import fail
from cloud.http.schemas import Blueprint
from cloud.identity import scope
from cloud.identity.guard import principal, requires
from cloud.rules import alarms as queries
from cloud.rules.catalogue import SIGNALS, TYPES
from cloud.rules.schemas.alarms import (
    MAX_ID,
    AlarmDetailSchema,
    AlarmListArgs,
    AlarmSchema,
    BatchResolvedSchema,
    BatchResolveSchema,
    CurveArgs,
    CurveSchema,
    MuteBodySchema,
    MuteSchema,
    NoArgs,
    OccurrenceWithSampleSchema,
    ResolveSchema,
)

blp = Blueprint("alarms", __name__, description="Alarms: list, resolve, curve, mutes")

# alarm_mute.operator holds the login of the account that muted the type.
LIST_MUTES = """
SELECT operator AS login, type, until, (until IS NULL OR until > now()) AS in_force, created_at
FROM alarm_mute WHERE operator = %s ORDER BY type
"""
PUT_MUTE = """
INSERT INTO alarm_mute (operator, type, until) VALUES (%s, %s, %s)
ON CONFLICT (operator, type) DO UPDATE SET until = EXCLUDED.until
RETURNING operator AS login, type, until, (until IS NULL OR until > now()) AS in_force,
          created_at
"""
DELETE_MUTE = "DELETE FROM alarm_mute WHERE operator = %s AND type = %s RETURNING type"


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "unit": queries.unit_of(row["type"])}


def _alarm(conn: psycopg.Connection, alarm_id: int) -> dict[str, Any]:
    row = None
    if alarm_id <= MAX_ID:
        params = scope.params(alarm_id=alarm_id, login=principal().login)
        row = conn.execute(queries.GET_ALARM, params).fetchone()
    if row is None:
        fail(404, f"no alarm {alarm_id}")
    return _shown(row)


@blp.route("/alarms")
class Alarms(MethodView):
    @requires("alarm.read")
    @blp.arguments(AlarmListArgs, location="query")
    @blp.response(200, AlarmSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List alarms, latest occurrence first

        The alarms of the caller's devices. Filter by `type` (repeatable), `state`,
        `active`, `severity`, `device_id`, `subject`, and by a time range: `from`/`to` keep
        the alarms whose life (first occurrence to now while it is open and active, else to
        its latest occurrence or clearing) overlaps it. The types the caller muted are left
        out unless `include_muted=true`. Pages of `page_size` (default 50, at most 500); the
        `X-Pagination` header gives the total.
        """
        params = scope.params(
            types=args.get("type") or None,
            **{key: args.get(key) for key in ("state", "active", "severity", "device_id")},
            subject=args.get("subject"),
            start=args.get("start"),
            end=args.get("end"),
            login=principal().login,
            hide_muted=not args["include_muted"],
        )
        with connection() as conn:
            rows = fetch_page(
                conn, queries.COUNT_ALARMS, queries.LIST_ALARMS, params, pagination_parameters
            )
        return [_shown(row) for row in rows]


@blp.route("/alarms/<int:alarm_id>")
class Alarm(MethodView):
    @requires("alarm.read")
    @blp.arguments(NoArgs, location="query")
    @blp.response(200, AlarmDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, _args, alarm_id):
        """Get an alarm with its latest occurrences and its lifecycle"""
        with connection() as conn:
            alarm = _alarm(conn, alarm_id)
            mine = scope.params(alarm_id=alarm_id)
            alarm["occurrences"] = conn.execute(
                queries.LATEST_OCCURRENCES, {**mine, "limit": queries.DETAIL_OCCURRENCES}
            ).fetchall()
            alarm["events"] = conn.execute(
                queries.LATEST_EVENTS, {**mine, "limit": queries.DETAIL_EVENTS}
            ).fetchall()
            alarm["event_count"] = conn.execute(queries.COUNT_EVENTS, mine).fetchone()["n"]
        return alarm


@blp.route("/alarms/<int:alarm_id>/occurrences")
class AlarmOccurrences(MethodView):
    @requires("alarm.read")
    @blp.arguments(PagedQueryArgs, location="query")
    @blp.response(200, OccurrenceWithSampleSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, _args, alarm_id, pagination_parameters):
        """List an alarm's occurrences, newest first, each with the sample that raised it"""
        mine = scope.params(alarm_id=alarm_id)
        with connection() as conn:  # the guard has answered 404 for another's alarm
            return fetch_page(
                conn,
                queries.COUNT_OCCURRENCES,
                queries.LIST_OCCURRENCES,
                mine,
                pagination_parameters,
            )


@blp.route("/alarms/<int:alarm_id>/resolve")
class AlarmResolve(MethodView):
    @requires("alarm.resolve")
    @blp.arguments(ResolveSchema)
    @blp.response(200, AlarmSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, alarm_id):
        """Resolve an open alarm

        `note` (required) says what was done; the caller's login is recorded as who
        resolved it. An alarm already resolved is a 409. If the condition still holds, the
        engine raises a new alarm at its next occurrence.
        """
        with connection() as conn:
            with conn.transaction():
                found = queries.lock(conn, [alarm_id] if alarm_id <= MAX_ID else [])
                if alarm_id not in found:
                    fail(404, f"no alarm {alarm_id}")
                resolved = queries.resolve(conn, found, principal().login, body["note"])
            if not resolved:
                was = _alarm(conn, alarm_id)
                fail(409, f"alarm {alarm_id} is already resolved (by {was['resolved_by']} at"
                          f" {format_time(was['resolved_at'])})")  # fmt: skip
            return _alarm(conn, alarm_id)


@blp.route("/alarms/resolve")
class AlarmsResolve(MethodView):
    @requires("alarm.resolve")
    @blp.arguments(BatchResolveSchema)
    @blp.response(200, BatchResolvedSchema)
    def post(self, body):
        """Resolve many alarms at once

        Name them with `alarm_ids` (every one must be an alarm of the caller's devices: a
        404 names the first that is not, and nothing is resolved), or select the caller's
        open ones with `filter` (`type`, `device_id`, `severity`, `active`; at least one).
        All in one transaction, with one `note`; the answer says for each id whether it was
        resolved now or was already resolved.
        """
        with connection() as conn, conn.transaction():
            if "alarm_ids" in body:
                ids = list(dict.fromkeys(body["alarm_ids"]))
                found = queries.lock(conn, ids)
                missing = next((i for i in ids if i not in found), None)
                if missing is not None:
                    fail(404, f"no alarm {missing}")
            else:
                ids = queries.open_alarm_ids(conn, body["filter"])
                found = dict.fromkeys(ids, "open")
            now = set(queries.resolve(conn, found, principal().login, body["note"]))
        results = [{"id": i, "result": "resolved" if i in now else "already_resolved"} for i in ids]
        return {
            "resolved": len(now),
            "already_resolved": len(ids) - len(now),
            "results": results,
        }


@blp.route("/alarms/<int:alarm_id>/curve")
class AlarmCurve(MethodView):
    @requires("alarm.read")
    @blp.arguments(CurveArgs, location="query")
    @blp.response(200, CurveSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def get(self, args, alarm_id):
        """The signal around an alarm

        From `before_s` before its first occurrence to `after_s` after it cleared (or
        after its latest occurrence); 1800 s each by default, at most 7 days. A BMS
        threshold: the type's signal with the device's effective `raise` and `clear`. A
        BMS protection: 1 while the BMS reported it, else 0. A fence: the positions. Past
        2000 samples each bucket keeps its lowest and highest (`bucket_s`). Types raised
        by events or by silence (offline) have no signal: a 409.
        """
        with connection() as conn:
            alarm = _alarm(conn, alarm_id)
            spec = queries.settings_of_device(conn, alarm["device_id"]).specs.get(alarm["type"])
            if spec is None or spec.source in ("event", "offline"):
                how = f"raised by {spec.source}" if spec else "not in the alarm catalogue"
                fail(409, f"alarm type {alarm['type']!r} is {how}: it has no signal to plot")
            end = max(alarm["latest_at"], alarm["cleared_at"] or alarm["latest_at"])
            params = scope.params(
                device_id=alarm["device_id"],
                alarm_id=alarm_id,
                subject=alarm["subject"],
                start=alarm["first_at"] - timedelta(seconds=args["before_s"]),
                end=end + timedelta(seconds=args["after_s"]),
                limit=queries.MAX_POINTS,
            )
            curve: dict[str, Any] = {
                "alarm_id": alarm_id, "device_id": alarm["device_id"], "type": alarm["type"],
                "subject": alarm["subject"], "source": spec.source, "signal": spec.signal,
                "unit": spec.unit, "high": None, "when": None, "raise_": None, "clear": None,
                "start": params["start"], "end": params["end"], "points": [], "positions": [],
            }  # fmt: skip
            if spec.source == "bms":
                curve |= {"high": spec.high, "when": spec.when, "raise_": spec.raise_,
                          "clear": spec.clear}  # fmt: skip
                curve["points"], bucket = queries.series(conn, SIGNALS[spec.signal], params)
            elif spec.source == "protection":
                curve["signal"] = alarm["subject"]
                curve["points"], bucket = queries.series(conn, queries.PROTECTION_FLAG, params)
            else:
                curve["positions"], bucket = queries.positions(conn, params)
            times = conn.execute(queries.OCCURRENCE_TIMES, params).fetchall()
        curve["bucket_s"] = int(bucket.total_seconds()) if bucket else None
        curve["occurrences"] = [row["time"] for row in times]
        return curve


@blp.route("/alarm-mutes")
class AlarmMutes(MethodView):
    @requires("alarm.read")
    @blp.arguments(NoArgs, location="query")
    @blp.response(200, MuteSchema(many=True))
    def get(self, _args):
        """List the alarm types the caller has muted"""
        with connection() as conn:
            return conn.execute(LIST_MUTES, (principal().login,)).fetchall()


@blp.route("/alarm-mutes/<string:alarm_type>")
class AlarmMute(MethodView):
    @requires("alarm.read")
    @blp.arguments(MuteBodySchema)
    @blp.response(200, MuteSchema)
    def put(self, body, alarm_type):
        """Mute an alarm type for the caller, until a time or for good

        Alarms of a muted type are left out of the caller's alarm list, and webhooks that
        follow the caller's login do not send them. Muting again replaces `until`.
        """
        if alarm_type not in TYPES:
            reason = f"unknown alarm type {alarm_type!r}; known: {', '.join(TYPES)}"
            fail(422, reason, errors=[{"field": "alarm_type", "in": "path", "reason": reason}])
        until = body["until"]
        if until is not None and until <= datetime.now(UTC):
            reason = "must be in the future (leave it out to mute for good)"
            fail(422, f"until: {reason}", errors=[
                {"field": "until", "in": "body", "reason": reason}
            ])  # fmt: skip
        with connection() as conn:
            return conn.execute(PUT_MUTE, (principal().login, alarm_type, until)).fetchone()

    @requires("alarm.read")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, alarm_type):
        """Unmute an alarm type for the caller"""
        who = principal().login
        with connection() as conn:
            if conn.execute(DELETE_MUTE, (who, alarm_type)).fetchone() is None:
                fail(404, f"{who!r} has not muted {alarm_type!r}")
