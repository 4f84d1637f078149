"""``/api/alarms``: list alarms, read one with its occurrences, resolve them, plot the signal
around one; and ``/api/alarm-mutes``, the alarm types a person does not want to see.

The rules engine in the worker raises, repeats and clears alarms; people only resolve them.
A caller sees and resolves the alarms of its own devices (its operator's subtree; a store's
account: its store's). Who resolves is the signed-in account's login. Mutes belong to the
signed-in account too: a mute hides its type from that account's list (and from webhooks
following that login), it changes nothing about the alarm itself.
"""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE, PagedQueryArgs
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires
from cloud.rules import alarms, curves, mutes
from cloud.rules.schemas.alarms import (
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


@blp.route("/alarms")
class Alarms(MethodView):
    @requires("alarm.read")
    @blp.arguments(AlarmListArgs, location="query")
    @blp.response(200, AlarmSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List alarms, latest occurrence first

        The alarms of the caller's devices. Filter by `type` (repeatable), `state`,
        `active`, `severity`, `device_id`, `store_id` (the devices now in that store),
        `subject`, and by a time range: `from`/`to` keep
        the alarms whose life (first occurrence to now while it is open and active, else to
        its latest occurrence or clearing) overlaps it. The types the caller muted are left
        out unless `include_muted=true`. Pages of `page_size` (default 50, at most 500); the
        `X-Pagination` header gives the total.
        """
        with connection() as conn:
            return alarms.page(conn, args, pagination_parameters)


@blp.route("/alarms/<int:alarm_id>")
class Alarm(MethodView):
    @requires("alarm.read")
    @blp.arguments(NoArgs, location="query")
    @blp.response(200, AlarmDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, _args, alarm_id):
        """Get an alarm with its latest occurrences and its lifecycle"""
        with connection() as conn:
            return alarms.detail(conn, alarm_id)


@blp.route("/alarms/<int:alarm_id>/occurrences")
class AlarmOccurrences(MethodView):
    @requires("alarm.read")
    @blp.arguments(PagedQueryArgs, location="query")
    @blp.response(200, OccurrenceWithSampleSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, _args, alarm_id, pagination_parameters):
        """List an alarm's occurrences, newest first, each with the sample that raised it"""
        with connection() as conn:  # the guard has answered 404 for another's alarm
            return alarms.occurrences(conn, alarm_id, pagination_parameters)


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
            return alarms.resolve_one(conn, alarm_id, body["note"])


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
        with connection() as conn:
            return alarms.resolve_many(conn, body)


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
        before, after = timedelta(seconds=args["before_s"]), timedelta(seconds=args["after_s"])
        with connection() as conn:
            return curves.curve(conn, alarms.get(conn, alarm_id), before, after)


@blp.route("/alarm-mutes")
class AlarmMutes(MethodView):
    @requires("alarm.read")
    @blp.arguments(NoArgs, location="query")
    @blp.response(200, MuteSchema(many=True))
    def get(self, _args):
        """List the alarm types the caller has muted"""
        with connection() as conn:
            return mutes.listed(conn)


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
        with connection() as conn:
            return mutes.mute(conn, alarm_type, body["until"])

    @requires("alarm.read")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, alarm_type):
        """Unmute an alarm type for the caller"""
        with connection() as conn:
            mutes.unmute(conn, alarm_type)
