"""``/api/.../commands``: issue commands to one device or many, follow and cancel them.

The API only writes rows (the transactional outbox); the dispatcher in the worker publishes
them and the device's ack moves them to their final state. Only the caller's devices can be
commanded or seen (``cloud.identity.scope``); each command type needs its own permission
(``permissions.COMMAND_PERMISSIONS``), checked in the view because the type is in the body.
The command's ``issued_by`` is the caller's login.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import psycopg
from flask import url_for
from flask.views import MethodView
from psycopg.types.json import Jsonb

from cloud.commands.outbox import INSERT_COMMAND, new_id
from cloud.commands.schemas import (
    BatchSchema,
    BulkCommandSchema,
    CancelSchema,
    CommandCreateSchema,
    CommandHistoryArgs,
    CommandSchema,
)
from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE, fetch_page
from cloud.http.problems import fail
from cloud.http.schemas import Blueprint
from cloud.identity import scope
from cloud.identity.guard import principal, requires, signed_in
from cloud.identity.permissions import COMMAND_PERMISSIONS
from protocols.contract.commands import CommandError, check_command

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint("commands", __name__, description="Remote control: commands to devices")

DEVICE_EXISTS = f"SELECT 1 FROM device d WHERE d.id = %(device_id)s AND {scope.device('d')}"
INSERT_BATCH = """
INSERT INTO command_batch (batch_id, issued_by, reason, type, args, selector, operator_id)
VALUES (%(batch_id)s, %(issued_by)s, %(reason)s, %(type)s, %(args)s, %(selector)s, %(tenant)s)
"""
INSERT_BATCH_COMMANDS = """
INSERT INTO command (cmd_id, device_id, type, args, issued_by, reason, expires_at, batch_id)
SELECT u.cmd_id, u.device_id, %(type)s, %(args)s, %(issued_by)s, %(reason)s,
       now() + make_interval(secs => %(expires_in_s)s), %(batch_id)s
FROM unnest(%(cmd_ids)s::text[], %(device_ids)s::text[]) WITH ORDINALITY
     AS u(cmd_id, device_id, n)
ORDER BY u.n
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
# A command is the caller's if its device is and was the caller's subtree's when it was
# issued: a transfer does not show the new owner what the old one sent.
_MINE = f"cmd_id = %(cmd_id)s AND {scope.held('command.device_id', 'command.created_at')}"
GET_COMMAND = f"SELECT * FROM command WHERE {_MINE}"
# FOR UPDATE waits for a dispatcher pass that holds the row, then sees the state it left.
CANCEL = f"""
UPDATE command c SET state = 'cancelled', cancelled_at = now()
FROM (SELECT cmd_id, state AS was FROM command WHERE {_MINE} FOR UPDATE) old
WHERE c.cmd_id = old.cmd_id AND old.was IN ('queued', 'sent')
RETURNING c.*, old.was
"""
_HISTORY_WHERE = (
    "WHERE device_id = %(device_id)s AND (%(state)s::text IS NULL OR state = %(state)s)"
    f" AND {scope.device_id('device_id')} AND created_at <@ {scope.periods()}"
)
COUNT_HISTORY = "SELECT count(*) AS n FROM command " + _HISTORY_WHERE
LIST_HISTORY = (
    "SELECT * FROM command " + _HISTORY_WHERE
    + " ORDER BY created_at DESC, cmd_id DESC LIMIT %(limit)s OFFSET %(offset)s"
)  # fmt: skip
TYPE_PERMISSIONS = ", ".join(f"`{kind}`: `{perm}`" for kind, perm in COMMAND_PERMISSIONS.items())


def _with_type_permissions(func: F) -> F:
    """Add to ``func``'s description which permission each command type needs."""
    doc = (func.__doc__ or "").rstrip()
    func.__doc__ = f"{doc}\n\nEach command type needs its own permission: {TYPE_PERMISSIONS}."
    return func


def _allowed_args(body: dict[str, Any]) -> dict[str, Any]:
    """The normalised args of a command the caller may issue: 403 naming the permission its
    type needs, else a 422 naming the field the command catalogue refused."""
    needed = COMMAND_PERMISSIONS.get(body["type"])
    if needed is None:
        _checked_args(body)  # an unknown type: a 422 naming the field
        fail(403, f"The command type {body['type']!r} has no permission rule, so nobody may"
                  " issue it.")  # fmt: skip
    who = principal()
    if not who.can(needed):
        fail(403, f"A {body['type']} command needs the permission '{needed}', which"
                  f" {who.login} does not have.")  # fmt: skip
    return _checked_args(body)


def _checked_args(body: dict[str, Any]) -> dict[str, Any]:
    """The normalised args, or a 422 naming the field the command catalogue refused."""
    try:
        return check_command(body["type"], body["args"])
    except CommandError as err:
        fail(422, str(err), errors=[{"field": err.field, "in": "body", "reason": str(err)}])


@blp.route("/devices/<string:device_id>/commands")
class DeviceCommands(MethodView):
    @requires("command.read")
    @blp.arguments(CommandHistoryArgs, location="query")
    @blp.response(200, CommandSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, device_id, pagination_parameters):
        """List a device's commands, newest first"""
        params = scope.params(device_id=device_id, state=args.get("state"))
        with connection() as conn:  # the guard has answered 404 for another's device
            return fetch_page(conn, COUNT_HISTORY, LIST_HISTORY, params, pagination_parameters)

    @signed_in
    @_with_type_permissions
    @blp.arguments(CommandCreateSchema)
    @blp.response(201, CommandSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, device_id):
        """Issue a command to a device

        The command is queued and published to the device right away if it is online,
        else when it comes back online; it expires after `expires_in_s` (default 300 s)
        and is then never sent. Follow it with `GET /api/commands/{cmd_id}`.
        """
        params = scope.params(
            cmd_id=body.get("cmd_id") or new_id("c"),
            device_id=device_id,
            type=body["type"],
            args=Jsonb(_allowed_args(body)),
            issued_by=principal().login,
            reason=body.get("reason"),
            expires_in_s=body["expires_in_s"],
        )
        with connection() as conn:
            if conn.execute(DEVICE_EXISTS, params).fetchone() is None:
                fail(404, f"no device {device_id!r}")
            try:
                with conn.transaction():
                    row = conn.execute(INSERT_COMMAND, params).fetchone()
            except psycopg.errors.UniqueViolation:
                _taken(conn, params)
            except psycopg.errors.ForeignKeyViolation:
                fail(404, f"no device {device_id!r}")
        return row, 201, {"Location": url_for("commands.Command", cmd_id=row["cmd_id"])}


def _taken(conn: psycopg.Connection, params: dict[str, Any]) -> NoReturn:
    """409 for a cmd_id in use: the caller's own command is named (a retry), another
    operator's is not (the same words as for any id that cannot be had)."""
    cmd_id = params["cmd_id"]
    if conn.execute(GET_COMMAND, params).fetchone():
        fail(409, f"command {cmd_id!r} already exists")
    reason = f"command id {cmd_id!r} is not available: choose another, or leave cmd_id out"
    fail(409, reason, errors=[{"field": "cmd_id", "in": "body", "reason": reason}])


def _unknown(device_ids: list[str]) -> None:
    """404 naming the first device that is not the caller's (unregistered looks the same)."""
    more = f" (and {len(device_ids) - 1} more)" if len(device_ids) > 1 else ""
    reason = f"no device {device_ids[0]!r}{more}"
    fail(404, reason, errors=[{"field": "device_ids", "in": "body", "reason": reason}])


@blp.route("/commands")
class Commands(MethodView):
    @signed_in
    @_with_type_permissions
    @blp.arguments(BulkCommandSchema)
    @blp.response(201, BatchSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body):
        """Issue one command to many devices

        Name the devices with `device_ids` (every one must be the caller's, else a 404 and
        nothing is issued) or select them with `filter` (`kind`, `model`, `online`; at least
        one), which selects only among the caller's devices. Each device gets its own
        command (its own `cmd_id`), all in one batch; the answer lists them.
        """
        args = _allowed_args(body)
        with connection() as conn:
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
                    fail(422, f"no device matches the filter {body['filter']}")
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
                    conn.execute(INSERT_BATCH_COMMANDS, params)
            except psycopg.errors.ForeignKeyViolation:
                fail(409, "a device was deleted while the batch was issued; issue it again")
        commands = [{"device_id": d, "cmd_id": c} for d, c in zip(device_ids, cmd_ids, strict=True)]
        return {"batch_id": batch_id, "count": len(commands), "commands": commands}, 201


@blp.route("/commands/<string:cmd_id>")
class Command(MethodView):
    @requires("command.read")
    @blp.response(200, CommandSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, cmd_id):
        """Get a command's live status"""
        with connection() as conn:
            row = conn.execute(GET_COMMAND, scope.params(cmd_id=cmd_id)).fetchone()
        if row is None:
            fail(404, f"no command {cmd_id!r}")
        return row


@blp.route("/commands/<string:cmd_id>/cancel")
class CommandCancel(MethodView):
    @requires("command.cancel")
    @blp.response(200, CancelSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, cmd_id):
        """Cancel a command that is queued or sent

        A queued command is never sent. A sent one is not sent again, but the device may
        have it already and still execute it: `may_still_execute` says so, and its ack
        (kept in `result`) tells what it did. A command in a final state is a 409.
        """
        params = scope.params(cmd_id=cmd_id)
        with connection() as conn:
            row = conn.execute(CANCEL, params).fetchone()
            if row is None:
                current = conn.execute(GET_COMMAND, params).fetchone()
                if current is None:
                    fail(404, f"no command {cmd_id!r}")
                fail(409, f"command {cmd_id!r} is {current['state']}: only a queued or sent"
                          " command can be cancelled")  # fmt: skip
        was_sent = row.pop("was") == "sent"
        row["may_still_execute"] = was_sent
        row["note"] = (
            "cancelled after it was sent: the device may already have it and may still"
            " execute it; its ack, if any, shows in result"
            if was_sent
            else "cancelled before it was sent: it will never reach the device"
        )
        return row
