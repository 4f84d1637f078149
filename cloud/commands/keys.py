"""Each device's command key: derived from the master secret, its id and its generation.

The store keeps only the generation (``device.command_key_generation``, migration 0012);
the key itself is computed when needed (protocols.contract.signing), so a database dump
reveals none. Used by the dispatcher to sign, and by the API and the CLI to provision a
gateway (the TOML its ``[commands]`` section needs) and to rotate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from protocols.contract import signing

GENERATION = "SELECT command_key_generation FROM device WHERE id = %s"
ROTATE = """
UPDATE device SET command_key_generation = command_key_generation + 1, updated_at = now()
WHERE id = %s
RETURNING command_key_generation
"""
# The retained term was signed with the old key: publish it again with the new one, so a
# gateway that boots with only the new key still finds a term it can check.
RESIGN_LEASE = """
UPDATE lease_term SET published_version = version - 1
WHERE device_id = %s AND published_version = version
"""


@dataclass(frozen=True)
class Signer:
    """Signs commands and lease terms for any device with keys of one master secret."""

    master: bytes = field(repr=False)

    @property
    def fingerprint(self) -> str:
        return signing.fingerprint(self.master)

    def key(self, device_id: str, generation: int) -> DeviceKey:
        return DeviceKey(
            device_id,
            generation,
            signing.key_id(self.master, generation),
            signing.device_key(self.master, device_id, generation),
        )

    def sign(self, message: signing.Signed, device_id: str, generation: int) -> signing.Signed:
        key = self.key(device_id, generation)
        return signing.sign(message, device_id, key.secret, key.kid)


@dataclass(frozen=True)
class DeviceKey:
    device_id: str
    generation: int
    kid: str
    secret: bytes = field(repr=False)

    def edge_toml(self) -> str:
        """The ``[commands]`` section of the gateway's edge.toml holding this key."""
        return (
            f"# command key of {self.device_id}, generation {self.generation}; while a rotation"
            " rolls out, keep the old key next to it\n"
            "[commands]\n"
            f'keys = {{ "{self.kid}" = "{signing.encode_key(self.secret)}" }}\n'
        )


def generation(conn: psycopg.Connection[Any], device_id: str) -> int | None:
    """The device's key generation; None when the device is not registered."""
    with conn.cursor(row_factory=tuple_row) as cursor:
        row = cursor.execute(GENERATION, (device_id,)).fetchone()
    return None if row is None else row[0]


def rotate(conn: psycopg.Connection[Any], device_id: str) -> int | None:
    """Raise the device's generation (a gateway holding only the old key refuses what is
    signed from now on) and have its lease term re-signed; the new generation, None if
    the device is not registered."""
    with conn.cursor(row_factory=tuple_row) as cursor:
        row = cursor.execute(ROTATE, (device_id,)).fetchone()
        if row is None:
            return None
        cursor.execute(RESIGN_LEASE, (device_id,))
    return row[0]
