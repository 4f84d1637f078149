"""``/api/devices/<id>/lease``: the lease term a device enforces, also when offline.

Every change gets a higher ``version``; the dispatcher publishes the term retained on
``down/lease`` and records ``published_version``. The rental business (orders, renewals,
overdue) will drive this later; for now an operator sets and clears it here. Setting and
ending a term needs ``lease.write``; turning the device's cut-off-when-not-leased on, or
changing it, also needs ``device.command.cutoff``. ``updated_by`` is the caller's login.
"""

from __future__ import annotations

from typing import Any

import psycopg
from flask.views import MethodView

from cloud.commands.schemas import LeaseBodySchema, LeaseSchema
from cloud.http.db import connection
from cloud.http.problems import fail
from cloud.http.schemas import Blueprint
from cloud.identity import scope
from cloud.identity.guard import principal, requires

blp = Blueprint(
    "leases", __name__, url_prefix="/devices", description="Lease terms devices enforce"
)

DEVICE_EXISTS = f"SELECT 1 FROM device d WHERE d.id = %(device_id)s AND {scope.device('d')}"
# A term is written with its device locked: two first terms of one device (no lease_term row
# to lock yet) are written one after the other, so the second's cut-off permission check
# sees the first; and a transfer (which locks its devices) either finishes first, and the
# device is then re-checked under its new owner, or waits and sees the lease.
LOCK_DEVICE = DEVICE_EXISTS + " FOR NO KEY UPDATE"
_MINE = f"device_id = %(device_id)s AND {scope.device_id()}"
GET_LEASE = f"SELECT * FROM lease_term WHERE {_MINE}"
# The current setting, locked until the new term is written: the permission check sees the
# value the write replaces.
CURRENT_CUTOFF = f"SELECT cutoff_when_not_leased FROM lease_term WHERE {_MINE} FOR UPDATE"
CUTOFF_PERMISSION = "device.command.cutoff"
PUT_LEASE = f"""
INSERT INTO lease_term AS l (device_id, leased, leased_until, grace_s, cutoff_when_not_leased,
                             lease_id, updated_by)
SELECT d.id, %(leased)s, %(leased_until)s, %(grace_s)s, %(cutoff_when_not_leased)s,
       %(lease_id)s, %(updated_by)s
FROM device d WHERE d.id = %(device_id)s AND {scope.device("d")}
ON CONFLICT (device_id) DO UPDATE SET
    version = nextval('lease_term_version'), leased = EXCLUDED.leased,
    leased_until = EXCLUDED.leased_until, grace_s = EXCLUDED.grace_s,
    cutoff_when_not_leased = EXCLUDED.cutoff_when_not_leased, lease_id = EXCLUDED.lease_id,
    updated_at = now(), updated_by = EXCLUDED.updated_by
RETURNING *
"""
# Not leased any more; the device's cut-off setting and grace stay as they were.
END_LEASE = f"""
UPDATE lease_term SET version = nextval('lease_term_version'), leased = false,
    leased_until = NULL, lease_id = NULL, updated_at = now(), updated_by = %(updated_by)s
WHERE {_MINE}
RETURNING *
"""


def _lock_device(conn: psycopg.Connection, params: dict[str, Any]) -> None:
    if conn.execute(LOCK_DEVICE, params).fetchone() is None:
        fail(404, f"no device {params['device_id']!r}")


def _check_cutoff(conn: psycopg.Connection, params: dict[str, Any], cutoff: bool) -> None:
    """403 if the term turns cut-off on or changes it and the caller may not."""
    current = conn.execute(CURRENT_CUTOFF, params).fetchone()
    changes = cutoff != (current["cutoff_when_not_leased"] if current else False)
    who = principal()
    if (cutoff or changes) and not who.can(CUTOFF_PERMISSION):
        fail(403, f"Setting cutoff_when_not_leased needs the permission '{CUTOFF_PERMISSION}',"
                  f" which {who.login} does not have.")  # fmt: skip


@blp.route("/<string:device_id>/lease")
class Lease(MethodView):
    @requires("device.read")
    @blp.response(200, LeaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, device_id):
        """Get a device's lease term and the version published to it"""
        params = scope.params(device_id=device_id)
        with connection() as conn:
            row = conn.execute(GET_LEASE, params).fetchone()
        if row is None:
            fail(404, f"device {device_id!r} has no lease term")
        return row

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
        params = scope.params(**term, device_id=device_id, updated_by=principal().login)
        with connection() as conn:
            _lock_device(conn, params)
            _check_cutoff(conn, params, term["cutoff_when_not_leased"])
            return conn.execute(PUT_LEASE, params).fetchone()

    @requires("lease.write")
    @blp.response(200, LeaseSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, device_id):
        """End a device's lease: not leased (a new version; cut-off setting kept)"""
        params = scope.params(device_id=device_id, updated_by=principal().login)
        with connection() as conn:
            row = conn.execute(END_LEASE, params).fetchone()
        if row is None:
            fail(404, f"device {device_id!r} has no lease term")
        return row
