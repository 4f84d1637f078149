"""``/api/.../commands``: issue commands to one device or many, follow and cancel them.

The API only writes rows (the transactional outbox, ``cloud.commands.issuing``); the
dispatcher in the worker publishes them and the device's ack moves them to their final
state (``cloud.commands.states``). Only the caller's commands and devices are seen
(``cloud.commands.ledger``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import url_for
from flask.views import MethodView

from cloud.commands import issuing, ledger
from cloud.commands.schemas import (
    BatchSchema,
    BulkCommandSchema,
    CancelSchema,
    CommandCreateSchema,
    CommandHistoryArgs,
    CommandSchema,
)
from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires, signed_in
from cloud.identity.permissions import COMMAND_PERMISSIONS

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint("commands", __name__, description="Remote control: commands to devices")

TYPE_PERMISSIONS = ", ".join(f"`{kind}`: `{perm}`" for kind, perm in COMMAND_PERMISSIONS.items())


def _with_type_permissions(func: F) -> F:
    """Add to ``func``'s description which permission each command type needs."""
    doc = (func.__doc__ or "").rstrip()
    func.__doc__ = f"{doc}\n\nEach command type needs its own permission: {TYPE_PERMISSIONS}."
    return func


@blp.route("/devices/<string:device_id>/commands")
class DeviceCommands(MethodView):
    @requires("command.read")
    @blp.arguments(CommandHistoryArgs, location="query")
    @blp.response(200, CommandSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, device_id, pagination_parameters):
        """List a device's commands, newest first"""
        with connection() as conn:  # the guard has answered 404 for another's device
            return ledger.history(conn, device_id, args.get("state"), pagination_parameters)

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
        with connection() as conn:
            row = issuing.issue(conn, device_id, body)
        return row, 201, {"Location": url_for("commands.Command", cmd_id=row["cmd_id"])}


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
        with connection() as conn:
            return issuing.issue_batch(conn, body), 201


@blp.route("/commands/<string:cmd_id>")
class Command(MethodView):
    @requires("command.read")
    @blp.response(200, CommandSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, cmd_id):
        """Get a command's live status"""
        with connection() as conn:
            return ledger.get(conn, cmd_id)


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
        with connection() as conn:
            return ledger.cancel(conn, cmd_id)
