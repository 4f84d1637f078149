"""Proof of origin for ``down/cmd``, ``down/lease`` and ``down/config``: HMAC-SHA256 with a
per-device key.

The cloud holds one master secret. Each device's key is derived from it, the device id and
a per-device ``generation`` (raised on rotation), so a key taken from one gateway signs for
that gateway only and the cloud's database holds no key at all. A key is named by its
``kid``, ``"<fingerprint>.<generation>"`` (the fingerprint is the first 8 hex digits of the
master's SHA-256), so a gateway can hold an old and a new key while a rotation rolls out.

The MAC covers a canonical byte string: the payload's wire fields except ``sig``, plus
``"v": 1`` and the ``device_id`` (a command for one pack is no good on another), as JSON
with sorted keys, no whitespace, ``ensure_ascii=False``, in UTF-8. The signature travels
in the payload as ``"sig": {"kid": ..., "mac": <base64url, no padding>}``. The three
schemas are disjoint (each requires a field the others forbid), so a signed lease term can
never pass for a config, nor a config for a command.

Stdlib only: the gateway installs no crypto library for this.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from protocols.contract.acks import AckCode
from protocols.contract.payloads import Command, DeviceConfig, LeaseTerm
from protocols.errors import PayloadError

CANONICAL_VERSION = 1
KEY_LABEL = b"voltrent/command-key/v1\0"
MIN_KEY_BYTES = 32

Signed = TypeVar("Signed", Command, LeaseTerm, DeviceConfig)
Signable = Command | LeaseTerm | DeviceConfig
# how a refusal names what it refused
_WHAT = {Command: "command", LeaseTerm: "lease term", DeviceConfig: "config"}


class SignatureError(PayloadError):
    """A command, lease term or config whose origin cannot be proven; the message says why,
    ``code`` is the ack's reason code when a command is refused for it."""

    code: ClassVar[AckCode] = AckCode.BAD_SIGNATURE


class NotSigned(SignatureError):
    """The payload carries no ``sig``."""

    code = AckCode.NOT_SIGNED


class UnknownKey(SignatureError):
    """Signed with a key id this device does not hold."""

    code = AckCode.UNKNOWN_KEY

    def __init__(self, kid: str) -> None:
        super().__init__(f"unknown signing key {kid!r}")
        self.kid = kid


class BadSignature(SignatureError):
    """The MAC does not match: tampered, or signed for another device."""

    code = AckCode.BAD_SIGNATURE


def fingerprint(master: bytes) -> str:
    """The first 8 hex digits of sha256(master): names the master without revealing it."""
    return hashlib.sha256(master).hexdigest()[:8]


def key_id(master: bytes, generation: int) -> str:
    """The ``kid`` of every device key of this master and generation."""
    return f"{fingerprint(master)}.{generation}"


def device_key(master: bytes, device_id: str, generation: int) -> bytes:
    """The 32-byte key of one device at one generation."""
    if len(master) < MIN_KEY_BYTES:
        raise ValueError(f"master key: {len(master)} bytes, at least {MIN_KEY_BYTES} needed")
    if generation < 1:
        raise ValueError(f"key generation must be at least 1, got {generation}")
    info = KEY_LABEL + device_id.encode() + b"\0" + str(generation).encode()
    return hmac.digest(master, info, hashlib.sha256)


def canonical(device_id: str, fields: Mapping[str, Any]) -> bytes:
    """The bytes a MAC covers: ``fields`` (wire shape, ``sig`` left out), ``v`` and the
    device id, as sorted compact JSON in UTF-8."""
    document = {k: v for k, v in fields.items() if k != "sig"}
    document.update(v=CANONICAL_VERSION, device_id=device_id)
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def _digest(key: bytes, device_id: str, message: Signable) -> bytes:
    return hmac.digest(key, canonical(device_id, message.to_wire()), hashlib.sha256)


def mac(key: bytes, device_id: str, message: Signable) -> str:
    """The base64url (unpadded) HMAC-SHA256 of ``message`` for ``device_id``."""
    digest = _digest(key, device_id, message)
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(message: Signed, device_id: str, key: bytes, kid: str) -> Signed:
    """A copy of ``message`` carrying its signature (any old one replaced: canonical()
    leaves ``sig`` out)."""
    return dataclasses.replace(message, sig={"kid": kid, "mac": mac(key, device_id, message)})


def verify(message: Signable, device_id: str, keys: Mapping[str, bytes]) -> str:
    """The ``kid`` that signed ``message`` for ``device_id``; raise NotSigned, UnknownKey or
    BadSignature. The comparison takes the same time wherever the MACs differ."""
    what = _WHAT[type(message)]
    sig = message.sig
    if not sig:
        raise NotSigned(f"{what} not signed")
    kid = sig["kid"]
    key = keys.get(kid)
    if key is None:
        raise UnknownKey(kid)
    try:
        given = base64.urlsafe_b64decode(sig["mac"] + "=" * (-len(sig["mac"]) % 4))
    except (binascii.Error, ValueError):
        raise BadSignature("bad signature (the mac is not base64url)") from None
    if not hmac.compare_digest(given, _digest(key, device_id, message)):
        raise BadSignature("bad signature")
    return kid


def decode_key(text: str) -> bytes:
    """A key written as base64 (standard or url-safe alphabet); ValueError says what is
    wrong (not base64, or shorter than MIN_KEY_BYTES)."""
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"{len(key)} bytes, at least {MIN_KEY_BYTES} needed")
    return key


def encode_key(key: bytes) -> str:
    """A key as standard base64, the way configuration files hold it."""
    return base64.b64encode(key).decode("ascii")
