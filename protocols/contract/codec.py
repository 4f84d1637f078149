"""Bytes <-> typed payloads for every channel of the contract, validated on both sides.

Telemetry and event payloads may be zlib-compressed (documented in their schemas and
schemas/README.md): a receiver tells them apart by the first byte, 0x78 for zlib, ``{`` for
JSON. Senders deflate with a preset dictionary of typical wire JSON; the zlib header then
carries the dictionary's Adler-32 (RFC 1950 FDICT), which names the dictionary a receiver
needs. Streams without a dictionary (older devices) are still accepted.
"""

from __future__ import annotations

import json
import zlib
from functools import cache
from importlib import resources
from typing import Any

from protocols import json_bounds
from protocols.contract import payloads
from protocols.contract.schema import validate
from protocols.contract.topics import Channel
from protocols.errors import PayloadError

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_INFLATED_BYTES = 1024 * 1024
COMPRESSIBLE = frozenset({Channel.TELEMETRY, Channel.EVENT})

# Preset dictionaries under schemas/, by the Adler-32 a zlib header names them with. A
# shipped dictionary never changes (devices in the field deflate with it); a better one is
# added as the next version and becomes PRESET_DICTIONARY_ID once receivers have it.
PRESET_DICTIONARIES = {0x77C1253D: "zlib-dictionary-v1.json"}
PRESET_DICTIONARY_ID = 0x77C1253D
FDICT = 0x20  # bit 5 of a zlib header's FLG byte: a DICTID follows

Message = (
    payloads.TelemetryBatch
    | payloads.EventBatch
    | payloads.Ack
    | payloads.Status
    | payloads.Command
    | payloads.LeaseTerm
    | payloads.DeviceConfig
)
PAYLOAD_TYPES: dict[Channel, type[Message]] = {
    Channel.TELEMETRY: payloads.TelemetryBatch,
    Channel.EVENT: payloads.EventBatch,
    Channel.ACK: payloads.Ack,
    Channel.STATUS: payloads.Status,
    Channel.CMD: payloads.Command,
    Channel.LEASE: payloads.LeaseTerm,
    Channel.CONFIG: payloads.DeviceConfig,
}
CHANNELS: dict[type[Message], Channel] = {cls: channel for channel, cls in PAYLOAD_TYPES.items()}


class PayloadTooLarge(PayloadError):
    """A payload over the contract's size limit (before or after inflating)."""


class NotJson(PayloadError):
    """Bytes that are not UTF-8 JSON (or a zlib stream of it, where allowed)."""


def preset_dictionary(dictionary_id: int) -> bytes:
    """The bytes of the preset dictionary with this Adler-32; KeyError if unknown."""
    return _load_dictionary(PRESET_DICTIONARIES[dictionary_id], dictionary_id)


@cache
def _load_dictionary(name: str, dictionary_id: int) -> bytes:
    data = resources.files("schemas").joinpath(name).read_bytes()
    if zlib.adler32(data) != dictionary_id:
        # An edited dictionary would silently stop matching what devices send.
        raise RuntimeError(
            f"schemas/{name}: Adler-32 0x{zlib.adler32(data):08X}, expected"
            f" 0x{dictionary_id:08X}; a shipped dictionary must never change"
        )
    return data


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
        compressor = zlib.compressobj(9, zdict=preset_dictionary(PRESET_DICTIONARY_ID))
        data = compressor.compress(data) + compressor.flush()
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"{channel.value} payload: {len(data)} bytes, the limit is {MAX_PAYLOAD_BYTES}"
        )
    return data


def _inflater(channel: Channel, payload: bytes) -> zlib._Decompress:
    """A decompressor primed with the preset dictionary the stream's header names."""
    header_valid = len(payload) >= 2 and int.from_bytes(payload[:2], "big") % 31 == 0
    if not header_valid or not payload[1] & FDICT:
        return zlib.decompressobj()  # no dictionary, or zlib reports the bad header
    if len(payload) < 6:
        raise NotJson(
            f"{channel.value} payload: truncated zlib header ({len(payload)} bytes;"
            " a preset dictionary id needs 6)"
        )
    dictionary_id = int.from_bytes(payload[2:6], "big")
    try:
        return zlib.decompressobj(zdict=preset_dictionary(dictionary_id))
    except KeyError:
        known = ", ".join(f"0x{known:08X}" for known in PRESET_DICTIONARIES)
        raise NotJson(
            f"{channel.value} payload: zlib stream needs preset dictionary"
            f" 0x{dictionary_id:08X}, which this receiver does not have (it has {known})"
        ) from None


def _inflate(channel: Channel, payload: bytes) -> bytes:
    inflater = _inflater(channel, payload)
    try:
        data = inflater.decompress(payload, MAX_INFLATED_BYTES)
    except zlib.error as err:
        raise NotJson(f"{channel.value} payload: corrupt zlib stream ({err})") from err
    if inflater.unconsumed_tail:
        raise PayloadTooLarge(f"{channel.value} payload inflates past {MAX_INFLATED_BYTES} bytes")
    if not inflater.eof:
        raise NotJson(f"{channel.value} payload: truncated zlib stream")
    if inflater.unused_data:
        raise NotJson(
            f"{channel.value} payload: {len(inflater.unused_data)} bytes after the zlib stream"
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
        payload = _inflate(channel, payload)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as err:
        raise NotJson(
            f"{channel.value} payload: not UTF-8 (byte 0x{payload[err.start]:02X} at {err.start})"
        ) from err
    try:
        return json_bounds.loads(text, parse_constant=_reject_constant)
    except json_bounds.TooDeep as err:
        raise NotJson(f"{channel.value} payload: {err}") from err
    except ValueError as err:
        raise NotJson(f"{channel.value} payload: not JSON ({err})") from err


def decode(channel: Channel | str, payload: bytes) -> Message:
    """Parse and validate a payload received on ``channel``; raise a PayloadError
    subclass (PayloadTooLarge, NotJson, SchemaViolation) that says what is wrong."""
    channel = Channel(channel)
    document = parse_json(channel, payload)
    validate(channel.schema_name, document)
    return PAYLOAD_TYPES[channel].from_wire(document)
