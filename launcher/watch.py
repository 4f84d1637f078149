"""``voltrent watch``: print what devices publish, decoded and checked with the contract.

Telemetry travels zlib-compressed with a preset dictionary, which ``mosquitto_sub`` shows as
bytes; this shows it as one JSON line per message, or says why a payload is not valid.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

import aiomqtt

from protocols.contract import UPLINK_FILTER, Topic
from protocols.contract.codec import parse_json
from protocols.contract.schema import validate
from protocols.errors import PayloadError


def describe(topic: str, payload: bytes) -> dict[str, Any]:
    """One received message as a JSON-ready dict: topic, device, channel and the payload,
    or the reason it breaks the contract."""
    try:
        parsed = Topic.parse(topic)
    except PayloadError as err:
        return {"topic": topic, "error": str(err)}
    out: dict[str, Any] = {"device": parsed.device_id, "channel": parsed.channel.value}
    try:
        document = parse_json(parsed.channel, payload)
        validate(parsed.channel.schema_name, document)
    except PayloadError as err:
        out["error"] = str(err)
        return out
    out["payload"] = document
    return out


async def watch(
    url: str,
    device: str | None,
    count: int | None,
    out: TextIO,
    subscribed: asyncio.Event | None = None,
) -> int:
    """Print each message on the uplink (one device's, or every one) until ``count``;
    ``subscribed`` is set once the broker has granted the subscription."""
    parts = urlsplit(url)
    topic = f"vr/v1/{device}/up/#" if device else UPLINK_FILTER
    seen = 0
    client = aiomqtt.Client(
        parts.hostname or "127.0.0.1",
        parts.port or 1883,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )
    async with client:
        await client.subscribe(topic, qos=1)
        if subscribed is not None:
            subscribed.set()
        async for message in client.messages:
            line = describe(str(message.topic), bytes(message.payload or b""))
            print(json.dumps(line, separators=(",", ":")), file=out, flush=True)
            seen += 1
            if count is not None and seen >= count:
                break
    return seen


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "watch", help="print what devices publish, decoded and validated, one JSON line each"
    )
    parser.add_argument(
        "--mqtt", default="mqtt://127.0.0.1:1883", help="broker URL (mqtt://user:password@...)"
    )
    parser.add_argument("--device", default=None, help="only this device id")
    parser.add_argument("--count", type=int, default=None, help="stop after N messages")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(watch(args.mqtt, args.device, args.count, sys.stdout))
        except aiomqtt.MqttError as err:
            where = args.mqtt.split("@")[-1]  # never the password
            print(f"voltrent watch: {where}: {err}", file=sys.stderr)
            return 1
    return 0
