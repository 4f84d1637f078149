"""``/api/devices/<id>/lease``: the lease term a device enforces, also when offline.

Every change gets a higher ``version``; the dispatcher publishes the term retained on
``down/lease`` and records ``published_version``. The rental business (orders, renewals,
overdue) will drive this later; for now an operator sets and clears it here. Who changed it
comes from the ``X-Operator`` header (optional until accounts exist).
"""

from __future__ import annotations

from flask import request
from flask.views import MethodView

from cloud.api.command_schemas import LeaseBodySchema, LeaseSchema
from cloud.api.commands import OPERATOR_HEADER
from cloud.api.db import connection
from cloud.api.problems import fail
from cloud.api.schemas import Blueprint

blp = Blueprint(
    "leases", __name__, url_prefix="/api/devices", description="Lease terms devices enforce"
)

DEVICE_EXISTS = "SELECT 1 FROM device WHERE id = %s"
GET_LEASE = "SELECT * FROM lease_term WHERE device_id = %s"
PUT_LEASE = """
INSERT INTO lease_term AS l (device_id, leased, leased_until, grace_s, cutoff_when_not_leased,
                             lease_id, updated_by)
VALUES (%(device_id)s, %(leased)s, %(leased_until)s, %(grace_s)s, %(cutoff_when_not_leased)s,
        %(lease_id)s, %(updated_by)s)
ON CONFLICT (device_id) DO UPDATE SET
    version = nextval('lease_term_version'), leased = EXCLUDED.leased,
    leased_until = EXCLUDED.leased_until, grace_s = EXCLUDED.grace_s,
    cutoff_when_not_leased = EXCLUDED.cutoff_when_not_leased, lease_id = EXCLUDED.lease_id,
    updated_at = now(), updated_by = EXCLUDED.updated_by
RETURNING *
"""
# Not leased any more; the device's cut-off setting and grace stay as they were.
END_LEASE = """
UPDATE lease_term SET version = nextval('lease_term_version'), leased = false,
    leased_until = NULL, lease_id = NULL, updated_at = now(), updated_by = %s
WHERE device_id = %s
RETURNING *
"""


def _operator() -> str | None:
    return request.headers.get(OPERATOR_HEADER, "").strip()[:200] or None


def _require_device(conn, device_id: str) -> None:
    if conn.execute(DEVICE_EXISTS, (device_id,)).fetchone() is None:
        fail(404, f"no device {device_id!r}")


@blp.route("/<string:device_id>/lease")
class Lease(MethodView):
    @blp.response(200, LeaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, device_id):
        """Get a device's lease term and the version published to it"""
        with connection() as conn:
            _require_device(conn, device_id)
            row = conn.execute(GET_LEASE, (device_id,)).fetchone()
        if row is None:
            fail(404, f"device {device_id!r} has no lease term")
        return row

    @blp.arguments(LeaseBodySchema)
    @blp.response(200, LeaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def put(self, term, device_id):
        """Set a device's lease term (the whole term; a new version)

        `leased_until` null is open-ended. With `cutoff_when_not_leased`, the device turns
        discharge off when not leased, or once `leased_until` + `grace_s` has passed, on
        its own, also without connectivity.
        """
        with connection() as conn:
            _require_device(conn, device_id)
            return conn.execute(
                PUT_LEASE, {**term, "device_id": device_id, "updated_by": _operator()}
            ).fetchone()

    @blp.response(200, LeaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, device_id):
        """End a device's lease: not leased (a new version; cut-off setting kept)"""
        with connection() as conn:
            _require_device(conn, device_id)
            row = conn.execute(END_LEASE, (_operator(), device_id)).fetchone()
        if row is None:
            fail(404, f"device {device_id!r} has no lease term")
        return row
