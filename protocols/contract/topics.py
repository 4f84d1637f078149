"""Topics of the fleet MQTT contract v1: ``vr/v1/{device_id}/{up|down}/{name}``.

Topics are frozen, self-validating values: a ``Topic`` that exists is a valid topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from protocols.errors import PayloadError

ROOT = "vr/v1"
DEVICE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
UPLINK_FILTER = f"{ROOT}/+/up/#"


class TopicError(PayloadError):
    """A topic or device id that is not part of the contract."""


class Channel(StrEnum):
    """The seven channels of a device, as the topic suffix after the device id."""

    TELEMETRY = "up/telemetry"
    EVENT = "up/event"
    ACK = "up/ack"
    STATUS = "up/status"
    CMD = "down/cmd"
    LEASE = "down/lease"
    CONFIG = "down/config"

    @property
    def uplink(self) -> bool:
        """Published by the device (True) or by the cloud (False)."""
        return self.value.startswith("up/")

    @property
    def retained(self) -> bool:
        """Whether the broker keeps the last message for new subscribers."""
        return self in _RETAINED

    @property
    def qos(self) -> int:
        """Every channel is QoS 1: at least once, deduplicated by seq or cmd_id."""
        return 1

    @property
    def schema_name(self) -> str:
        """The schema file under schemas/ that every payload on this channel follows."""
        return self.value.split("/", 1)[1]


_RETAINED = frozenset({Channel.STATUS, Channel.LEASE, Channel.CONFIG})


def check_device_id(device_id: str) -> str:
    """Return ``device_id`` if it can stand in a topic, else raise TopicError saying why."""
    if not isinstance(device_id, str) or not DEVICE_ID_PATTERN.fullmatch(device_id):
        raise TopicError(
            f"device id {device_id!r}: expected 1-64 characters of A-Z a-z 0-9 _ . -, "
            "starting with a letter or digit"
        )
    return device_id


@dataclass(frozen=True, slots=True)
class Topic:
    """One device's channel, e.g. ``Topic("pack-0001", Channel.TELEMETRY)``."""

    device_id: str
    channel: Channel

    def __post_init__(self) -> None:
        check_device_id(self.device_id)
        object.__setattr__(self, "channel", Channel(self.channel))

    def __str__(self) -> str:
        return f"{ROOT}/{self.device_id}/{self.channel.value}"

    @classmethod
    def parse(cls, topic: str) -> Topic:
        """Parse a concrete topic; raise TopicError naming what does not fit."""
        parts = str(topic).split("/")
        if len(parts) != 5 or "/".join(parts[:2]) != ROOT:
            raise TopicError(f"topic {topic!r}: expected {ROOT}/<device_id>/<up|down>/<name>")
        try:
            channel = Channel("/".join(parts[3:]))
        except ValueError:
            known = ", ".join(c.value for c in Channel)
            raise TopicError(f"topic {topic!r}: unknown channel, expected one of {known}") from None
        return cls(parts[2], channel)


def device_downlink_filter(device_id: str) -> str:
    """What a device subscribes to: everything the cloud sends it."""
    return f"{ROOT}/{check_device_id(device_id)}/down/#"
