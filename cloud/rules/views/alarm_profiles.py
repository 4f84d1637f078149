"""``/api/alarm-types`` and ``/api/alarm-profiles``: the alarm catalogue and the thresholds
per device model.

A profile names the cell chemistry of a model and overrides any setting of any type; model
``''`` is the fleet-wide profile, for devices whose model has none (at ``/api/alarm-profile``,
since an empty path segment names nothing). Every document is checked by the catalogue's
``check_profile``, the same code the worker trusts, and stored as it normalises it; the
worker reloads profiles when the table changes (a trigger moves ``rule_config_version``).

Profiles are platform settings, the same for the whole fleet whichever operator a device
belongs to: anyone who may see alarms may read them, only the platform operator's accounts
with ``platform.alarm_profiles`` may change them. The editor is the caller's login.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from psycopg.types.json import Jsonb

from cloud.http.db import connection
from cloud.http.problems import fail
from cloud.http.schemas import Blueprint
from cloud.identity.guard import principal, requires
from cloud.rules.catalogue import (
    CHEMISTRIES,
    DEFAULT_CHEMISTRY,
    DEFAULTS,
    TYPES,
    ProfileError,
    check_profile,
    describe,
    settings_for,
)
from cloud.rules.schemas.alarms import (
    MAX_NAME,
    AlarmTypeSchema,
    NoArgs,
    ProfileBodySchema,
    ProfileDetailSchema,
    ProfileSchema,
)

blp = Blueprint("alarm_profiles", __name__, description="Alarm thresholds per device model")

FLEET_WIDE = ""
LIST_PROFILES = "SELECT model, profile, updated_at, updated_by FROM alarm_profile ORDER BY model"
GET_PROFILE = "SELECT model, profile, updated_at, updated_by FROM alarm_profile WHERE model = %s"
PUT_PROFILE = """
INSERT INTO alarm_profile (model, profile, updated_by) VALUES (%s, %s, %s)
ON CONFLICT (model) DO UPDATE
SET profile = EXCLUDED.profile, updated_at = now(), updated_by = EXCLUDED.updated_by
RETURNING model, profile, updated_at, updated_by
"""
DELETE_PROFILE = "DELETE FROM alarm_profile WHERE model = %s RETURNING model"


def _missing(model: str) -> str:
    if model == FLEET_WIDE:
        return "no fleet-wide alarm profile: devices whose model has none use the built-in defaults"
    return (
        f"no alarm profile for model {model!r}: its devices use the fleet-wide profile if there"
        " is one, else the built-in defaults"
    )


def _with_effective(row: dict[str, Any]) -> dict[str, Any]:
    try:
        settings = settings_for(check_profile(row["profile"]))
    except ProfileError:
        # stored before the catalogue changed (a type retired, say): the engine passes over it
        return {**row, "effective": None}
    rules = {type_: describe(spec) for type_, spec in settings.specs.items()}
    return {**row, "effective": {"chemistry": settings.chemistry, "rules": rules}}


def _get(model: str) -> dict[str, Any]:
    with connection() as conn:
        row = conn.execute(GET_PROFILE, (model,)).fetchone()
    if row is None:
        fail(404, _missing(model))
    return _with_effective(row)


def _put(model: str, document: dict[str, Any]) -> dict[str, Any]:
    if len(model) > MAX_NAME:
        reason = f"a device model has at most {MAX_NAME} characters"
        fail(422, f"model: {reason}", errors=[{"field": "model", "in": "path", "reason": reason}])
    try:
        profile = check_profile(document)
    except ProfileError as err:
        fail(422, str(err), errors=[{"field": err.field, "in": "body", "reason": err.reason}])
    with connection() as conn:
        row = conn.execute(PUT_PROFILE, (model, Jsonb(profile), principal().login)).fetchone()
    return _with_effective(row)


def _delete(model: str) -> None:
    with connection() as conn:
        if conn.execute(DELETE_PROFILE, (model,)).fetchone() is None:
            fail(404, _missing(model))


@blp.route("/alarm-types")
class AlarmTypes(MethodView):
    @requires("alarm.read")
    @blp.arguments(NoArgs, location="query")
    @blp.response(200, AlarmTypeSchema(many=True))
    def get(self, _args):
        """List the alarm types with their default settings per chemistry"""
        return [
            {
                "type": type_,
                "source": DEFAULTS[DEFAULT_CHEMISTRY][type_].source,
                "description": DEFAULTS[DEFAULT_CHEMISTRY][type_].description,
                "unit": DEFAULTS[DEFAULT_CHEMISTRY][type_].unit,
                "defaults": {c: describe(DEFAULTS[c][type_]) for c in CHEMISTRIES},
            }
            for type_ in TYPES
        ]


@blp.route("/alarm-profiles")
class AlarmProfiles(MethodView):
    @requires("alarm.read")
    @blp.arguments(NoArgs, location="query")
    @blp.response(200, ProfileSchema(many=True))
    def get(self, _args):
        """List the stored alarm profiles, by model ('' is the fleet-wide one)"""
        with connection() as conn:
            return conn.execute(LIST_PROFILES).fetchall()


@blp.route("/alarm-profiles/<string:model>")
class AlarmProfile(MethodView):
    @requires("alarm.read")
    @blp.arguments(NoArgs, location="query")
    @blp.response(200, ProfileDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, _args, model):
        """Get a model's alarm profile and the settings it makes"""
        return _get(model)

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
        return _put(model, document)

    @requires("platform.alarm_profiles")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, model):
        """Delete a model's alarm profile (its devices fall back to the fleet-wide one)"""
        _delete(model)


@blp.route("/alarm-profile")
class FleetAlarmProfile(MethodView):
    @requires("alarm.read")
    @blp.arguments(NoArgs, location="query")
    @blp.response(200, ProfileDetailSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, _args):
        """Get the fleet-wide alarm profile and the settings it makes"""
        return _get(FLEET_WIDE)

    @requires("platform.alarm_profiles")
    @blp.arguments(ProfileBodySchema)
    @blp.response(200, ProfileDetailSchema)
    def put(self, document):
        """Set the fleet-wide alarm profile, for devices whose model has none

        The document is as for `PUT /api/alarm-profiles/{model}`.
        """
        return _put(FLEET_WIDE, document)

    @requires("platform.alarm_profiles")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self):
        """Delete the fleet-wide alarm profile (devices fall back to the built-in defaults)"""
        _delete(FLEET_WIDE)
