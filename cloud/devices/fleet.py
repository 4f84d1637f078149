"""The caller's fleet in numbers, read from device_state (no history scan).

The counts are of the caller's subtree (a store's account: its store). Unknown devices and
dead letters are the platform's: they are counted only for a caller who may list them.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import DictRow

from cloud.identity import scope
from cloud.identity.principal import principal

# Thresholds of the state buckets: a pack's BMS reads a few tens of mA of noise at rest.
CHARGING_ABOVE_A = 0.5
DISCHARGING_BELOW_A = -0.5

SUMMARY = f"""
SELECT count(*) AS total,
       count(*) FILTER (WHERE s.online) AS online,
       count(*) FILTER (WHERE NOT s.online AND s.last_seen_at IS NOT NULL) AS offline,
       count(*) FILTER (WHERE NOT s.online AND s.last_seen_at IS NULL) AS never_seen,
       count(*) FILTER (WHERE d.kind = 'pack') AS pack,
       count(*) FILTER (WHERE d.kind = 'vehicle') AS vehicle,
       count(*) FILTER (WHERE s.current_a > %(charging)s) AS charging,
       count(*) FILTER (WHERE s.current_a < %(discharging)s) AS discharging,
       count(*) FILTER (WHERE s.current_a BETWEEN %(discharging)s AND %(charging)s) AS idle,
       count(*) FILTER (WHERE s.current_a IS NULL) AS no_bms_data,
       count(*) FILTER (WHERE NOT s.discharge_mos) AS discharge_mos_off,
       count(*) FILTER (WHERE s.soc_percent < 20) AS soc_below_20,
       count(*) FILTER (WHERE s.soc_percent >= 20 AND s.soc_percent < 50) AS soc_20_50,
       count(*) FILTER (WHERE s.soc_percent >= 50 AND s.soc_percent < 80) AS soc_50_80,
       count(*) FILTER (WHERE s.soc_percent >= 80) AS soc_80_up,
       CASE WHEN %(unknown)s THEN (SELECT count(*) FROM unknown_device) END AS unknown_devices,
       CASE WHEN %(dead_letters)s THEN (
           SELECT count(*) FROM dead_letter WHERE received_at > now() - INTERVAL '24 hours')
       END AS dead_letters_24h
FROM device d JOIN device_state s ON s.device_id = d.id
WHERE {scope.device("d")}
"""


def summary(conn: psycopg.Connection[DictRow]) -> dict[str, Any]:
    """The counts of the caller's fleet, shaped as FleetSummarySchema."""
    who = principal()
    params = scope.params(
        charging=CHARGING_ABOVE_A,
        discharging=DISCHARGING_BELOW_A,
        unknown=who.can("platform.unknown_devices"),
        dead_letters=who.can("platform.dead_letters"),
    )
    row = conn.execute(SUMMARY, params).fetchone()
    assert row is not None  # an aggregate: always one row
    return {
        **{key: row[key] for key in ("total", "online", "offline", "never_seen")},
        "by_kind": {"pack": row["pack"], "vehicle": row["vehicle"]},
        "by_state": {key: row[key] for key in ("charging", "discharging", "idle", "no_bms_data")},
        "discharge_mos_off": row["discharge_mos_off"],
        "soc_bands": {
            "below_20": row["soc_below_20"],
            "from_20_to_50": row["soc_20_50"],
            "from_50_to_80": row["soc_50_80"],
            "from_80": row["soc_80_up"],
        },
        "unknown_devices": row["unknown_devices"],
        "dead_letters_24h": row["dead_letters_24h"],
    }
