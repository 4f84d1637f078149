"""``/api/devices/{id}/broker-credentials``: a device's own MQTT account.

POST issues one (or rotates it: the old password stops working at the next broker reload)
and is the only answer that ever holds the password; GET says whether one is active; DELETE
revokes it. The broker learns of changes from ``voltrent cloud broker-config`` (Mosquitto,
then SIGHUP) or at once through ``/api/broker/authn`` (EMQX over HTTP). Every method needs
``device.credentials`` and works only on the caller's devices.
"""

from __future__ import annotations

import marshmallow as ma
import psycopg
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.problems import fail
from cloud.http.schemas import Blueprint
from cloud.identity import scope
from cloud.identity.guard import requires
from cloud.platform import broker_accounts as accounts

blp = Blueprint(
    "broker_credentials",
    __name__,
    description="Each device's own MQTT credentials: issue, rotate, revoke",
)

GET_ACCOUNT = f"""
SELECT username, created_at, rotated_at, revoked_at FROM broker_account
WHERE device_id = %(device_id)s AND {scope.device_id()}"""
DEVICE_EXISTS = f"SELECT 1 FROM device d WHERE d.id = %(device_id)s AND {scope.device('d')}"


class CredentialsSchema(ma.Schema):
    username = ma.fields.String()
    password = ma.fields.String(metadata={"description": "only in the answer to POST"})
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    rotated_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)


def _device(conn: psycopg.Connection, device_id: str) -> dict:
    """The query parameters of the caller's ``device_id``; 404 if it is not the caller's."""
    params = scope.params(device_id=device_id)
    if conn.execute(DEVICE_EXISTS, params).fetchone() is None:
        fail(404, f"no device {device_id!r}")
    return params


def _shown(row: dict) -> dict:
    return {**row, "active": row["revoked_at"] is None}


@blp.route("/devices/<device_id>/broker-credentials")
class BrokerCredentials(MethodView):
    @requires("device.credentials")
    @blp.response(200, CredentialsSchema)
    def get(self, device_id):
        """A device's MQTT account (never its password)"""
        with connection() as conn:
            row = conn.execute(GET_ACCOUNT, _device(conn, device_id)).fetchone()
        if row is None:
            fail(404, f"device {device_id!r} has no broker credentials yet: POST issues them")
        return _shown(row)

    @requires("device.credentials")
    @blp.response(201, CredentialsSchema)
    def post(self, device_id):
        """Issue or rotate a device's MQTT password (shown in this answer only)"""
        with connection() as conn, conn.transaction():
            _device(conn, device_id)
            password, row = accounts.issue(conn, device_id)
        return {**_shown(row), "password": password}

    @requires("device.credentials")
    @blp.response(200, CredentialsSchema)
    def delete(self, device_id):
        """Revoke a device's MQTT account"""
        with connection() as conn, conn.transaction():
            params = _device(conn, device_id)
            if not accounts.revoke(conn, device_id):
                fail(404, f"device {device_id!r} has no active broker credentials")
            row = conn.execute(GET_ACCOUNT, params).fetchone()
        return _shown(row)
