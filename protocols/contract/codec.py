"""Bytes <-> typed payloads for every channel of the contract, validated on both sides.

Telemetry and event payloads may be zlib-compressed (documented in their schemas): a
receiver tells them apart by the first byte, 0x78 for zlib, ``{`` for JSON.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from protocols.contract import payloads
from protocols.contract.schema import validate
from protocols.contract.topics import Channel
from protocols.errors import PayloadError

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_INFLATED_BYTES = 1024 * 1024
COMPRESSIBLE = frozenset({Channel.TELEMETRY, Channel.EVENT})

Message = (
    payloads.TelemetryBatch
    | payloads.EventBatch
    | payloads.Ack
    | payloads.Status
    | payloads.Command
    | payloads.LeaseTerm
    | payloads.DeviceConfig
)
PAYLOAD_TYPES: dict[Channel, Any] = {
    Channel.TELEMETRY: payloads.TelemetryBatch,
    Channel.EVENT: payloads.EventBatch,
    Channel.ACK: payloads.Ack,
    Channel.STATUS: payloads.Status,
    Channel.CMD: payloads.Command,
    Channel.LEASE: payloads.LeaseTerm,
    Channel.CONFIG: payloads.DeviceConfig,
}
CHANNELS: dict[Any, Channel] = {cls: channel for channel, cls in PAYLOAD_TYPES.items()}


class PayloadTooLarge(PayloadError):
    """A payload over the contract's size limit (before or after inflating)."""


class NotJson(PayloadError):
    """Bytes that are not UTF-8 JSON (or a zlib stream of it, where allowed)."""


def channel_of(message: Message) -> Channel:
    """The channel a payload object is published on."""
    return CHANNELS[type(message)]


def encode(message: Message, *, compress: bool = False) -> bytes:
    """Validate and serialise a payload; ``compress`` deflates telemetry and events."""
    return encode_document(channel_of(message), message.to_wire(), compress=compress)


def encode_document(channel: Channel, document: Any, *, compress: bool = False) -> bytes:
    """Validate and serialise an already wire-shaped dict for ``channel``."""
    validate(channel.schema_name, document)
    data = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
    if compress:
        if channel not in COMPRESSIBLE:
            raise ValueError(f"{channel.value} payloads are never compressed")
        data = zlib.compress(data, 9)
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"{channel.value} payload: {len(data)} bytes, the limit is {MAX_PAYLOAD_BYTES}"
        )
    return data


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(channel: Channel, payload: bytes) -> Any:
    """Size-check, inflate where allowed, and parse; no schema check yet."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"{channel.value} payload: {len(payload)} bytes, the limit is {MAX_PAYLOAD_BYTES}"
        )
    if payload[:1] == b"\x78" and channel in COMPRESSIBLE:
        inflater = zlib.decompressobj()
        try:
            payload = inflater.decompress(payload, MAX_INFLATED_BYTES)
        except zlib.error as err:
            raise NotJson(f"{channel.value} payload: corrupt zlib stream ({err})") from err
        if inflater.unconsumed_tail:
            raise PayloadTooLarge(
                f"{channel.value} payload inflates past {MAX_INFLATED_BYTES} bytes"
            )
        if not inflater.eof:
            raise NotJson(f"{channel.value} payload: truncated zlib stream")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as err:
        raise NotJson(
            f"{channel.value} payload: not UTF-8 (byte 0x{payload[err.start]:02X} at {err.start})"
        ) from err
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as err:
        raise NotJson(f"{channel.value} payload: not JSON ({err})") from err


def decode(channel: Channel | str, payload: bytes) -> Message:
    """Parse and validate a payload received on ``channel``; raise a PayloadError
    subclass (PayloadTooLarge, NotJson, SchemaViolation) that says what is wrong."""
    channel = Channel(channel)
    document = parse_json(channel, payload)
    validate(channel.schema_name, document)
    return PAYLOAD_TYPES[channel].from_wire(document)
