"""The signal around an alarm, for its curve: the type's signal, a protection flag or the
positions, from before its first occurrence to after it cleared.

The curve reads the type's signal straight from ``bms_sample`` with the catalogue's SQL
(``SIGNALS``); when the window holds more than ``MAX_POINTS`` samples it keeps, per
``date_bin`` bucket, the lowest and the highest, so a spike survives the thinning. Plain
PostgreSQL 14+ throughout (TimescaleDB reads it the same). Every query keeps to the caller's
devices and the periods its subtree held them (``cloud.identity.scope``).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow

from cloud.errors import Conflict
from cloud.identity import scope
from cloud.rules.alarms import OCCURRENCE_TIMES
from cloud.rules.catalogue import SIGNALS, ProfileError, Settings, check_profile, settings_for

MAX_POINTS = 2000

# The profiles that may apply to a device: its model's first, then the fleet-wide one ('').
DEVICE_PROFILES = f"""
SELECT p.profile FROM device d JOIN alarm_profile p ON p.model IN (d.model, '')
WHERE d.id = %(device_id)s AND {scope.device("d")}
ORDER BY p.model = ''
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


def curve(
    conn: psycopg.Connection[DictRow], alarm: dict[str, Any], before: timedelta, after: timedelta
) -> dict[str, Any]:
    """The curve of the caller's ``alarm`` (a row of ``alarms.get``) from ``before`` its
    first occurrence to ``after`` it cleared or last occurred (CurveSchema); a 409 for a
    type raised by events or by silence, which has no signal."""
    spec = settings_of_device(conn, alarm["device_id"]).specs.get(alarm["type"])
    if spec is None or spec.source in ("event", "offline"):
        how = f"raised by {spec.source}" if spec else "not in the alarm catalogue"
        raise Conflict(f"alarm type {alarm['type']!r} is {how}: it has no signal to plot")
    end = max(alarm["latest_at"], alarm["cleared_at"] or alarm["latest_at"])
    params = scope.params(
        device_id=alarm["device_id"],
        alarm_id=alarm["id"],
        subject=alarm["subject"],
        start=alarm["first_at"] - before,
        end=end + after,
        limit=MAX_POINTS,
    )
    drawn: dict[str, Any] = {
        "alarm_id": alarm["id"], "device_id": alarm["device_id"], "type": alarm["type"],
        "subject": alarm["subject"], "source": spec.source, "signal": spec.signal,
        "unit": spec.unit, "high": None, "when": None, "raise_": None, "clear": None,
        "start": params["start"], "end": params["end"], "points": [], "positions": [],
    }  # fmt: skip
    if spec.source == "bms":
        drawn |= {"high": spec.high, "when": spec.when, "raise_": spec.raise_,
                  "clear": spec.clear}  # fmt: skip
        assert spec.signal is not None  # a BMS threshold compares a signal
        drawn["points"], bucket = series(conn, SIGNALS[spec.signal], params)
    elif spec.source == "protection":
        drawn["signal"] = alarm["subject"]
        drawn["points"], bucket = series(conn, PROTECTION_FLAG, params)
    else:
        drawn["positions"], bucket = positions(conn, params)
    times = conn.execute(OCCURRENCE_TIMES, params).fetchall()
    drawn["bucket_s"] = int(bucket.total_seconds()) if bucket else None
    drawn["occurrences"] = [row["time"] for row in times]
    return drawn


def settings_of_device(conn: psycopg.Connection[DictRow], device_id: str) -> Settings:
    """The effective alarm settings of a device, as the engine picks them: its model's
    profile, else the fleet-wide one, else the defaults; a profile the catalogue refuses
    (stored before a type was retired, say) is passed over, as the engine does."""
    for row in conn.execute(DEVICE_PROFILES, scope.params(device_id=device_id)):
        try:
            return settings_for(check_profile(row["profile"]))
        except ProfileError:
            continue
    return settings_for(None)


def bucket_for(start: datetime, end: datetime) -> timedelta:
    """A bucket length giving at most MAX_POINTS / 2 buckets over [start, end] (two points
    each), in whole seconds."""
    span = (end - start).total_seconds()
    return timedelta(seconds=max(1, math.ceil(span / (MAX_POINTS // 2))))


def series(
    conn: psycopg.Connection[DictRow], value: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], timedelta | None]:
    """Points ``{time, value}`` of an expression over the device's BMS samples in the window,
    thinned to each bucket's extremes past MAX_POINTS; and the bucket (None: every sample).

    ``value`` is SQL from the catalogue or this module, never from a request.
    """
    expression = sql.SQL(value)  # type: ignore[arg-type]

    def query(template: str) -> sql.Composed:
        return sql.SQL(template).format(value=expression)  # type: ignore[arg-type]

    counted = conn.execute(query(COUNT_SERIES), params).fetchone()
    assert counted is not None  # count(*)
    total = counted["n"]
    if total <= MAX_POINTS:
        rows = conn.execute(query(SERIES), params).fetchall()
        return [{"time": r["time"], "value": r["value"]} for r in rows], None
    bucket = bucket_for(params["start"], params["end"])
    rows = conn.execute(query(SERIES_BUCKETS), {**params, "bucket": bucket}).fetchall()
    return rows, bucket


def positions(
    conn: psycopg.Connection[DictRow], params: dict[str, Any]
) -> tuple[list[dict[str, Any]], timedelta | None]:
    """Valid fixes of the device in the window, thinned to the last one per bucket past
    MAX_POINTS; and the bucket (None: every fix)."""
    counted = conn.execute(COUNT_POSITIONS, params).fetchone()
    assert counted is not None  # count(*)
    total = counted["n"]
    if total <= MAX_POINTS:
        return conn.execute(POSITIONS, params).fetchall(), None
    bucket = bucket_for(params["start"], params["end"])
    return conn.execute(POSITION_BUCKETS, {**params, "bucket": bucket}).fetchall(), bucket
