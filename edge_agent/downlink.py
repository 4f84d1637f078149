"""Refusing what arrives on ``down/cmd``, ``down/lease`` and ``down/config``.

Whoever can publish on a device's downlink topics can send it anything, and a retained
message comes back with every subscription. So a refusal costs no more than a counter: it
is counted (the counters go up in the status message), logged when a burst of its kind
starts (``edge_agent.health``), and reported as a ``downlink_rejected`` event (detail:
channel, reason, bytes, refused: the total of its counter) once per burst, so that a flood
of garbage cannot push telemetry out of the outbox with events about itself.
"""

from __future__ import annotations

import logging

from edge_agent.health import Health
from edge_agent.sources.base import EventSink
from protocols.contract import Channel

log = logging.getLogger(__name__)

REASON_CHARS = 200  # a reason may quote what arrived: keep the event small


class Refusals:
    """``refuse(channel, counter, reason, size)`` for every downlink message not acted on."""

    def __init__(self, label: str, counters: dict[str, int], on_event: EventSink) -> None:
        self.health = Health(f"{label}/downlink", log)
        self.counters = counters  # the agent's, which go up in the status message
        self._on_event = on_event

    def refuse(self, channel: Channel, counter: str, reason: str, size: int) -> None:
        """Count one refused message under ``counter``; log and report it if it starts
        a burst of refusals of that counter on that channel."""
        self.counters[counter] += 1
        if self.health.error(reason, f"{channel.value} {counter}"):
            detail = {
                "channel": channel.value,
                "reason": reason[:REASON_CHARS],
                "bytes": size,
                "refused": self.counters[counter],
            }
            self._on_event("downlink_rejected", detail, "warning")
