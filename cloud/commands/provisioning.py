"""A device's command key as the API shows it: which key the cloud signs with (never the
key itself), and a rotation, whose answer is the only one that holds the new key.

Only the caller's devices (``registry.require``). Without a master key signing is off:
there is a generation to show, but no key to rotate to (SigningOff).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import DictRow

from cloud.commands import keys
from cloud.commands.errors import SigningOff
from cloud.commands.keys import Signer
from cloud.devices import registry
from cloud.errors import not_found
from protocols.contract import signing

SIGNING_OFF = (
    "command signing is off: set VOLTRENT_COMMAND_KEY (or VOLTRENT_COMMAND_KEY_FILE) for the"
    " API and the workers"
)


def describe(
    conn: psycopg.Connection[DictRow], device_id: str, signer: Signer | None
) -> dict[str, Any]:
    """Which key of the caller's device the cloud signs with: its kid and generation."""
    registry.require(conn, device_id)
    generation = keys.generation(conn, device_id)
    if generation is None:  # deleted since the lookup
        not_found("device", device_id)
    return {
        "device_id": device_id,
        "kid": signer.key(device_id, generation).kid if signer else None,
        "generation": generation,
        "signing": signer is not None,
    }


def rotate(
    conn: psycopg.Connection[DictRow], device_id: str, signer: Signer | None
) -> dict[str, Any]:
    """Move the caller's device to its next key (keys.rotate); the answer holds the new key
    and the gateway's ``[commands]`` section."""
    registry.require(conn, device_id)
    if signer is None:
        raise SigningOff(SIGNING_OFF)
    with conn.transaction():
        generation = keys.rotate(conn, device_id)
    if generation is None:  # deleted since the lookup
        not_found("device", device_id)
    key = signer.key(device_id, generation)
    return {
        "device_id": device_id,
        "kid": key.kid,
        "generation": generation,
        "signing": True,
        "key": signing.encode_key(key.secret),
        "edge_toml": key.edge_toml(),
    }
