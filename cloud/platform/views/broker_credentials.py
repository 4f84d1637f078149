"""``/api/devices/{id}/broker-credentials``: a device's own MQTT account.

POST issues one (or rotates it: the old password stops working at the next broker reload)
and is the only answer that ever holds the password; GET says whether one is active; DELETE
revokes it. The broker learns of changes from ``voltrent cloud broker-config`` (Mosquitto,
then SIGHUP) or at once through ``/api/broker/authn`` (EMQX over HTTP). Every method needs
``device.credentials`` and works only on the caller's devices.
"""

from __future__ import annotations

from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires
from cloud.platform import device_credentials
from cloud.platform.schemas import CredentialsSchema

blp = Blueprint(
    "broker_credentials",
    __name__,
    description="Each device's own MQTT credentials: issue, rotate, revoke",
)


@blp.route("/devices/<device_id>/broker-credentials")
class BrokerCredentials(MethodView):
    @requires("device.credentials")
    @blp.response(200, CredentialsSchema)
    def get(self, device_id):
        """A device's MQTT account (never its password)"""
        with connection() as conn:
            return device_credentials.get(conn, device_id)

    @requires("device.credentials")
    @blp.response(201, CredentialsSchema)
    def post(self, device_id):
        """Issue or rotate a device's MQTT password (shown in this answer only)"""
        with connection() as conn:
            return device_credentials.issue(conn, device_id)

    @requires("device.credentials")
    @blp.response(200, CredentialsSchema)
    def delete(self, device_id):
        """Revoke a device's MQTT account"""
        with connection() as conn:
            return device_credentials.revoke(conn, device_id)
