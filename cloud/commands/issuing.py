"""Issuing commands: to one device, or one each to many devices in a batch.

Issuing only writes rows (the transactional outbox, ``states.INSERT_COMMAND``); the
dispatcher publishes them. Only the caller's devices can be commanded, and each command type
needs its own permission (``permissions.COMMAND_PERMISSIONS``): the type is in the body, so
it is checked here rather than by the guard. ``issued_by`` is the caller's login.
"""

from __future__ import annotations

from typing import Any, NoReturn

import psycopg
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from cloud.commands import states
from cloud.commands.ledger import GET_COMMAND
from cloud.commands.outbox import new_id
from cloud.devices import registry
from cloud.errors import Conflict, Forbidden, Invalid, NotFound, not_found
from cloud.identity import scope
from cloud.identity.permissions import COMMAND_PERMISSIONS
from cloud.identity.principal import principal
from protocols.contract.commands import CommandError, check_command

INSERT_BATCH = """
INSERT INTO command_batch (batch_id, issued_by, reason, type, args, selector, operator_id)
VALUES (%(batch_id)s, %(issued_by)s, %(reason)s, %(type)s, %(args)s, %(selector)s, %(tenant)s)
"""
KNOWN_DEVICES = f"SELECT d.id FROM device d WHERE d.id = ANY(%(device_ids)s) AND {scope.device()}"
# Every filter is optional: a NULL parameter switches its condition off. Only ever the
# caller's devices.
FILTERED_DEVICES = f"""
SELECT d.id FROM device d LEFT JOIN device_state s ON s.device_id = d.id
WHERE {scope.device("d")}
  AND (%(kind)s::text IS NULL OR d.kind = %(kind)s)
  AND (%(model)s::text IS NULL OR d.model = %(model)s)
  AND (%(online)s::boolean IS NULL OR coalesce(s.online, false) = %(online)s)
ORDER BY d.id COLLATE "C"
"""


def allowed_args(body: dict[str, Any]) -> dict[str, Any]:
    """The normalised args of a command the caller may issue: 403 naming the permission its
    type needs, else a 422 naming the field the command catalogue refused."""
    needed = COMMAND_PERMISSIONS.get(body["type"])
    if needed is None:
        _checked_args(body)  # an unknown type: a 422 naming the field
        raise Forbidden(
            f"The command type {body['type']!r} has no permission rule, so nobody may issue it."
        )
    who = principal()
    if not who.can(needed):
        raise Forbidden(
            f"A {body['type']} command needs the permission '{needed}', which"
            f" {who.login} does not have."
        )
    return _checked_args(body)


def _checked_args(body: dict[str, Any]) -> dict[str, Any]:
    """The normalised args, or a 422 naming the field the command catalogue refused."""
    try:
        return check_command(body["type"], body["args"])
    except CommandError as err:
        fault = {"field": err.field, "in": "body", "reason": str(err)}
        raise Invalid(str(err), errors=[fault]) from err


def issue(
    conn: psycopg.Connection[DictRow], device_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Queue the command of ``body`` for the caller's device; the new command row."""
    params = scope.params(
        cmd_id=body.get("cmd_id") or new_id("c"),
        device_id=device_id,
        type=body["type"],
        args=Jsonb(allowed_args(body)),
        issued_by=principal().login,
        reason=body.get("reason"),
        expires_in_s=body["expires_in_s"],
    )
    registry.require(conn, device_id)
    try:
        with conn.transaction():
            row = conn.execute(states.INSERT_COMMAND, params).fetchone()
    except psycopg.errors.UniqueViolation:
        _taken(conn, params)
    except psycopg.errors.ForeignKeyViolation:
        not_found("device", device_id)
    assert row is not None  # INSERT ... RETURNING
    return row


def _taken(conn: psycopg.Connection[DictRow], params: dict[str, Any]) -> NoReturn:
    """409 for a cmd_id in use: the caller's own command is named (a retry), another
    operator's is not (the same words as for any id that cannot be had)."""
    cmd_id = params["cmd_id"]
    if conn.execute(GET_COMMAND, scope.params(id=cmd_id)).fetchone():
        raise Conflict(f"command {cmd_id!r} already exists")
    reason = f"command id {cmd_id!r} is not available: choose another, or leave cmd_id out"
    raise Conflict(reason, errors=[{"field": "cmd_id", "in": "body", "reason": reason}])


def issue_batch(conn: psycopg.Connection[DictRow], body: dict[str, Any]) -> dict[str, Any]:
    """One command for each device ``body`` names (``device_ids``: all must be the
    caller's, else a 404 and nothing is issued) or selects (``filter``), in one batch."""
    args = allowed_args(body)
    if "device_ids" in body:
        device_ids = list(dict.fromkeys(body["device_ids"]))
        found = conn.execute(KNOWN_DEVICES, scope.params(device_ids=device_ids))
        mine = {row["id"] for row in found}
        if len(mine) < len(device_ids):
            _unknown([d for d in device_ids if d not in mine])
        selector: dict[str, Any] = {"device_ids": device_ids}
    else:
        wanted = {key: body["filter"].get(key) for key in ("kind", "model", "online")}
        found = conn.execute(FILTERED_DEVICES, scope.params(**wanted))
        device_ids = [row["id"] for row in found]
        if not device_ids:
            raise Invalid(f"no device matches the filter {body['filter']}")
        selector = {"filter": body["filter"]}
    batch_id = new_id("b")
    cmd_ids = [f"{batch_id}.{n}" for n in range(1, len(device_ids) + 1)]
    params = scope.params(
        batch_id=batch_id, issued_by=principal().login, reason=body.get("reason"),
        type=body["type"], args=Jsonb(args), selector=Jsonb(selector),
        expires_in_s=body["expires_in_s"], cmd_ids=cmd_ids, device_ids=device_ids,
    )  # fmt: skip
    try:
        with conn.transaction():
            conn.execute(INSERT_BATCH, params)
            conn.execute(states.INSERT_BATCH_COMMANDS, params)
    except psycopg.errors.ForeignKeyViolation:
        raise Conflict("a device was deleted while the batch was issued; issue it again") from None
    commands = [{"device_id": d, "cmd_id": c} for d, c in zip(device_ids, cmd_ids, strict=True)]
    return {"batch_id": batch_id, "count": len(commands), "commands": commands}


def _unknown(device_ids: list[str]) -> NoReturn:
    """404 naming the first device that is not the caller's (unregistered looks the same)."""
    more = f" (and {len(device_ids) - 1} more)" if len(device_ids) > 1 else ""
    reason = f"no device {device_ids[0]!r}{more}"
    raise NotFound(reason, errors=[{"field": "device_ids", "in": "body", "reason": reason}])
