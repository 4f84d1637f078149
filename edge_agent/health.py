"""Counting and logging bad input without drowning the log.

Garbage on a line tends to come in bursts (a loose connector, electrical noise), so each
kind of error is logged when a burst starts and summarised when the next burst starts;
every occurrence is counted, and the counters go up in the status message.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from protocols.errors import ChecksumError, FrameError, ProtocolError, UnknownMessageError

QUIET_PERIOD_S = 30.0


class SourceState(StrEnum):
    STARTING = "starting"
    OK = "ok"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    DISABLED = "disabled"


def error_kind(error: BaseException) -> str:
    """The counter an error goes to."""
    if isinstance(error, ChecksumError):
        return "checksum"
    if isinstance(error, UnknownMessageError):
        return "unknown_id"
    if isinstance(error, FrameError):
        return "frame"
    if isinstance(error, ProtocolError):
        return "protocol"
    if isinstance(error, TimeoutError):
        return "timeout"
    return "disconnect"


@dataclass
class _Burst:
    last_seen: float = 0.0
    suppressed: int = 0


@dataclass
class Health:
    """State and counters of one part of the agent (a source, the uplink)."""

    name: str
    logger: logging.Logger
    state: SourceState = SourceState.STARTING
    readings: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    last_error: str | None = None
    _bursts: dict[str, _Burst] = field(default_factory=dict)

    def count(self, kind: str, amount: int = 1) -> None:
        """Count without logging (e.g. garbage bytes skipped by a decoder)."""
        if amount:
            self.errors[kind] += amount

    def error(self, error: BaseException | str, kind: str | None = None) -> bool:
        """Count one error and log it if it starts a burst; True when it did."""
        kind = kind or (error_kind(error) if isinstance(error, BaseException) else "error")
        self.errors[kind] += 1
        self.last_error = f"{kind}: {error}"
        now = time.monotonic()
        burst = self._bursts.setdefault(kind, _Burst())
        if now - burst.last_seen > QUIET_PERIOD_S or burst.last_seen == 0.0:
            more = f" ({burst.suppressed} more in the previous burst)" if burst.suppressed else ""
            self.logger.warning("%s: %s: %s%s", self.name, kind, error, more)
            burst.suppressed = 0
            burst.last_seen = now
            return True
        burst.suppressed += 1
        burst.last_seen = now
        return False

    def set_state(self, state: SourceState) -> None:
        if state != self.state:
            self.logger.info("%s: %s -> %s", self.name, self.state, state)
            self.state = state

    def snapshot(self) -> dict[str, object]:
        """The part of the status message about this component."""
        out: dict[str, object] = {"state": self.state.value, "readings": self.readings}
        if self.errors:
            out["errors"] = dict(self.errors)
        if self.last_error:
            out["last_error"] = self.last_error[:300]
        return out
