"""Moving devices to another operator or store of the caller's subtree, all or none, and
where a device has been.

A leased device stays where it is (409): its lease must end first. A move writes one
``device_transfer`` row per device. Fences travel with their owner, not with the device: a
device's assignment to a fence whose operator is not above (or equal to) the device's new
operator is dropped in the same transaction, with that fence's machine and open alarm, so
the fence's owner no longer hears where the device goes. Commands still queued or sent for
a device that changes operator are cancelled: they were issued for its old owner, and a
cut-off queued by the old owner's staff for an offline pack must not fire under the new one
(a move between stores of one operator keeps them). (Alarm mutes name an account and an
alarm type, not a device: a move leaves them as they are.)
"""

from __future__ import annotations

from typing import Any, NoReturn

import psycopg
from psycopg.rows import DictRow

from cloud.commands import states
from cloud.errors import Conflict, Invalid, not_found
from cloud.identity import scope
from cloud.identity.guard import principal
from cloud.tenancy import operators, stores

LISTED = 20  # ids named in a refusal; the rest are counted

# Locked in id order, so two transfers of overlapping sets cannot deadlock.
LOCK_DEVICES = f"""
SELECT d.id, d.operator_id, d.store_id FROM device d
WHERE d.id = ANY(%(ids)s) AND {scope.device("d")}
ORDER BY d.id FOR UPDATE
"""
# FOR UPDATE: no lease can start on these devices until the transfer commits.
LOCK_LEASES = """
SELECT device_id, leased FROM lease_term WHERE device_id = ANY(%(ids)s)
ORDER BY device_id FOR UPDATE
"""
MOVE_DEVICES = """
UPDATE device SET operator_id = %(operator_id)s, store_id = %(store_id)s, updated_at = now()
WHERE id = ANY(%(ids)s)
"""
RECORD_TRANSFERS = """
INSERT INTO device_transfer (device_id, from_operator_id, from_store_id, to_operator_id,
                             to_store_id, moved_by, note)
SELECT m.device_id, m.operator_id, m.store_id, %(operator_id)s, %(store_id)s, %(moved_by)s,
       %(note)s
FROM unnest(%(ids)s::text[], %(from_operators)s::bigint[], %(from_stores)s::bigint[])
     AS m (device_id, operator_id, store_id)
"""
# Assignments to fences of operators that are not above the new owner go, with the fence's
# hysteresis machine for the device and its open alarm (resolved as a deleted fence's is).
DROP_FOREIGN_FENCES = """
WITH dropped AS (
    DELETE FROM geofence_assignment a USING geofence g
    WHERE a.device_id = ANY(%(ids)s) AND g.id = a.geofence_id
      AND g.operator_id <> ALL(%(path)s::bigint[])
    RETURNING a.device_id, a.geofence_id::text AS subject
), machines AS (
    DELETE FROM rule_state r USING dropped x
    WHERE r.device_id = x.device_id AND r.rule = 'geofence' AND r.subject = x.subject
), resolved AS (
    UPDATE alarm al SET state = 'resolved', active = false, resolved_at = now(),
        resolved_by = 'auto', resolution_note = %(why)s, updated_at = now()
    FROM dropped x
    WHERE al.device_id = x.device_id AND al.type = 'outside_geofence'
      AND al.subject = x.subject AND al.state = 'open'
    RETURNING al.id
), events AS (
    INSERT INTO alarm_event (alarm_id, event, by, note)
    SELECT id, 'resolved', 'auto', %(why)s FROM resolved ORDER BY id
)
SELECT (SELECT count(*) FROM dropped) AS dropped, (SELECT count(*) FROM resolved) AS resolved
"""
DROPPED_WHY = "the device moved to an operator outside the fence's owner"
HISTORY = f"""
SELECT id, device_id, from_operator_id, from_store_id, to_operator_id, to_store_id, moved_at,
       moved_by, note
FROM device_transfer WHERE device_id = %(device_id)s
  AND {scope.held("device_transfer.device_id", "device_transfer.moved_at")}
ORDER BY moved_at DESC, id DESC
"""


def transfer(conn: psycopg.Connection[DictRow], body: dict[str, Any]) -> dict[str, Any]:
    """Move ``device_ids`` to ``to_operator_id`` and ``to_store_id`` in one transaction; what
    moved, what stayed, and what the move dropped and cancelled (TransferResultSchema)."""
    device_ids = list(dict.fromkeys(body["device_ids"]))
    target = {"operator_id": body["to_operator_id"], "store_id": body["to_store_id"]}
    with conn.transaction():
        path = _target(conn, body)
        devices = _locked(conn, device_ids)
        destination = (target["operator_id"], target["store_id"])
        moving = [d for d in devices if (d["operator_id"], d["store_id"]) != destination]
        staying = [d["id"] for d in devices if (d["operator_id"], d["store_id"]) == destination]
        moved = [d["id"] for d in moving]
        counts: dict[str, Any] | None = {"dropped": 0, "resolved": 0}
        cancelled: list[str] = []
        if moving:
            conn.execute(MOVE_DEVICES, {**target, "ids": moved})
            conn.execute(RECORD_TRANSFERS, {
                **target, "ids": moved, "moved_by": principal().login, "note": body["note"],
                "from_operators": [d["operator_id"] for d in moving],
                "from_stores": [d["store_id"] for d in moving],
            })  # fmt: skip
            fences = {"ids": moved, "path": path, "why": DROPPED_WHY}
            counts = conn.execute(DROP_FOREIGN_FENCES, fences).fetchone()
            new_owner = [d["id"] for d in moving if d["operator_id"] != target["operator_id"]]
            if new_owner:
                rows = conn.execute(states.CANCEL_OPEN_OF_DEVICES, {"ids": new_owner}).fetchall()
                cancelled = sorted(row["cmd_id"] for row in rows)
    assert counts is not None  # one row of counts
    return {
        "moved": moved,
        "unchanged": staying,
        "to_operator_id": target["operator_id"],
        "to_store_id": target["store_id"],
        "dropped_geofence_assignments": counts["dropped"],
        "resolved_alarms": counts["resolved"],
        "cancelled_commands": cancelled,
    }


def history(conn: psycopg.Connection[DictRow], device_id: str) -> list[dict[str, Any]]:
    """A device's moves while the caller's subtree held it, newest first."""
    return conn.execute(HISTORY, scope.params(device_id=device_id)).fetchall()


def _listed(ids: list[str]) -> str:
    named = ", ".join(map(repr, ids[:LISTED]))
    return named + (f" and {len(ids) - LISTED} more" if len(ids) > LISTED else "")


def _wrong_store(detail: str) -> NoReturn:
    raise Invalid(f"to_store_id: {detail}", errors=[
        {"field": "to_store_id", "in": "body", "reason": detail}
    ])  # fmt: skip


def _target(conn: psycopg.Connection[DictRow], body: dict[str, Any]) -> list[int]:
    """The path of the target operator, after checking it and the store are the caller's."""
    operator_id, store_id = body["to_operator_id"], body["to_store_id"]
    path = operators.path(conn, operator_id)
    own_store = principal().store_id
    if store_id is None:
        if own_store is not None:
            _wrong_store(f"an account of store {own_store} moves devices into that store only")
        return path
    store = stores.find(conn, store_id)
    if store["operator_id"] != operator_id:
        _wrong_store(
            f"store {store_id} belongs to operator {store['operator_id']}, not {operator_id}"
        )
    return path


def _locked(conn: psycopg.Connection[DictRow], device_ids: list[str]) -> list[dict[str, Any]]:
    """The devices, locked; 404 for the first the caller may not see, 409 for leased ones."""
    rows = conn.execute(LOCK_DEVICES, scope.params(ids=device_ids)).fetchall()
    found = {row["id"]: row for row in rows}
    for device_id in device_ids:
        if device_id not in found:
            not_found("device", device_id)
    leased = [row["device_id"] for row in conn.execute(LOCK_LEASES, {"ids": device_ids})
              if row["leased"]]  # fmt: skip
    if leased:
        raise Conflict(f"{len(leased)} of the devices are leased: {_listed(leased)};"
                  " end their leases first, nothing was moved")  # fmt: skip
    return [found[device_id] for device_id in device_ids]
