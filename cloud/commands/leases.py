"""Lease terms: the term each device enforces, also offline, and who may change it.

Every change gets a higher ``version``; the dispatcher publishes the term retained on
``down/lease`` (``outbox.publish_leases``). Setting and ending a term needs ``lease.write``
(the guard checks it); turning the device's cut-off-when-not-leased on, or changing it,
also needs ``device.command.cutoff``, checked here against the value the write replaces.
``updated_by`` is the caller's login.
"""

from __future__ import annotations

from typing import Any, NoReturn

import psycopg
from psycopg.rows import DictRow

from cloud.devices import registry
from cloud.errors import Forbidden, not_found
from cloud.identity import scope
from cloud.identity.principal import principal

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


def _none(device_id: str) -> NoReturn:
    """404 for a device of the caller's without a term, worded as every 404."""
    not_found("lease term for device", device_id)


def get(conn: psycopg.Connection[DictRow], device_id: str) -> dict[str, Any]:
    """The term of the caller's device, with the version published to it."""
    row = conn.execute(GET_LEASE, scope.params(device_id=device_id)).fetchone()
    if row is None:
        _none(device_id)
    return row


def put(conn: psycopg.Connection[DictRow], device_id: str, term: dict[str, Any]) -> dict[str, Any]:
    """Write the whole ``term`` as the device's new version.

    The device is locked first: two first terms of one device (no lease_term row to lock
    yet) are written one after the other, so the second's cut-off check sees the first; and
    a transfer (which locks its devices) either finishes first, and the device is then
    re-checked under its new owner, or waits and sees the lease."""
    params = scope.params(**term, device_id=device_id, updated_by=principal().login)
    registry.require(conn, device_id, lock=True)
    _check_cutoff(conn, params, term["cutoff_when_not_leased"])
    row = conn.execute(PUT_LEASE, params).fetchone()
    assert row is not None  # the device is the caller's, and locked
    return row


def end(conn: psycopg.Connection[DictRow], device_id: str) -> dict[str, Any]:
    """End the lease: not leased, a new version; the cut-off setting and grace stay."""
    params = scope.params(device_id=device_id, updated_by=principal().login)
    row = conn.execute(END_LEASE, params).fetchone()
    if row is None:
        _none(device_id)
    return row


def _check_cutoff(conn: psycopg.Connection[DictRow], params: dict[str, Any], cutoff: bool) -> None:
    """403 if the term turns cut-off on or changes it and the caller may not."""
    current = conn.execute(CURRENT_CUTOFF, params).fetchone()
    changes = cutoff != (current["cutoff_when_not_leased"] if current else False)
    who = principal()
    if (cutoff or changes) and not who.can(CUTOFF_PERMISSION):
        raise Forbidden(
            f"Setting cutoff_when_not_leased needs the permission"
            f" '{CUTOFF_PERMISSION}', which {who.login} does not have."
        )
