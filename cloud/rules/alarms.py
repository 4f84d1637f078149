"""The SQL behind the alarms endpoints: listing, resolving, and the curve around an alarm.

Resolving writes the alarm row first and its 'resolved' ``alarm_event`` second, in one
transaction, as the rules engine does for every step: notifications are made from the
events (a trigger), and each must see the alarm as that event left it.

The curve reads the type's signal straight from ``bms_sample`` with the catalogue's SQL
(``SIGNALS``); when the window holds more than ``MAX_POINTS`` samples it keeps, per
``date_bin`` bucket, the lowest and the highest, so a spike survives the thinning. Plain
PostgreSQL 14+ throughout (TimescaleDB reads it the same).

Every query keeps to the caller's devices (``cloud.identity.scope``; row-level security is the
second wall), so its parameters are named and include ``scope.params()``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from cloud.identity import scope
from cloud.rules.catalogue import (
    DEFAULT_CHEMISTRY,
    DEFAULTS,
    ProfileError,
    Settings,
    check_profile,
    settings_for,
)

MAX_POINTS = 2000
DETAIL_OCCURRENCES = 20
DETAIL_EVENTS = 200

_ALARM_END = scope.alarm_end("a")
# alarm_mute.operator holds the login of the account that muted the type.
_MUTED = """EXISTS (
    SELECT 1 FROM alarm_mute m
    WHERE m.operator = %(login)s AND m.type = a.type AND (m.until IS NULL OR m.until > now()))
"""
# Every filter is optional: a NULL parameter switches its condition off.
_FILTER = f"""
WHERE {scope.alarm("a")}
  AND (%(types)s::text[] IS NULL OR a.type = ANY(%(types)s::text[]))
  AND (%(state)s::text IS NULL OR a.state = %(state)s)
  AND (%(active)s::boolean IS NULL OR a.active = %(active)s)
  AND (%(severity)s::text IS NULL OR a.severity = %(severity)s)
  AND (%(device_id)s::text IS NULL OR a.device_id = %(device_id)s)
  AND (%(subject)s::text IS NULL OR a.subject = %(subject)s)
  AND (%(end)s::timestamptz IS NULL OR a.first_at < %(end)s)
  AND (%(start)s::timestamptz IS NULL OR {_ALARM_END} >= %(start)s)
  AND (NOT %(hide_muted)s OR NOT {_MUTED})
"""
_SELECT = f"SELECT a.*, {_MUTED} AS muted FROM alarm a "
LIST_ALARMS = (
    _SELECT + _FILTER + "ORDER BY a.latest_at DESC, a.id DESC LIMIT %(limit)s OFFSET %(offset)s"
)
COUNT_ALARMS = "SELECT count(*) AS n FROM alarm a" + _FILTER
# an alarm that ended before its device came to the caller's subtree stays its old owner's
_MINE = f"a.id = %(alarm_id)s AND {scope.alarm('a')}"
GET_ALARM = _SELECT + "WHERE " + _MINE
# For the alarm's own rows (occurrences, events): the alarm is one of the caller's.
_OF_MINE = f"alarm_id = %(alarm_id)s AND EXISTS (SELECT 1 FROM alarm a WHERE {_MINE})"
# ... and of its occurrences and events, those of the caller's periods
_ALARM_PERIODS = scope.periods("(SELECT a.device_id FROM alarm a WHERE a.id = %(alarm_id)s)")
_OCCURRENCES_OF_MINE = f"{_OF_MINE} AND time <@ {_ALARM_PERIODS}"
_EVENTS_OF_MINE = f"{_OF_MINE} AND at <@ {_ALARM_PERIODS}"

OCCURRENCE_COLUMNS = "n, time, received_at, value, threshold, resent"
LATEST_OCCURRENCES = f"""
SELECT {OCCURRENCE_COLUMNS} FROM alarm_occurrence WHERE {_OCCURRENCES_OF_MINE}
ORDER BY n DESC LIMIT %(limit)s
"""
COUNT_OCCURRENCES = f"SELECT count(*) AS n FROM alarm_occurrence WHERE {_OCCURRENCES_OF_MINE}"
LIST_OCCURRENCES = f"""
SELECT {OCCURRENCE_COLUMNS}, sample FROM alarm_occurrence WHERE {_OCCURRENCES_OF_MINE}
ORDER BY n DESC LIMIT %(limit)s OFFSET %(offset)s
"""
LATEST_EVENTS = f"""
SELECT * FROM (
    SELECT id, event, at, time, resent, by, note FROM alarm_event
    WHERE {_EVENTS_OF_MINE} ORDER BY id DESC LIMIT %(limit)s
) AS latest ORDER BY id
"""
COUNT_EVENTS = f"SELECT count(*) AS n FROM alarm_event WHERE {_EVENTS_OF_MINE}"

# Rows are locked in the order the rules engine writes alarms (lifecycle.apply sorts its
# transitions by device, type and subject, compared as Python compares strings: COLLATE "C"),
# so resolving many alarms while a worker updates some of them never makes a deadlock.
_LOCK_ORDER = 'ORDER BY device_id COLLATE "C", type COLLATE "C", subject COLLATE "C", id'
LOCK_BY_IDS = f"""
SELECT id, state FROM alarm a WHERE id = ANY(%(ids)s) AND {scope.alarm("a")}
{_LOCK_ORDER} FOR UPDATE
"""
LOCK_BY_FILTER = f"""
SELECT id, state FROM alarm a
WHERE state = 'open' AND {scope.alarm("a")}
  AND (%(type)s::text IS NULL OR type = %(type)s)
  AND (%(device_id)s::text IS NULL OR device_id = %(device_id)s)
  AND (%(severity)s::text IS NULL OR severity = %(severity)s)
  AND (%(active)s::boolean IS NULL OR active = %(active)s)
{_LOCK_ORDER}
FOR UPDATE
"""
RESOLVE = f"""
UPDATE alarm SET state = 'resolved', resolved_at = now(), resolved_by = %(by)s,
                 resolution_note = %(note)s, updated_at = now()
WHERE id = ANY(%(ids)s) AND state = 'open' AND {scope.device_id("device_id")}
RETURNING id
"""
RESOLVED_EVENTS = """
INSERT INTO alarm_event (alarm_id, event, by, note)
SELECT id, 'resolved', %(by)s, %(note)s FROM unnest(%(ids)s::bigint[]) AS id ORDER BY id
"""

# The profiles that may apply to a device: its model's first, then the fleet-wide one ('').
DEVICE_PROFILES = f"""
SELECT p.profile FROM device d JOIN alarm_profile p ON p.model IN (d.model, '')
WHERE d.id = %(device_id)s AND {scope.device("d")}
ORDER BY p.model = ''
"""
OCCURRENCE_TIMES = f"""
SELECT time FROM alarm_occurrence
WHERE {_OCCURRENCES_OF_MINE} AND time BETWEEN %(start)s AND %(end)s
ORDER BY time LIMIT %(limit)s
"""
# {value} is an expression over a bms_sample row: the catalogue's SIGNALS, or a protection flag
# (not an f-string: sql.SQL.format() fills it).
_SERIES = (
    """
SELECT time, seq, ({value}) AS value FROM bms_sample
WHERE device_id = %(device_id)s AND time BETWEEN %(start)s AND %(end)s
  AND ({value}) IS NOT NULL AND """
    + scope.device_id("device_id")
    + " AND time <@ "
    + scope.periods()
    + "\n"
)
COUNT_SERIES = "SELECT count(*) AS n FROM (" + _SERIES + ") AS series"
SERIES = _SERIES + "ORDER BY time, seq"
# Each bucket's lowest and highest, at their own times (one point if they are the same).
SERIES_BUCKETS = (
    """
SELECT time, value FROM (
    SELECT time, seq, value,
           row_number() OVER (PARTITION BY bucket ORDER BY value, time, seq) AS low,
           row_number() OVER (PARTITION BY bucket ORDER BY value DESC, time, seq) AS high
    FROM (SELECT date_bin(%(bucket)s, time, TIMESTAMPTZ 'epoch') AS bucket, * FROM ("""
    + _SERIES
    + """) AS series) AS binned
) AS ranked
WHERE low = 1 OR high = 1
ORDER BY time, seq
"""
)
PROTECTION_FLAG = "(%(subject)s = ANY(protection))::integer"

_POSITIONS = f"""
SELECT time, seq, lat, lon FROM position
WHERE device_id = %(device_id)s AND time BETWEEN %(start)s AND %(end)s AND valid
  AND {scope.device_id("device_id")} AND time <@ {scope.periods()}
"""
COUNT_POSITIONS = "SELECT count(*) AS n FROM (" + _POSITIONS + ") AS fixes"
POSITIONS = "SELECT time, lat, lon FROM (" + _POSITIONS + ") AS fixes ORDER BY time, seq"
# A trajectory thinned to the last fix of each bucket.
POSITION_BUCKETS = (
    """
SELECT time, lat, lon FROM (
    SELECT DISTINCT ON (bucket) time, seq, lat, lon
    FROM (SELECT date_bin(%(bucket)s, time, TIMESTAMPTZ 'epoch') AS bucket, * FROM ("""
    + _POSITIONS
    + """) AS fixes) AS binned
    ORDER BY bucket, time DESC, seq DESC
) AS last_of_bucket
ORDER BY time, seq
"""
)


def lock(conn: psycopg.Connection, ids: Sequence[int]) -> dict[int, str]:
    """Lock the caller's alarms among ``ids`` (in the caller's transaction); the state of
    each one found. Ids of other operators' alarms are not found, like missing ones."""
    rows = conn.execute(LOCK_BY_IDS, scope.params(ids=list(ids)))
    return {row["id"]: row["state"] for row in rows}


def resolve(conn: psycopg.Connection, found: dict[int, str], by: str, note: str) -> list[int]:
    """Resolve the open ones of the alarms ``lock()`` found (in the caller's transaction);
    the ids resolved now."""
    params = scope.params(ids=[i for i in found if found[i] == "open"], by=by, note=note)
    if not params["ids"]:
        return []
    resolved = sorted(row["id"] for row in conn.execute(RESOLVE, params))
    conn.execute(RESOLVED_EVENTS, {**params, "ids": resolved})
    return resolved


def open_alarm_ids(conn: psycopg.Connection, wanted: dict[str, Any]) -> list[int]:
    """Ids of the caller's open alarms a batch filter selects, locked (in the caller's
    transaction)."""
    params = scope.params(**{k: wanted.get(k) for k in ("type", "device_id", "severity", "active")})
    return sorted(row["id"] for row in conn.execute(LOCK_BY_FILTER, params))


def settings_of_device(conn: psycopg.Connection, device_id: str) -> Settings:
    """The effective alarm settings of a device, as the engine picks them: its model's
    profile, else the fleet-wide one, else the defaults; a profile the catalogue refuses
    (stored before a type was retired, say) is passed over, as the engine does."""
    for row in conn.execute(DEVICE_PROFILES, scope.params(device_id=device_id)):
        try:
            return settings_for(check_profile(row["profile"]))
        except ProfileError:
            continue
    return settings_for(None)


def unit_of(type_: str) -> str:
    """The unit of an alarm type's value and threshold ('' for an unknown type)."""
    spec = DEFAULTS[DEFAULT_CHEMISTRY].get(type_)
    return spec.unit if spec else ""


def bucket_for(start: datetime, end: datetime) -> timedelta:
    """A bucket length giving at most MAX_POINTS / 2 buckets over [start, end] (two points
    each), in whole seconds."""
    span = (end - start).total_seconds()
    return timedelta(seconds=max(1, math.ceil(span / (MAX_POINTS // 2))))


def series(
    conn: psycopg.Connection, value: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], timedelta | None]:
    """Points ``{time, value}`` of an expression over the device's BMS samples in the window,
    thinned to each bucket's extremes past MAX_POINTS; and the bucket (None: every sample).

    ``value`` is SQL from the catalogue or this module, never from a request.
    """
    expression = sql.SQL(value)  # type: ignore[arg-type]

    def query(template: str) -> sql.Composed:
        return sql.SQL(template).format(value=expression)  # type: ignore[arg-type]

    total = conn.execute(query(COUNT_SERIES), params).fetchone()["n"]
    if total <= MAX_POINTS:
        rows = conn.execute(query(SERIES), params).fetchall()
        return [{"time": r["time"], "value": r["value"]} for r in rows], None
    bucket = bucket_for(params["start"], params["end"])
    rows = conn.execute(query(SERIES_BUCKETS), {**params, "bucket": bucket}).fetchall()
    return rows, bucket


def positions(
    conn: psycopg.Connection, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], timedelta | None]:
    """Valid fixes of the device in the window, thinned to the last one per bucket past
    MAX_POINTS; and the bucket (None: every fix)."""
    total = conn.execute(COUNT_POSITIONS, params).fetchone()["n"]
    if total <= MAX_POINTS:
        return conn.execute(POSITIONS, params).fetchall(), None
    bucket = bucket_for(params["start"], params["end"])
    return conn.execute(POSITION_BUCKETS, {**params, "bucket": bucket}).fetchall(), bucket
