"""The time-series queries behind the history endpoints.

Every query reads one device over ``[start, end)``, in time order, and asks for one row
more than the limit so the caller can tell a cut answer from a complete one. Buckets use
``date_bin(interval, time, TIMESTAMPTZ 'epoch')``: plain PostgreSQL 14+ and TimescaleDB
alike, buckets aligned to the Unix epoch (so a day is a UTC day).

Every query also checks that the device is the caller's (``cloud.identity.scope``): on
TimescaleDB the time-series tables have no row-level security, so this is the one wall
there. The check is an uncorrelated EXISTS, computed once per query, not per row; its
parameters come from ``scope.params()``.

A device's history is the caller's only for the periods its subtree held the device:
``held()`` narrows ``[start, end)`` to them first, so the index reads those times alone and
the plan is the one of a plain range (a device that never changed hands: the range as
asked). Only periods with a gap between them (a device that left and came back) add a
per-row test.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from cloud.identity import scope

# The device named by %(device_id)s is the caller's.
_MINE = f"EXISTS (SELECT 1 FROM device sd WHERE sd.id = %(device_id)s AND {scope.device('sd')})"
# ... and only the times the caller's subtree held it (a transfer or a re-registered id
# does not hand an earlier owner's samples on): [start, end) is narrowed to them by held();
# with a gap between them, %(periods)s holds them and each row is tested too (NULL when
# there is no gap: the test is folded away).
_RANGE = (
    f"device_id = %(device_id)s AND time >= %(start)s AND time < %(end)s AND {_MINE}"
    " AND (%(periods)s::tstzmultirange IS NULL OR time <@ %(periods)s::tstzmultirange)"
)
PERIODS = f"SELECT {scope.periods()} AS periods"

BMS_ROWS = f"""
SELECT time, seq, received_at, pack_voltage_v, current_a, soc_percent, cell_voltages_v,
       temperatures_c, cell_min_v, cell_max_v, temperature_min_c, temperature_max_c,
       charge_mos, discharge_mos, remaining_ah, full_capacity_ah, cycles, protection,
       balancing, resent
FROM bms_sample
WHERE {_RANGE}
ORDER BY time, seq
LIMIT %(limit)s
"""

# avg(real) is double precision; cast back so 3.3 does not come out as 3.299999952316284.
BMS_BUCKETS = f"""
SELECT date_bin(%(bucket)s, time, TIMESTAMPTZ 'epoch') AS time,
       count(*)::integer AS samples,
       min(pack_voltage_v) AS pack_voltage_v_min, avg(pack_voltage_v)::real AS pack_voltage_v_avg,
       max(pack_voltage_v) AS pack_voltage_v_max,
       min(current_a) AS current_a_min, avg(current_a)::real AS current_a_avg,
       max(current_a) AS current_a_max,
       min(soc_percent) AS soc_percent_min, avg(soc_percent)::real AS soc_percent_avg,
       max(soc_percent) AS soc_percent_max,
       min(cell_min_v) AS cell_min_v_min, avg(cell_min_v)::real AS cell_min_v_avg,
       max(cell_min_v) AS cell_min_v_max,
       min(cell_max_v) AS cell_max_v_min, avg(cell_max_v)::real AS cell_max_v_avg,
       max(cell_max_v) AS cell_max_v_max,
       min(temperature_max_c) AS temperature_max_c_min,
       avg(temperature_max_c)::real AS temperature_max_c_avg,
       max(temperature_max_c) AS temperature_max_c_max
FROM bms_sample
WHERE {_RANGE}
GROUP BY 1
ORDER BY 1
LIMIT %(limit)s
"""
BMS_BUCKET_QUANTITIES = (
    "pack_voltage_v",
    "current_a",
    "soc_percent",
    "cell_min_v",
    "cell_max_v",
    "temperature_max_c",
)

POSITION_ROWS = f"""
SELECT time, seq, lat, lon, speed_kmh, course_deg, valid
FROM position
WHERE {_RANGE}
  AND (valid OR NOT %(valid_only)s)
ORDER BY time, seq
LIMIT %(limit)s
"""

# The last fix of each bucket: a trajectory thinned to one point per bucket.
POSITION_BUCKETS = f"""
SELECT time, seq, lat, lon, speed_kmh, course_deg, valid
FROM (
    SELECT DISTINCT ON (bucket) time, seq, lat, lon, speed_kmh, course_deg, valid
    FROM (
        SELECT date_bin(%(bucket)s, time, TIMESTAMPTZ 'epoch') AS bucket, *
        FROM position
        WHERE {_RANGE}
          AND (valid OR NOT %(valid_only)s)
    ) AS binned
    ORDER BY bucket, time DESC, seq DESC
) AS last_of_bucket
ORDER BY time, seq
LIMIT %(limit)s
"""

# With names, only samples carrying at least one of them (?| : any of these keys).
CAN_ROWS = f"""
SELECT time, seq, signals
FROM vehicle_sample
WHERE {_RANGE}
  AND (%(names)s::text[] IS NULL OR signals ?| %(names)s::text[])
ORDER BY time, seq
LIMIT %(limit)s
"""

# Buckets first (so one with no numeric signal still shows its sample count), then the
# statistics of each numeric signal in them; one row per (bucket, signal).
CAN_BUCKETS = f"""
WITH binned AS (
    SELECT date_bin(%(bucket)s, time, TIMESTAMPTZ 'epoch') AS bucket, signals
    FROM vehicle_sample
    WHERE {_RANGE}
      AND (%(names)s::text[] IS NULL OR signals ?| %(names)s::text[])
), buckets AS (
    SELECT bucket, count(*)::integer AS samples
    FROM binned GROUP BY bucket ORDER BY bucket LIMIT %(limit)s
), stats AS (
    SELECT binned.bucket, signal.key AS signal, count(*)::integer AS n,
           min(signal.value::double precision) AS min,
           avg(signal.value::double precision) AS avg,
           max(signal.value::double precision) AS max
    FROM binned CROSS JOIN LATERAL jsonb_each(binned.signals) AS signal
    WHERE jsonb_typeof(signal.value) = 'number'
      AND (%(names)s::text[] IS NULL OR signal.key = ANY(%(names)s::text[]))
    GROUP BY 1, 2
)
SELECT buckets.bucket AS time, buckets.samples, stats.signal, stats.n, stats.min, stats.avg,
       stats.max
FROM buckets LEFT JOIN stats USING (bucket)
ORDER BY buckets.bucket, stats.signal COLLATE "C"
"""

EVENT_ROWS = f"""
SELECT time, seq, received_at, type, severity, detail, resent
FROM device_event
WHERE {_RANGE}
  AND (%(event_type)s::text IS NULL OR type = %(event_type)s)
ORDER BY time, seq
LIMIT %(limit)s
"""


def held(conn: psycopg.Connection, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with ``start`` and ``end`` narrowed to the periods the caller's subtree
    held the device (an empty range if it never did) and ``periods``: the periods when
    there is a gap between them, which the queries then test per row (else None)."""
    periods = conn.execute(PERIODS, params).fetchone()["periods"] or []
    if not periods:
        return {**params, "end": params["start"], "periods": None}
    first, last = periods[0].lower, periods[-1].upper
    return {
        **params,
        "start": _later(params["start"], first),
        "end": _earlier(params["end"], last),
        "periods": periods if len(periods) > 1 else None,
    }


def _later(moment: datetime, bound: datetime | None) -> datetime:
    return moment if bound is None else max(moment, bound)


def _earlier(moment: datetime, bound: datetime | None) -> datetime:
    return moment if bound is None else min(moment, bound)


def bms_buckets(conn: psycopg.Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per bucket: sample count and min/avg/max of each BMS quantity."""
    buckets = []
    for row in conn.execute(BMS_BUCKETS, params):
        bucket = {"time": row["time"], "samples": row["samples"]}
        for quantity in BMS_BUCKET_QUANTITIES:
            bucket[quantity] = {stat: row[f"{quantity}_{stat}"] for stat in ("min", "avg", "max")}
        buckets.append(bucket)
    return buckets


def can_rows(
    conn: psycopg.Connection, params: dict[str, Any], names: Sequence[str] | None
) -> list[dict[str, Any]]:
    """Raw vehicle samples; with ``names``, each sample's signals narrowed to those."""
    rows = conn.execute(CAN_ROWS, params).fetchall()
    if names:
        wanted = set(names)
        for row in rows:
            row["signals"] = {k: v for k, v in row["signals"].items() if k in wanted}
    return rows


def can_buckets(conn: psycopg.Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per bucket: sample count and min/avg/max/count of each numeric signal."""
    buckets: list[dict[str, Any]] = []
    for row in conn.execute(CAN_BUCKETS, params):
        if not buckets or buckets[-1]["time"] != row["time"]:
            buckets.append({"time": row["time"], "samples": row["samples"], "signals": {}})
        if row["signal"] is not None:
            buckets[-1]["signals"][row["signal"]] = {
                "min": row["min"],
                "avg": row["avg"],
                "max": row["max"],
                "count": row["n"],
            }
    return buckets
