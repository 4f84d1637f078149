"""``/api/devices/{id}/command-key``: the key a gateway checks its commands and lease terms with.

GET says which key the cloud signs this device's commands with (its ``kid`` and
generation; never the key). POST rotates: the generation goes up by one, and the answer is
the only one that holds the new key, with the ``[commands]`` section for the gateway's
edge.toml. The dispatcher signs with the newest generation only, and a gateway holding
only the old key refuses what is signed from then on ("unknown signing key ..."): add the
new key next to the old one in the gateway's edge.toml, drop the old one later.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask.views import MethodView

from cloud.commands import provisioning
from cloud.commands.errors import SigningOff
from cloud.commands.keys import Signer
from cloud.commands.schemas import CommandKeySchema
from cloud.config import CloudConfig
from cloud.http.db import connection
from cloud.http.problems import fail
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires

blp = Blueprint(
    "command_keys",
    __name__,
    description="Each device's command signing key: which one is in use, rotation",
)

_EXTENSION = "voltrent.command_keys"


def init_app(app: Flask, config: CloudConfig) -> None:
    """Give this blueprint the master key of ``config`` (None: signing is off)."""
    app.extensions[_EXTENSION] = Signer(config.command_key) if config.command_key else None


def _signer() -> Signer | None:
    return current_app.extensions[_EXTENSION]


@blp.route("/devices/<device_id>/command-key")
class CommandKey(MethodView):
    @requires("device.credentials")
    @blp.response(200, CommandKeySchema)
    def get(self, device_id):
        """Which key the cloud signs a device's commands with (never the key)"""
        with connection() as conn:
            return provisioning.describe(conn, device_id, _signer())

    @requires("device.credentials")
    @blp.response(200, CommandKeySchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, device_id):
        """Rotate a device's command key (the new key is shown in this answer only)

        503 when this cloud signs no commands (no VOLTRENT_COMMAND_KEY is configured).
        """
        try:
            with connection() as conn:
                return provisioning.rotate(conn, device_id, _signer())
        except SigningOff as err:
            fail(503, str(err))
