"""The version of the fleet MQTT contract: ``MAJOR.MINOR``.

The major version is part of every topic (``vr/v1/...``) and of every schema's ``$id``
(``https://voltrent.dev/schemas/v1/...``). It changes only with a change that receivers of
the old one cannot take, and then under a new topic root. A minor version adds optional
fields: a receiver of ``1.x`` takes every message of ``1.0`` to ``1.x``, but the schemas
refuse fields they do not know, so a sender uses an addition only once its receivers have
it (for uplink fields: upgrade the cloud before the gateways).
"""

from __future__ import annotations

MAJOR = 1
MINOR = 1
CONTRACT_VERSION = f"{MAJOR}.{MINOR}"

# What each version added, newest last (schemas/README.md says the same for people).
HISTORY = (
    ("1.0", "topics vr/v1/{device_id}/{up|down}/{name}; seven channels with JSON Schemas"),
    ("1.1", "up/ack: optional `code`, the machine-readable reason (protocols.contract.acks)"),
)
