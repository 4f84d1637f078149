"""What every rule shares per batch: observations fed to one hysteresis machine in device-time
order, and the batch's work (states, transitions, crossings, commands) the engine writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cloud.rules import lifecycle
from cloud.rules.hysteresis import INSIDE, step

Key = tuple[str, str, str]  # (device_id, rule, subject): one machine
LATE = "late"  # an observation older than the machine's last one: it does not move it


@dataclass
class Obs:
    """One sample as a machine sees it."""

    time_ms: int
    zone: int
    resent: bool
    row: int  # into the source rows (BMS rows, or positions for fences)
    value: float | None = None
    threshold: float | None = None


@dataclass
class Work:
    """Per batch: machines loaded, what they produced, and their new states."""

    states: dict[Key, dict[str, Any]]
    transitions: list[lifecycle.Transition] = field(default_factory=list)
    crossings: list[tuple[Any, ...]] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    touched: set[Key] = field(default_factory=set)


def feed(
    state: dict[str, Any], obs: Sequence[Obs], dwell_s: float
) -> Iterable[tuple[str | None, Obs]]:
    """Each observation in device-time order with what it did to the machine (in place):
    ``hysteresis.LEFT`` / ``REENTERED``, ``LATE`` if it was older than the machine's last
    sample (skipped), or None."""
    for ob in sorted(obs, key=lambda o: (o.time_ms, o.row)):
        if state["last_ms"] is not None and ob.time_ms < state["last_ms"]:
            yield LATE, ob
        else:
            yield step(state, ob.time_ms, ob.zone, dwell_s), ob


def at_rest(state: dict[str, Any]) -> bool:
    """Whether a machine rests: on its resting side, waiting for nothing, nothing to undo."""
    if state.get("pending_since_ms") is not None or "cut_cmd" in state:
        return False
    return state["state"] == state.get("rest", INSIDE)


def ms(moment: datetime) -> int:
    """A datetime as Unix epoch milliseconds (the machines' clock)."""
    return int(moment.timestamp() * 1000)
