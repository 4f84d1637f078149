"""``/api/devices/{id}/command-key``: the key a gateway checks its commands and lease terms with.

GET says which key the cloud signs this device's commands with (its ``kid`` and
generation; never the key). POST rotates: the generation goes up by one, and the answer is
the only one that holds the new key, with the ``[commands]`` section for the gateway's
edge.toml. The dispatcher signs with the newest generation only, and a gateway holding
only the old key refuses what is signed from then on ("unknown signing key ..."): add the
new key next to the old one in the gateway's edge.toml, drop the old one later.
"""

from __future__ import annotations

import marshmallow as ma
from flask import Flask, current_app
from flask.views import MethodView

from cloud.commands import keys as command_keys
from cloud.commands.keys import Signer
from cloud.config import CloudConfig
from cloud.http.db import connection
from cloud.http.problems import fail
from cloud.http.schemas import Blueprint
from cloud.identity import scope
from cloud.identity.guard import requires
from protocols.contract import signing

blp = Blueprint(
    "command_keys",
    __name__,
    description="Each device's command signing key: which one is in use, rotation",
)

_EXTENSION = "voltrent.command_keys"
SIGNING_OFF = (
    "command signing is off: set VOLTRENT_COMMAND_KEY (or VOLTRENT_COMMAND_KEY_FILE) for the"
    " API and the workers"
)


def init_app(app: Flask, config: CloudConfig) -> None:
    """Give this blueprint the master key of ``config`` (None: signing is off)."""
    app.extensions[_EXTENSION] = Signer(config.command_key) if config.command_key else None


def _signer() -> Signer | None:
    return current_app.extensions[_EXTENSION]


class CommandKeySchema(ma.Schema):
    device_id = ma.fields.String()
    kid = ma.fields.String(
        allow_none=True, metadata={"description": "'<fingerprint>.<generation>'; null: off"}
    )
    generation = ma.fields.Integer()
    signing = ma.fields.Boolean(metadata={"description": "whether the cloud signs at all"})
    key = ma.fields.String(metadata={"description": "base64; only in the answer to POST"})
    edge_toml = ma.fields.String(
        metadata={"description": "the gateway's [commands] section; only in the answer to POST"}
    )


_VISIBLE = f"SELECT 1 FROM device d WHERE d.id = %(id)s AND {scope.device('d')}"


def _registered(device_id: str, found: int | None) -> int:
    if found is None:
        fail(404, f"device {device_id!r} is not registered")
    return found


def _visible(conn, device_id: str) -> None:
    """404 for a device outside the caller's subtree (the key functions do not scope)."""
    if conn.execute(_VISIBLE, scope.params(id=device_id)).fetchone() is None:
        fail(404, f"device {device_id!r} is not registered")


@blp.route("/devices/<device_id>/command-key")
class CommandKey(MethodView):
    @requires("device.credentials")
    @blp.response(200, CommandKeySchema)
    def get(self, device_id):
        """Which key the cloud signs a device's commands with (never the key)"""
        with connection() as conn:
            _visible(conn, device_id)
            generation = _registered(device_id, command_keys.generation(conn, device_id))
        signer = _signer()
        return {
            "device_id": device_id,
            "kid": signer.key(device_id, generation).kid if signer else None,
            "generation": generation,
            "signing": signer is not None,
        }

    @requires("device.credentials")
    @blp.response(200, CommandKeySchema)
    def post(self, device_id):
        """Rotate a device's command key (the new key is shown in this answer only)"""
        signer = _signer()
        with connection() as conn, conn.transaction():
            _visible(conn, device_id)
            if signer is None:
                fail(503, SIGNING_OFF)
            generation = _registered(device_id, command_keys.rotate(conn, device_id))
        key = signer.key(device_id, generation)
        return {
            "device_id": device_id,
            "kid": key.kid,
            "generation": generation,
            "signing": True,
            "key": signing.encode_key(key.secret),
            "edge_toml": key.edge_toml(),
        }
