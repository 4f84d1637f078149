"""BMS rollups on plain PostgreSQL: recompute the 1-minute and 1-hour buckets ingest marked.

Ingest adds (device, minute) to ``rollup_pending`` in the transaction that stores the
samples. ``refresh()`` takes a share of the pending buckets (SKIP LOCKED, so any number of
workers can run it), recomputes those minutes from the raw samples, then recomputes the
hours they fall in from the minutes (a sample-weighted average). On TimescaleDB the same
tables are continuous aggregates and this job does not run.
"""

from __future__ import annotations

import psycopg

# The value columns of bms_1m and bms_1h (0004_rollups.partitioned.sql), in table order.
_VALUES = (
    "samples", "soc_min", "soc_avg", "soc_max", "pack_voltage_min", "pack_voltage_avg",
    "pack_voltage_max", "current_min", "current_avg", "current_max", "cell_min", "cell_max",
    "temperature_min", "temperature_max",
)  # fmt: skip
# A recomputed bucket replaces the stored one (constant column names, no values).
_REPLACE = "ON CONFLICT (device_id, bucket) DO UPDATE SET " + ", ".join(
    f"{column} = EXCLUDED.{column}" for column in _VALUES
)

_MINUTES = f"""
WITH taken AS (
    DELETE FROM rollup_pending p
    USING (SELECT device_id, bucket FROM rollup_pending ORDER BY bucket
           LIMIT %s FOR UPDATE SKIP LOCKED) t
    WHERE p.device_id = t.device_id AND p.bucket = t.bucket
    RETURNING p.device_id, p.bucket
)
INSERT INTO bms_1m AS r
SELECT t.bucket, t.device_id, count(*)::integer,
       min(s.soc_percent), avg(s.soc_percent)::real, max(s.soc_percent),
       min(s.pack_voltage_v), avg(s.pack_voltage_v)::real, max(s.pack_voltage_v),
       min(s.current_a), avg(s.current_a)::real, max(s.current_a),
       min(s.cell_min_v), max(s.cell_max_v), min(s.temperature_min_c), max(s.temperature_max_c)
FROM taken t
JOIN bms_sample s ON s.device_id = t.device_id
    AND s.time >= t.bucket AND s.time < t.bucket + INTERVAL '1 minute'
GROUP BY t.device_id, t.bucket
ORDER BY t.device_id, t.bucket
{_REPLACE}
RETURNING device_id, date_trunc('hour', bucket) AS hour
"""

_HOURS = f"""
INSERT INTO bms_1h AS r
SELECT h.hour, h.device_id, sum(m.samples)::integer,
       min(m.soc_min), (sum(m.soc_avg * m.samples) / sum(m.samples))::real, max(m.soc_max),
       min(m.pack_voltage_min), (sum(m.pack_voltage_avg * m.samples) / sum(m.samples))::real,
       max(m.pack_voltage_max),
       min(m.current_min), (sum(m.current_avg * m.samples) / sum(m.samples))::real,
       max(m.current_max),
       min(m.cell_min), max(m.cell_max), min(m.temperature_min), max(m.temperature_max)
FROM unnest(%s::text[], %s::timestamptz[]) AS h(device_id, hour)
JOIN bms_1m m ON m.device_id = h.device_id
    AND m.bucket >= h.hour AND m.bucket < h.hour + INTERVAL '1 hour'
GROUP BY h.device_id, h.hour
ORDER BY h.device_id, h.hour
{_REPLACE}
"""


async def refresh(conn: psycopg.AsyncConnection, limit: int = 5000) -> int:
    """Recompute up to ``limit`` pending minutes and their hours; how many minutes."""
    async with conn.transaction():
        cur = await conn.execute(_MINUTES, (limit,))
        hours = sorted(set(await cur.fetchall()))
        if hours:
            await conn.execute(
                _HOURS, ([device for device, _ in hours], [hour for _, hour in hours])
            )
    return cur.rowcount
