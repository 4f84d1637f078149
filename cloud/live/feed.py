"""The live feed's SQL: a device's compact row, the snapshot of the caller's devices, and
what changed since a cursor (``cloud.live.cursor``).

The snapshot runs on the request's connection, in the caller's scope (row-level security
applies). The hub's reads run as the store's owner and see every operator: it filters each
batch per scope with ``scope.device`` (``visible``), the one rule of what a caller sees.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from cloud.identity import scope
from cloud.live.cursor import Cursor
from cloud.rules.catalogue import SEVERITIES
from cloud.text import format_time

COLUMNS = (
    "id", "kind", "model", "operator_id", "store_id", "lat", "lon", "soc_percent",
    "pack_voltage_v", "current_a", "speed_kmh", "online", "last_seen_at", "discharge_mos",
    "charge_mos", "alarm_severity", "lease",
)  # fmt: skip
LEASE_STATES = ("leased", "expired", "none")

# real columns through text: 3.3, not 3.299999952316284 (shorter JSON, the value stored).
# alarm_severity: the highest of the device's open alarms. lease: a term in force (open-ended
# or not yet at its end), one whose end has passed while still leased, or none (no term, or
# the lease ended).
_ROW = """
SELECT d.id, d.kind, d.model, d.operator_id, d.store_id, s.lat, s.lon,
       s.soc_percent::text::float8, s.pack_voltage_v::text::float8, s.current_a::text::float8,
       s.speed_kmh::text::float8, coalesce(s.online, false), s.last_seen_at, s.discharge_mos,
       s.charge_mos,
       (SELECT a.severity FROM alarm a WHERE a.device_id = d.id AND a.state = 'open'
        ORDER BY array_position(%(severities)s::text[], a.severity) DESC LIMIT 1),
       CASE WHEN l.leased IS NOT TRUE THEN 'none'
            WHEN l.leased_until IS NULL OR l.leased_until > now() THEN 'leased'
            ELSE 'expired' END
FROM device d
LEFT JOIN device_state s ON s.device_id = d.id
LEFT JOIN lease_term l ON l.device_id = d.id
"""
SNAPSHOT = _ROW + f'WHERE {scope.device("d")} ORDER BY d.id COLLATE "C"'
ROWS = _ROW + "WHERE d.id = ANY(%(ids)s)"
# One statement in a REPEATABLE READ transaction: the snapshot every later read of it uses.
CURSOR = "SELECT pg_current_snapshot()::text AS snapshot, now() AS at"
REPEATABLE = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"


def _changed(alias: str) -> str:
    """The row ``alias`` was written since the cursor of the parameters."""
    return f"({alias}.changed_xid >= %(xmax)s::xid8 OR {alias}.changed_xid = ANY(%(xip)s::xid8[]))"


# The devices whose compact row may differ: any of its parts written, or its lease's end
# passed between the two cursors' times.
CHANGED_DEVICES = f"""
SELECT t.device_id FROM device_state t WHERE {_changed("t")}
UNION SELECT t.id FROM device t WHERE {_changed("t")}
UNION SELECT t.device_id FROM lease_term t WHERE {_changed("t")}
UNION SELECT t.device_id FROM lease_term t
      WHERE t.leased AND t.leased_until > %(since)s AND t.leased_until <= now()
UNION SELECT t.device_id FROM alarm t WHERE {_changed("t")}
"""
CHANGED_COMMANDS = f"SELECT t.cmd_id, t.device_id FROM command t WHERE {_changed('t')}"
CHANGED_ALARMS = f"SELECT t.id, t.device_id FROM alarm t WHERE {_changed('t')}"
CLOSED_TENURES = (
    f"SELECT 1 FROM device_tenure t WHERE {_changed('t')} AND t.ended_at IS NOT NULL LIMIT 1"
)
VISIBLE = f"SELECT d.id FROM device d WHERE d.id = ANY(%(ids)s) AND {scope.device('d')}"
# Devices a scope held (a period of it closed since the cursor) and holds no more.
GONE = f"""
SELECT DISTINCT tn.device_id FROM device_tenure tn
WHERE {_changed("tn")} AND tn.ended_at IS NOT NULL AND {scope.device("tn")}
  AND NOT EXISTS (SELECT 1 FROM device sd WHERE sd.id = tn.device_id AND {scope.device("sd")})
"""


@dataclass
class Changes:
    """What changed between two cursors: devices whose compact row may differ, commands and
    alarms written (id, device id), and whether a device left an owner."""

    devices: set[str] = field(default_factory=set)
    commands: list[tuple[str, str]] = field(default_factory=list)
    alarms: list[tuple[int, str]] = field(default_factory=list)
    moved: bool = False


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def to_json(value: Any) -> str:
    """Compact JSON, times as the API writes them (UTC, milliseconds, Z)."""
    return json.dumps(value, separators=(",", ":"), default=_json_default)


def begin_read(conn: psycopg.Connection[Any]) -> Cursor:
    """Start a REPEATABLE READ transaction on ``conn`` (in none yet) and return its cursor:
    every read in the transaction sees exactly what the cursor names."""
    conn.execute(REPEATABLE)
    row = conn.execute(CURSOR).fetchone()
    assert row is not None
    snapshot, at = (row["snapshot"], row["at"]) if isinstance(row, dict) else row
    return Cursor.of_snapshot(snapshot, at)


def snapshot(conn: psycopg.Connection[Any], tenant: int, store: int | None) -> dict[str, Any]:
    """Every device in the scope of ``tenant`` / ``store``, columnar, with the cursor its
    stream resumes from. ``conn`` must be in no transaction yet."""
    cursor = begin_read(conn)
    with conn.cursor(row_factory=psycopg.rows.tuple_row) as cur:
        rows = cur.execute(
            SNAPSHOT, {"tenant": tenant, "store": store, "severities": list(SEVERITIES)}
        ).fetchall()
    return {"columns": list(COLUMNS), "rows": rows, "cursor": cursor.token()}


def changes(conn: psycopg.Connection[Any], since: Cursor, *, details: bool) -> Changes:
    """What changed after ``since``, read in the current transaction (``begin_read``);
    ``details``: also the commands and alarms written (for device pages)."""
    params = since.params()
    with conn.cursor(row_factory=psycopg.rows.tuple_row) as cur:
        found = Changes({row[0] for row in cur.execute(CHANGED_DEVICES, params)})
        if details:
            found.commands = [(c, d) for c, d in cur.execute(CHANGED_COMMANDS, params)]
            found.alarms = [(a, d) for a, d in cur.execute(CHANGED_ALARMS, params)]
        found.moved = cur.execute(CLOSED_TENURES, params).fetchone() is not None
    return found


def rows(conn: psycopg.Connection[Any], ids: Iterable[str]) -> dict[str, tuple[Any, ...]]:
    """The compact rows of the devices ``ids`` that exist, by id."""
    params = {"ids": list(ids), "severities": list(SEVERITIES)}
    with conn.cursor(row_factory=psycopg.rows.tuple_row) as cur:
        return {row[0]: row for row in cur.execute(ROWS, params)}


def visible(
    conn: psycopg.Connection[Any], tenant: int, store: int | None, ids: Iterable[str]
) -> set[str]:
    """Those of ``ids`` in the scope of ``tenant`` / ``store``."""
    params = {"ids": list(ids), "tenant": tenant, "store": store}
    with conn.cursor(row_factory=psycopg.rows.tuple_row) as cur:
        return {row[0] for row in cur.execute(VISIBLE, params)}


def gone(conn: psycopg.Connection[Any], tenant: int, store: int | None, since: Cursor) -> list[str]:
    """Devices the scope of ``tenant`` / ``store`` held after ``since`` and holds no more
    (deleted, transferred away, or moved to another store)."""
    params = {**since.params(), "tenant": tenant, "store": store}
    with conn.cursor(row_factory=psycopg.rows.tuple_row) as cur:
        return sorted(row[0] for row in cur.execute(GONE, params))
