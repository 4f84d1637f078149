"""``/api/devices/transfer``: move devices to another operator or store of the caller's
subtree, all or none; ``/api/devices/{id}/transfers``: where a device has been. What a move
does is ``cloud.tenancy.transfers``'."""

from __future__ import annotations

from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.schemas import Blueprint
from cloud.identity.guard import note, requires
from cloud.tenancy import transfers
from cloud.tenancy.schemas.transfers import (
    DeviceTransferSchema,
    TransferResultSchema,
    TransferSchema,
)

blp = Blueprint(
    "transfers", __name__, url_prefix="/devices",
    description="Moving devices between operators and stores, and their history",
)  # fmt: skip


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
        note(to_operator_id=body["to_operator_id"], to_store_id=body["to_store_id"])
        with connection() as conn:
            result = transfers.transfer(conn, body)
        note(moved=result["moved"], cancelled_commands=result["cancelled_commands"])
        return result


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
        with connection() as conn:  # the guard has answered 404 for another's device
            return transfers.history(conn, device_id)
