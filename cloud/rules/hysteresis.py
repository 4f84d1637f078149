"""Turning per-sample fence zones into ``left`` / ``reentered`` events that never flap.

One state machine per (device, fence). Its state is ``inside`` or ``outside``; it changes only
after the device has been beyond the margin on the other side (zone -1 to leave, +1 to
re-enter, see ``geofence``) in *every* sample for at least ``dwell_s`` of device time. A
sample in the margin band or back on the current side restarts the wait. The event carries
the time of the sample that confirmed it, and that sample's ``resent`` flag, so a backlog
replayed by the edge is recorded but drives no live action.

A new machine starts in the state the fence allows (inside a keep-in fence, outside a
keep-out one): a device that is out of bounds when it is first seen then raises an event.

States are plain JSON-able dicts, so the worker can persist them between batches::

    {"state": "inside", "since_ms": 1700000000000 | None,
     "pending_since_ms": None | int, "last_ms": None | int}

Samples must be fed in device-time order per device; one older than the last sample seen is
skipped (``step`` returns None and the state does not move).
"""

from __future__ import annotations

from collections.abc import Hashable, MutableMapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from cloud.rules.geofence import (
    INSIDE_BEYOND_MARGIN,
    KEEP_IN,
    OUTSIDE_BEYOND_MARGIN,
    Classification,
    FenceIndex,
)

INSIDE = "inside"
OUTSIDE = "outside"
LEFT = "left"
REENTERED = "reentered"


@dataclass(frozen=True)
class Event:
    """A confirmed crossing of one fence by one device."""

    device: Hashable
    fence: Hashable
    type: str  # LEFT or REENTERED
    time_ms: int  # device time of the sample that confirmed it
    resent: bool


def new_state(kind: str) -> dict[str, Any]:
    """The state of a machine not yet fed: the side the fence allows."""
    return {
        "state": INSIDE if kind == KEEP_IN else OUTSIDE,
        "since_ms": None,
        "pending_since_ms": None,
        "last_ms": None,
    }


def step(state: dict[str, Any], time_ms: int, zone: int, dwell_s: float) -> str | None:
    """Feed one sample's zone (in place); the event type it confirms, or None."""
    if state["last_ms"] is not None and time_ms < state["last_ms"]:
        return None
    state["last_ms"] = time_ms
    target = OUTSIDE_BEYOND_MARGIN if state["state"] == INSIDE else INSIDE_BEYOND_MARGIN
    if zone != target:
        state["pending_since_ms"] = None
        return None
    if state["pending_since_ms"] is None:
        state["pending_since_ms"] = time_ms
    if time_ms - state["pending_since_ms"] < dwell_s * 1000:
        return None
    leaving = state["state"] == INSIDE
    state.update(state=OUTSIDE if leaving else INSIDE, since_ms=time_ms, pending_since_ms=None)
    return LEFT if leaving else REENTERED


def advance(
    states: MutableMapping[tuple[Hashable, Hashable], dict[str, Any]],
    index: FenceIndex,
    classification: Classification,
    devices: np.ndarray,
    time_ms: np.ndarray,
    resent: np.ndarray,
    dwell_s: float | np.ndarray,
) -> list[Event]:
    """Feed a whole classified batch into the (device, fence id) machines in ``states``
    (created as needed, updated in place); the events, in device-time order per machine.

    ``devices``, ``time_ms`` and ``resent`` are the batch's per-position arrays given to
    ``FenceIndex.classify``; ``dwell_s`` is one value or one per fence of the index.
    Machines whose samples all stay on their current side are settled in numpy; only those
    with a sample beyond the margin on the other side go through ``step`` one by one.
    """
    devices = np.asarray(devices)
    time_ms = np.asarray(time_ms, dtype=np.int64)
    resent = np.asarray(resent, dtype=bool)
    dwell = np.broadcast_to(np.asarray(dwell_s, dtype=float), (len(index),))
    point, fence, zone = classification.point, classification.fence, classification.zone
    # group the rows by (device, fence), in time order within a group
    names, device_code = np.unique(devices, return_inverse=True)
    pair = device_code.reshape(-1)[point] * len(index) + fence
    order = np.lexsort((time_ms[point], pair))
    pair, point, fence, zone = pair[order], point[order], fence[order], zone[order]
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    ends = np.r_[starts[1:], len(pair)]
    events: list[Event] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        f = int(fence[start])
        device = names[device_code.reshape(-1)[point[start]]].item()
        fence_id = index.fences[f].id
        key = (device, fence_id)
        state = states.get(key)
        if state is None:
            state = states[key] = new_state(index.fences[f].kind)
        zones = zone[start:end]
        target = OUTSIDE_BEYOND_MARGIN if state["state"] == INSIDE else INSIDE_BEYOND_MARGIN
        if state["pending_since_ms"] is None and not (zones == target).any():
            # nothing can happen: only the clock moves
            last = int(time_ms[point[end - 1]])
            if state["last_ms"] is None or last > state["last_ms"]:
                state["last_ms"] = last
            continue
        for row in range(start, end):
            p = point[row]
            happened = step(state, int(time_ms[p]), int(zone[row]), float(dwell[f]))
            if happened is not None:
                events.append(Event(device, fence_id, happened, int(time_ms[p]), bool(resent[p])))
    return events
