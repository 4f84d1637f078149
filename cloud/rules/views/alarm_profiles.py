"""``/api/alarm-types`` and ``/api/alarm-profiles``: the alarm catalogue and the thresholds
per device model (``cloud.rules.profiles``).

The fleet-wide profile (model ``''``) is at ``/api/alarm-profile``, since an empty path
segment names nothing. Anyone who may see alarms may read profiles; only the platform
operator's accounts with ``platform.alarm_profiles`` may change them.
"""

from __future__ import annotations

from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires
from cloud.rules import profiles
from cloud.rules.profiles import FLEET_WIDE
from cloud.rules.schemas.alarms import (
    AlarmTypeSchema,
    NoArgs,
    ProfileBodySchema,
    ProfileDetailSchema,
    ProfileSchema,
)

blp = Blueprint("alarm_profiles", __name__, description="Alarm thresholds per device model")


@blp.route("/alarm-types")
class AlarmTypes(MethodView):
    @requires("alarm.read")
    @blp.arguments(NoArgs, location="query")
    @blp.response(200, AlarmTypeSchema(many=True))
    def get(self, _args):
        """List the alarm types with their default settings per chemistry"""
        return profiles.alarm_types()


@blp.route("/alarm-profiles")
class AlarmProfiles(MethodView):
    @requires("alarm.read")
    @blp.arguments(NoArgs, location="query")
    @blp.response(200, ProfileSchema(many=True))
    def get(self, _args):
        """List the stored alarm profiles, by model ('' is the fleet-wide one)"""
        with connection() as conn:
            return profiles.listed(conn)


@blp.route("/alarm-profiles/<string:model>")
class AlarmProfile(MethodView):
    @requires("alarm.read")
    @blp.arguments(NoArgs, location="query")
    @blp.response(200, ProfileDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, _args, model):
        """Get a model's alarm profile and the settings it makes"""
        with connection() as conn:
            return profiles.get(conn, model)

    @requires("platform.alarm_profiles")
    @blp.arguments(ProfileBodySchema)
    @blp.response(200, ProfileDetailSchema)
    def put(self, document, model):
        """Set a model's alarm profile

        `chemistry` (LFP or NMC, default LFP) picks the defaults; `rules` maps an alarm
        type to the settings it overrides (`enabled`, `severity`, `auto_clear`, `raise`,
        `clear`, `dwell_s`, as the type has them; see `GET /api/alarm-types`). A refused
        document is a 422 naming the field.
        """
        with connection() as conn:
            return profiles.put(conn, model, document)

    @requires("platform.alarm_profiles")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, model):
        """Delete a model's alarm profile (its devices fall back to the fleet-wide one)"""
        with connection() as conn:
            profiles.delete(conn, model)


@blp.route("/alarm-profile")
class FleetAlarmProfile(MethodView):
    @requires("alarm.read")
    @blp.arguments(NoArgs, location="query")
    @blp.response(200, ProfileDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, _args):
        """Get the fleet-wide alarm profile and the settings it makes"""
        with connection() as conn:
            return profiles.get(conn, FLEET_WIDE)

    @requires("platform.alarm_profiles")
    @blp.arguments(ProfileBodySchema)
    @blp.response(200, ProfileDetailSchema)
    def put(self, document):
        """Set the fleet-wide alarm profile, for devices whose model has none

        The document is as for `PUT /api/alarm-profiles/{model}`.
        """
        with connection() as conn:
            return profiles.put(conn, FLEET_WIDE, document)

    @requires("platform.alarm_profiles")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self):
        """Delete the fleet-wide alarm profile (devices fall back to the built-in defaults)"""
        with connection() as conn:
            profiles.delete(conn, FLEET_WIDE)
