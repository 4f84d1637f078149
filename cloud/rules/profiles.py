"""Alarm profiles: the thresholds per device model, stored as the catalogue normalises them.

A profile names the cell chemistry of a model and overrides any setting of any type; model
``FLEET_WIDE`` (``''``) is the fleet-wide profile, for devices whose model has none. Every
document is checked by the catalogue's ``check_profile``, the same code the worker trusts;
the worker reloads profiles when the table changes (a trigger moves
``rule_config_version``). Profiles are platform settings, the same for the whole fleet
whichever operator a device belongs to. The editor is the caller's login.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from cloud.errors import Invalid, NotFound
from cloud.identity.guard import principal
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
from cloud.rules.schemas.alarms import MAX_NAME

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


def alarm_types() -> list[dict[str, Any]]:
    """Every alarm type with its default settings per chemistry (AlarmTypeSchema)."""
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


def listed(conn: psycopg.Connection[DictRow]) -> list[dict[str, Any]]:
    """The stored profiles, by model."""
    return conn.execute(LIST_PROFILES).fetchall()


def get(conn: psycopg.Connection[DictRow], model: str) -> dict[str, Any]:
    """A model's profile with the settings it makes; a 404 saying what applies instead."""
    row = conn.execute(GET_PROFILE, (model,)).fetchone()
    if row is None:
        raise NotFound(_missing(model))
    return _with_effective(row)


def put(conn: psycopg.Connection[DictRow], model: str, document: dict[str, Any]) -> dict[str, Any]:
    """Set a model's profile, checked by the catalogue (a 422 naming the field at fault)."""
    if len(model) > MAX_NAME:
        reason = f"a device model has at most {MAX_NAME} characters"
        raise Invalid(
            f"model: {reason}", errors=[{"field": "model", "in": "path", "reason": reason}]
        )
    try:
        profile = check_profile(document)
    except ProfileError as err:
        raise Invalid(
            str(err), errors=[{"field": err.field, "in": "body", "reason": err.reason}]
        ) from None
    row = conn.execute(PUT_PROFILE, (model, Jsonb(profile), principal().login)).fetchone()
    assert row is not None  # an upsert's RETURNING
    return _with_effective(row)


def delete(conn: psycopg.Connection[DictRow], model: str) -> None:
    """Delete a model's profile; a 404 if it has none."""
    if conn.execute(DELETE_PROFILE, (model,)).fetchone() is None:
        raise NotFound(_missing(model))


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
