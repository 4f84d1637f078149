"""The caller's alarms: listing them, reading one with its occurrences and lifecycle, and
resolving them, one or many.

Resolving writes the alarm row first and its 'resolved' ``alarm_event`` second, in one
transaction, as the rules engine does for every step: notifications are made from the
events (a trigger), and each must see the alarm as that event left it.

Every query keeps to the caller's devices (``cloud.identity.scope``; row-level security is the
second wall), so its parameters are named and include ``scope.params()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from flask_smorest.pagination import PaginationParameters
from psycopg.rows import DictRow

from cloud.errors import Conflict, not_found
from cloud.identity import scope
from cloud.identity.guard import principal
from cloud.rules.catalogue import DEFAULT_CHEMISTRY, DEFAULTS
from cloud.rules.schemas.alarms import MAX_ID
from cloud.store.pages import fetch_page
from cloud.text import format_time

DETAIL_OCCURRENCES = 20
DETAIL_EVENTS = 200
FILTERS = ("state", "active", "severity", "device_id", "store_id", "subject", "start", "end")

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
  AND (%(store_id)s::bigint IS NULL
       OR EXISTS (SELECT 1 FROM device sd WHERE sd.id = a.device_id AND sd.store_id = %(store_id)s))
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
OCCURRENCE_TIMES = f"""
SELECT time FROM alarm_occurrence
WHERE {_OCCURRENCES_OF_MINE} AND time BETWEEN %(start)s AND %(end)s
ORDER BY time LIMIT %(limit)s
"""

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


def page(
    conn: psycopg.Connection[DictRow], args: dict[str, Any], pagination: PaginationParameters
) -> list[dict[str, Any]]:
    """A page of the caller's alarms, latest occurrence first: ``type`` (a list), ``FILTERS``
    and ``include_muted`` from the query."""
    params = scope.params(
        types=args.get("type") or None,
        **{key: args.get(key) for key in FILTERS},
        login=principal().login,
        hide_muted=not args["include_muted"],
    )
    rows = fetch_page(conn, COUNT_ALARMS, LIST_ALARMS, params, pagination)
    return [_shown(row) for row in rows]


def get(conn: psycopg.Connection[DictRow], alarm_id: int) -> dict[str, Any]:
    """One of the caller's alarms, with its unit and whether the caller muted its type; a
    404 for any other id."""
    row = None
    if alarm_id <= MAX_ID:
        params = scope.params(alarm_id=alarm_id, login=principal().login)
        row = conn.execute(GET_ALARM, params).fetchone()
    if row is None:
        not_found("alarm", alarm_id)
    return _shown(row)


def detail(conn: psycopg.Connection[DictRow], alarm_id: int) -> dict[str, Any]:
    """``get()`` with the latest occurrences and events, and how many events there are."""
    alarm = get(conn, alarm_id)
    mine = scope.params(alarm_id=alarm_id)
    alarm["occurrences"] = conn.execute(
        LATEST_OCCURRENCES, {**mine, "limit": DETAIL_OCCURRENCES}
    ).fetchall()
    alarm["events"] = conn.execute(LATEST_EVENTS, {**mine, "limit": DETAIL_EVENTS}).fetchall()
    counted = conn.execute(COUNT_EVENTS, mine).fetchone()
    assert counted is not None  # count(*)
    alarm["event_count"] = counted["n"]
    return alarm


def occurrences(
    conn: psycopg.Connection[DictRow], alarm_id: int, pagination: PaginationParameters
) -> list[dict[str, Any]]:
    """A page of an alarm's occurrences, newest first, each with its sample (the guard has
    answered 404 for another's alarm)."""
    mine = scope.params(alarm_id=alarm_id)
    return fetch_page(conn, COUNT_OCCURRENCES, LIST_OCCURRENCES, mine, pagination)


def resolve_one(conn: psycopg.Connection[DictRow], alarm_id: int, note: str) -> dict[str, Any]:
    """Resolve one open alarm of the caller's as the caller; the alarm as it is now. A 404
    for another's alarm, a 409 for one already resolved."""
    with conn.transaction():
        found = lock(conn, [alarm_id] if alarm_id <= MAX_ID else [])
        if alarm_id not in found:
            not_found("alarm", alarm_id)
        resolved = resolve(conn, found, principal().login, note)
    if not resolved:
        was = get(conn, alarm_id)
        raise Conflict(f"alarm {alarm_id} is already resolved (by {was['resolved_by']} at"
                  f" {format_time(was['resolved_at'])})")  # fmt: skip
    return get(conn, alarm_id)


def resolve_many(conn: psycopg.Connection[DictRow], body: dict[str, Any]) -> dict[str, Any]:
    """Resolve the caller's alarms named by ``alarm_ids`` (404 for the first that is not
    one, and nothing resolved) or selected by ``filter``, in one transaction with one
    ``note``; how each went (BatchResolvedSchema)."""
    with conn.transaction():
        if "alarm_ids" in body:
            ids = list(dict.fromkeys(body["alarm_ids"]))
            found = lock(conn, ids)
            missing = next((i for i in ids if i not in found), None)
            if missing is not None:
                not_found("alarm", missing)
        else:
            ids = open_alarm_ids(conn, body["filter"])
            found = dict.fromkeys(ids, "open")
        now = set(resolve(conn, found, principal().login, body["note"]))
    results = [{"id": i, "result": "resolved" if i in now else "already_resolved"} for i in ids]
    return {"resolved": len(now), "already_resolved": len(ids) - len(now), "results": results}


def lock(conn: psycopg.Connection[DictRow], ids: Sequence[int]) -> dict[int, str]:
    """Lock the caller's alarms among ``ids`` (in the caller's transaction); the state of
    each one found. Ids of other operators' alarms are not found, like missing ones."""
    rows = conn.execute(LOCK_BY_IDS, scope.params(ids=list(ids)))
    return {row["id"]: row["state"] for row in rows}


def resolve(
    conn: psycopg.Connection[DictRow], found: dict[int, str], by: str, note: str
) -> list[int]:
    """Resolve the open ones of the alarms ``lock()`` found (in the caller's transaction);
    the ids resolved now."""
    params = scope.params(ids=[i for i in found if found[i] == "open"], by=by, note=note)
    if not params["ids"]:
        return []
    resolved = sorted(row["id"] for row in conn.execute(RESOLVE, params))
    conn.execute(RESOLVED_EVENTS, {**params, "ids": resolved})
    return resolved


def open_alarm_ids(conn: psycopg.Connection[DictRow], wanted: dict[str, Any]) -> list[int]:
    """Ids of the caller's open alarms a batch filter selects, locked (in the caller's
    transaction)."""
    params = scope.params(**{k: wanted.get(k) for k in ("type", "device_id", "severity", "active")})
    return sorted(row["id"] for row in conn.execute(LOCK_BY_FILTER, params))


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "unit": unit_of(row["type"])}


def unit_of(type_: str) -> str:
    """The unit of an alarm type's value and threshold ('' for an unknown type)."""
    spec = DEFAULTS[DEFAULT_CHEMISTRY].get(type_)
    return spec.unit if spec else ""
