"""SQL that limits a query to the caller's subtree: the API's first wall (row-level security
in the store is the second).

Each fragment uses the named parameters ``%(tenant)s`` (the caller's operator) and
``%(store)s`` (its store, or NULL); ``params()`` gives both for the current caller, to merge
into a query's own parameters. An operator's subtree is every operator whose path holds it.

An account of a store works inside its store: its "subtree" is its own operator alone (never
the sub-operators), it sees the devices of its store, and of the objects its operator owns
only those that concern its store: the fences assigned to its devices, the command batches
of its store's accounts; webhooks (whose deliveries carry every store's alarms) not at all.
What it may change is cut by ``permissions.OPERATOR_WIDE``; row-level security (migrations
0011, 0014) draws the same lines in the store.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import DictRow

from cloud.errors import not_found
from cloud.identity.principal import principal

# The operators whose path holds {} (a parameter): it and every operator below it.
_BELOW = "SELECT id FROM operator WHERE path @> ARRAY[{}::bigint]"
# The caller's subtree; for a store's account, its own operator alone.
SUBTREE = (
    _BELOW.format("%(tenant)s") + " AND (%(store)s::bigint IS NULL OR id = %(tenant)s::bigint)"
)
_OPERATOR_LEVEL = "%(store)s::bigint IS NULL"


def params(**more: Any) -> dict[str, Any]:
    """``more`` plus the caller's tenant and store."""
    who = principal()
    return {"tenant": who.operator_id, "store": who.store_id, **more}


def one(conn: psycopg.Connection[DictRow], query: str, kind: str, key: object) -> dict[str, Any]:
    """The row ``query`` finds for ``%(id)s`` = ``key`` with ``params()``: the caller's
    ``kind`` ``key``; 404 if there is none, so one outside the subtree looks missing."""
    row = conn.execute(query, params(id=key)).fetchone()
    if row is None:
        not_found(kind, key)
    return row


def owned(column: str = "operator_id") -> str:
    """``column`` (an operator id) is in the caller's subtree."""
    return f"{column} IN ({SUBTREE})"


def under(column: str, operator: str) -> str:
    """``column`` (an operator id) is ``operator`` (a parameter, such as
    ``%(operator_id)s``) or one of its sub-operators: a filter a caller chooses, inside the
    wall ``owned()`` draws."""
    return f"{column} IN ({_BELOW.format(operator)})"


def in_store(column: str = "store_id") -> str:
    """The caller is no store's account, or ``column`` (a store id) is its store."""
    return f"(%(store)s::bigint IS NULL OR {column} = %(store)s::bigint)"


def device(alias: str = "d") -> str:
    """The device row ``alias`` is the caller's: in its subtree and, for a store's account,
    in its store."""
    return f"{alias}.operator_id IN ({SUBTREE}) AND {in_store(alias + '.store_id')}"


def account(alias: str = "a") -> str:
    """The account row ``alias`` is the caller's to see: of its subtree and, for a store's
    account, of its store."""
    return f"{owned(alias + '.operator_id')} AND {in_store(alias + '.store_id')}"


def store(alias: str = "s") -> str:
    """The store row ``alias`` is the caller's: of its subtree and, for a store's account,
    that store itself."""
    return f"{owned(alias + '.operator_id')} AND {in_store(alias + '.id')}"


def device_id(column: str = "device_id") -> str:
    """``column`` (a device id) names one of the caller's devices. A correlated EXISTS: one
    key probe per row, where ``IN (SELECT ...)`` would hash every device of the caller first
    (BENCHMARKS.md, section 9)."""
    return f"EXISTS (SELECT 1 FROM device sd WHERE sd.id = {column} AND {device('sd')})"


# A device's history is the caller's only for the periods its subtree held the device
# (migration 0013 keeps them in device_tenure: registrations, transfers, store moves): a
# transfer or a deleted and re-registered id does not hand one owner's history to the next.
_TENURE = "tstzrange(tn.started_at, tn.ended_at)"  # NULL: unbounded


def periods(device_param: str = "%(device_id)s") -> str:
    """The times the caller's subtree held the device ``device_param`` (a parameter or an
    uncorrelated subquery), as one multirange: ``time <@ periods()`` keeps a row of the
    caller's periods (NULL, so nothing, when it held the device never). Computed once per
    query, so a time series pays a range test per row, not a join."""
    return (
        f"(SELECT range_agg({_TENURE}) FROM device_tenure tn"
        f" WHERE tn.device_id = {device_param} AND {device('tn')})"
    )


def held_during(column: str, start: str, end: str | None = None) -> str:
    """``column`` (a device id) was held by the caller's subtree at some time between
    ``start`` and ``end`` (both ends included; ``end`` omitted: the moment ``start``): for
    lists over many devices, one index probe per row like ``device_id()``. Qualify the
    columns (``command.device_id``): a bare ``device_id`` would name the tenure's own."""
    return (
        f"EXISTS (SELECT 1 FROM device_tenure tn WHERE tn.device_id = {column}"
        f" AND (tn.started_at IS NULL OR tn.started_at <= {end or start})"
        f" AND (tn.ended_at IS NULL OR {start} <= tn.ended_at)"
        f" AND {device('tn')})"
    )


def alarm_end(alias: str = "a") -> str:
    """Where the alarm row ``alias`` ends, for a time range: now while it is open and holds,
    else the later of its latest occurrence and its clearing."""
    return (
        f"CASE WHEN {alias}.state = 'open' AND {alias}.active THEN now()"
        f" ELSE greatest({alias}.latest_at, {alias}.cleared_at) END"
    )


def held(column: str, start: str, end: str | None = None) -> str:
    """``column`` (a qualified device id) names one of the caller's devices now, held by its
    subtree between ``start`` and ``end`` (``held_during``): a row of the device's history
    that is the caller's."""
    return f"{device_id(column)} AND {held_during(column, start, end)}"


def alarm(alias: str = "a") -> str:
    """The alarm row ``alias`` is the caller's: its device is, and the alarm was alive (from
    its first occurrence to ``alarm_end``) during a period the caller's subtree held the
    device."""
    return held(f"{alias}.device_id", f"{alias}.first_at", alarm_end(alias))


def operator_level(column: str = "operator_id") -> str:
    """``column`` (an operator id) is in the caller's subtree, and the caller is not an
    account of a store: for objects a store's account never sees (webhooks, deliveries)."""
    return f"{owned(column)} AND {_OPERATOR_LEVEL}"


def geofence(alias: str = "g") -> str:
    """The fence ``alias`` is the caller's to see: of its subtree and, for a store's account,
    assigned to a device of its store (the fences that apply to it)."""
    return (
        f"{owned(alias + '.operator_id')} AND ({_OPERATOR_LEVEL} OR EXISTS ("
        f"SELECT 1 FROM geofence_assignment sa JOIN device sd ON sd.id = sa.device_id"
        f" WHERE sa.geofence_id = {alias}.id AND sd.store_id = %(store)s::bigint))"
    )


def command_batch(alias: str = "b") -> str:
    """The batch ``alias`` is the caller's to see: of its subtree and, for a store's account,
    issued by an account of its store."""
    return (
        f"{owned(alias + '.operator_id')} AND ({_OPERATOR_LEVEL} OR {alias}.issued_by IN ("
        "SELECT sa.login FROM account sa WHERE sa.store_id = %(store)s::bigint))"
    )
