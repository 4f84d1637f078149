"""``/api/devices/<id>/lease``: the lease term a device enforces, also when offline
(``cloud.commands.leases``).

The rental business (orders, renewals, overdue) will drive this later; for now an operator
sets and clears it here.
"""

from __future__ import annotations

from flask.views import MethodView

from cloud.commands import leases
from cloud.commands.schemas import LeaseBodySchema, LeaseSchema
from cloud.http.db import connection
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires

blp = Blueprint(
    "leases", __name__, url_prefix="/devices", description="Lease terms devices enforce"
)


@blp.route("/<string:device_id>/lease")
class Lease(MethodView):
    @requires("device.read")
    @blp.response(200, LeaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, device_id):
        """Get a device's lease term and the version published to it"""
        with connection() as conn:
            return leases.get(conn, device_id)

    @requires("lease.write")
    @blp.arguments(LeaseBodySchema)
    @blp.response(200, LeaseSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, term, device_id):
        """Set a device's lease term (the whole term; a new version)

        `leased_until` null is open-ended. With `cutoff_when_not_leased`, the device turns
        discharge off when not leased, or once `leased_until` + `grace_s` has passed, on
        its own, also without connectivity. Turning that on, or changing it, also needs
        the permission `device.command.cutoff`.
        """
        with connection() as conn:
            return leases.put(conn, device_id, term)

    @requires("lease.write")
    @blp.response(200, LeaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, device_id):
        """End a device's lease: not leased (a new version; cut-off setting kept)"""
        with connection() as conn:
            return leases.end(conn, device_id)
