"""``/api/devices/transfer``: move devices to another operator or store of the caller's
subtree, all or none; ``/api/devices/{id}/transfers``: where a device has been.

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

import marshmallow as ma
import psycopg
from flask.views import MethodView

from cloud.devices.schemas.devices import check_device_id
from cloud.http.db import connection
from cloud.http.problems import fail
from cloud.http.schemas import Blueprint, Timestamp
from cloud.identity import scope
from cloud.identity.guard import note, principal, requires
from cloud.tenancy.views.stores import IN_SCOPE as STORE_IN_SCOPE

blp = Blueprint(
    "transfers", __name__, url_prefix="/devices",
    description="Moving devices between operators and stores, and their history",
)  # fmt: skip

MAX_DEVICES = 1000
LISTED = 20  # ids named in a refusal; the rest are counted

TARGET_OPERATOR = f"SELECT id, path FROM operator o WHERE o.id = %(id)s AND {scope.owned('o.id')}"
TARGET_STORE = f"SELECT id, operator_id FROM store s WHERE s.id = %(id)s AND {STORE_IN_SCOPE}"
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
# FOR UPDATE in the subquery: waits for a dispatcher pass holding a row, as a cancel does.
CANCEL_OPEN_COMMANDS = """
UPDATE command c SET state = 'cancelled', cancelled_at = now()
FROM (SELECT cmd_id FROM command WHERE device_id = ANY(%(ids)s) AND state IN ('queued', 'sent')
      ORDER BY cmd_id FOR UPDATE) open
WHERE c.cmd_id = open.cmd_id AND c.state IN ('queued', 'sent')
RETURNING c.cmd_id
"""
DROPPED_WHY = "the device moved to an operator outside the fence's owner"
HISTORY = f"""
SELECT id, device_id, from_operator_id, from_store_id, to_operator_id, to_store_id, moved_at,
       moved_by, note
FROM device_transfer WHERE device_id = %(device_id)s
  AND {scope.held("device_transfer.device_id", "device_transfer.moved_at")}
ORDER BY moved_at DESC, id DESC
"""


class TransferSchema(ma.Schema):
    """The body of POST /api/devices/transfer."""

    device_ids = ma.fields.List(
        ma.fields.String(validate=check_device_id),
        required=True,
        validate=ma.validate.Length(min=1, max=MAX_DEVICES),
        metadata={"description": f"1 to {MAX_DEVICES} devices of the caller's subtree"},
    )
    to_operator_id = ma.fields.Integer(
        required=True, metadata={"description": "an operator of the caller's subtree"}
    )
    to_store_id = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        metadata={"description": "a store of to_operator_id; null: no store"},
    )
    note = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=1000)
    )


class TransferResultSchema(ma.Schema):
    moved = ma.fields.List(ma.fields.String(), metadata={"description": "the devices moved"})
    unchanged = ma.fields.List(
        ma.fields.String(), metadata={"description": "already at that operator and store"}
    )
    to_operator_id = ma.fields.Integer()
    to_store_id = ma.fields.Integer(allow_none=True)
    dropped_geofence_assignments = ma.fields.Integer(
        metadata={"description": "assignments to fences the new operator may not use"}
    )
    resolved_alarms = ma.fields.Integer(
        metadata={"description": "open alarms of those fences, resolved by 'auto'"}
    )
    cancelled_commands = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "queued or sent commands of devices that changed operator"},
    )


class DeviceTransferSchema(ma.Schema):
    id = ma.fields.Integer()
    device_id = ma.fields.String()
    from_operator_id = ma.fields.Integer()
    from_store_id = ma.fields.Integer(allow_none=True)
    to_operator_id = ma.fields.Integer()
    to_store_id = ma.fields.Integer(allow_none=True)
    moved_at = Timestamp()
    moved_by = ma.fields.String()
    note = ma.fields.String(allow_none=True)


def _listed(ids: list[str]) -> str:
    named = ", ".join(map(repr, ids[:LISTED]))
    return named + (f" and {len(ids) - LISTED} more" if len(ids) > LISTED else "")


def _wrong_store(detail: str) -> NoReturn:
    fail(422, f"to_store_id: {detail}", errors=[
        {"field": "to_store_id", "in": "body", "reason": detail}
    ])  # fmt: skip


def _target(conn: psycopg.Connection, body: dict[str, Any]) -> list[int]:
    """The path of the target operator, after checking it and the store are the caller's."""
    operator_id, store_id = body["to_operator_id"], body["to_store_id"]
    operator = conn.execute(TARGET_OPERATOR, scope.params(id=operator_id)).fetchone()
    if operator is None:
        fail(404, f"no operator {operator_id}")
    own_store = principal().store_id
    if store_id is None:
        if own_store is not None:
            _wrong_store(f"an account of store {own_store} moves devices into that store only")
        return operator["path"]
    store = conn.execute(TARGET_STORE, scope.params(id=store_id)).fetchone()
    if store is None:
        fail(404, f"no store {store_id}")
    if store["operator_id"] != operator_id:
        _wrong_store(
            f"store {store_id} belongs to operator {store['operator_id']}, not {operator_id}"
        )
    return operator["path"]


def _locked(conn: psycopg.Connection, device_ids: list[str]) -> list[dict[str, Any]]:
    """The devices, locked; 404 for the first the caller may not see, 409 for leased ones."""
    rows = conn.execute(LOCK_DEVICES, scope.params(ids=device_ids)).fetchall()
    found = {row["id"]: row for row in rows}
    for device_id in device_ids:
        if device_id not in found:
            fail(404, f"no device {device_id!r}")
    leased = [row["device_id"] for row in conn.execute(LOCK_LEASES, {"ids": device_ids})
              if row["leased"]]  # fmt: skip
    if leased:
        fail(409, f"{len(leased)} of the devices are leased: {_listed(leased)};"
                  " end their leases first, nothing was moved")  # fmt: skip
    return [found[device_id] for device_id in device_ids]


@blp.route("/transfer")
class Transfer(MethodView):
    @requires("device.transfer")
    @blp.arguments(TransferSchema)
    @blp.response(200, TransferResultSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body):
        """Move devices to an operator, or a store of it, all or none

        Every device and `to_operator_id` must be in the caller's subtree (404 naming the
        first that is not); `to_store_id`, if given, must be a store of `to_operator_id`.
        Refused (409, naming them) while any of the devices is leased. A device already at
        that operator and store is left alone (`unchanged`). Assignments to geofences of
        operators that are not above the new operator are dropped, and commands still
        queued or sent for a device that changes operator are cancelled.
        """
        device_ids = list(dict.fromkeys(body["device_ids"]))
        target = {"operator_id": body["to_operator_id"], "store_id": body["to_store_id"]}
        note(to_operator_id=target["operator_id"], to_store_id=target["store_id"])
        with connection() as conn, conn.transaction():
            path = _target(conn, body)
            devices = _locked(conn, device_ids)
            destination = (target["operator_id"], target["store_id"])
            moving = [d for d in devices if (d["operator_id"], d["store_id"]) != destination]
            staying = [d["id"] for d in devices if (d["operator_id"], d["store_id"]) == destination]
            moved = [d["id"] for d in moving]
            counts = {"dropped": 0, "resolved": 0}
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
                    rows = conn.execute(CANCEL_OPEN_COMMANDS, {"ids": new_owner}).fetchall()
                    cancelled = sorted(row["cmd_id"] for row in rows)
        note(moved=moved, cancelled_commands=cancelled)
        return {
            "moved": moved,
            "unchanged": staying,
            "to_operator_id": target["operator_id"],
            "to_store_id": target["store_id"],
            "dropped_geofence_assignments": counts["dropped"],
            "resolved_alarms": counts["resolved"],
            "cancelled_commands": cancelled,
        }


@blp.route("/<string:device_id>/transfers")
class DeviceTransfers(MethodView):
    @requires("device.read")
    @blp.response(200, DeviceTransferSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, device_id):
        """List a device's moves between operators and stores, newest first

        Only the moves while the caller's subtree held the device (the one that brought it
        in included): where it was before is its earlier owners' business.
        """
        params = scope.params(device_id=device_id)
        with connection() as conn:  # the guard has answered 404 for another's device
            return conn.execute(HISTORY, params).fetchall()
