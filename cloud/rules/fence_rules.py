"""Fences on ingest: which (device, fence) machines a batch of positions can move, feeding
them, and what their crossings cause (an event row, the ``outside_geofence`` alarm, and the
fence's action through the command outbox).

Only live samples act (not re-sent, at most ``LIVE_WINDOW`` old): no pack is cut off for
where it was an hour ago. The machine keeps the cut it made (``cut_cmd``), so only that one
is restored, and only once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from cloud.commands.outbox import new_id
from cloud.ingest.rows import PositionRow
from cloud.rules import bms, lifecycle
from cloud.rules.catalogue import Settings
from cloud.rules.fences import FenceSet
from cloud.rules.geofence import (
    INSIDE_BEYOND_MARGIN,
    KEEP_IN,
    OUTSIDE_BEYOND_MARGIN,
    Classification,
)
from cloud.rules.hysteresis import INSIDE, LEFT, OUTSIDE, REENTERED, new_state
from cloud.rules.machines import Obs, Work, feed, ms
from protocols.contract.commands import check_command

RULE = "geofence"
LIVE_WINDOW = timedelta(minutes=10)
ACTION_EXPIRES_S = 900
INSERT_CROSSING = """
INSERT INTO geofence_event (device_id, geofence_id, geofence_name, type, breach, time,
                            received_at, lat, lon, resent, action)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"""


@dataclass
class FencePlan:
    """A batch's valid positions classified against their devices' fences; ``pair`` numbers
    each classified (device, fence) as ``device * fences + fence``, devices as in
    ``devices``."""

    rows: list[PositionRow] = field(default_factory=list)
    classification: Classification | None = None
    pair: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    devices: list[str] = field(default_factory=list)
    hot_pairs: set[int] = field(default_factory=set)  # a sample on the breach side
    hot: set[str] = field(default_factory=set)  # their devices


def plan(fs: FenceSet, positions: list[PositionRow]) -> FencePlan:
    """Classify the valid positions of a batch (numpy and shapely, no loop per point)."""
    rows = [r for r in positions if r.valid]
    if fs.empty or not rows:
        return FencePlan()
    names, code = np.unique(np.array([r.device_id for r in rows]), return_inverse=True)
    code = code.reshape(-1)
    lon = np.array([r.lon for r in rows], dtype=float)
    lat = np.array([r.lat for r in rows], dtype=float)
    c = fs.index.classify(fs.assignment, names[code], lon, lat)
    keep_in = np.array([f.kind == KEEP_IN for f in fs.index.fences], dtype=bool)
    breach_zone = np.where(keep_in[c.fence], OUTSIDE_BEYOND_MARGIN, INSIDE_BEYOND_MARGIN)
    pair = code[c.point] * len(fs.index) + c.fence
    hot_pairs = set(pair[c.zone == breach_zone].tolist())
    devices = names.tolist()
    hot = {devices[p // len(fs.index)] for p in hot_pairs}
    return FencePlan(rows, c, pair, devices, hot_pairs, hot)


def run(
    fs: FenceSet,
    plan: FencePlan,
    work: Work,
    settings: Callable[[str], Settings],
    now: datetime,
) -> None:
    """Feed the machines that can move: a sample on the breach side, or a machine away
    from rest (``work.states``); ``settings`` gives a device's alarm settings."""
    c, rows, index = plan.classification, plan.rows, fs.index
    if c is None:
        return
    hot = set(plan.hot_pairs)
    position = {name: i for i, name in enumerate(plan.devices)}
    for device_id, rule, subject in work.states:
        f = index.position.get(int(subject)) if rule == RULE else None
        if f is not None and device_id in position:
            hot.add(position[device_id] * len(index) + f)
    chosen = np.flatnonzero(np.isin(plan.pair, np.fromiter(hot, np.int64, count=len(hot))))
    groups: dict[tuple[str, int], list[Obs]] = defaultdict(list)
    for j in chosen.tolist():
        p, f = int(c.point[j]), int(c.fence[j])
        groups[(rows[p].device_id, f)].append(
            Obs(ms(rows[p].time), int(c.zone[j]), bool(rows[p].resent), p)
        )
    for (device_id, f), obs in sorted(groups.items()):
        fence = index.fences[f]
        key = (device_id, RULE, str(fence.id))
        state = work.states.get(key) or {**new_state(fence.kind), "rest": _rest(fence.kind)}
        for happened, ob in feed(state, obs, float(fs.dwell_s[f])):
            row = rows[ob.row]
            live = not ob.resent and row.time >= now - LIVE_WINDOW
            command = _action(fs, device_id, f, state, ob.time_ms) if live else None
            if command is not None:
                work.commands.append(command)
            if happened in (LEFT, REENTERED):
                breach = (happened == LEFT) == (fence.kind == KEEP_IN)
                _crossing(fs, work, row, f, happened, breach, command, settings(device_id))
        work.states[key] = state
        work.touched.add(key)


def _crossing(
    fs: FenceSet, work: Work, row: PositionRow, f: int, happened: str, breach: bool,
    command: dict[str, Any] | None, settings: Settings,
) -> None:  # fmt: skip
    fence, name = fs.index.fences[f], fs.names[f]
    described = None
    if command is not None:
        described = Jsonb({"cmd_id": command["cmd_id"], "type": command["type"],
                           "args": command["args"].obj})  # fmt: skip
    work.crossings.append(
        (row.device_id, fence.id, name, happened, breach, row.time, row.received_at,
         row.lat, row.lon, bool(row.resent), described)
    )  # fmt: skip
    spec = settings.specs["outside_geofence"]
    if spec.enabled:
        where = "outside keep-in" if fence.kind == KEEP_IN else "inside keep-out"
        work.transitions.append(lifecycle.Transition(
            device_id=row.device_id, spec=spec, subject=str(fence.id),
            kind=lifecycle.RAISED if breach else lifecycle.CLEARED, time=row.time,
            received_at=row.received_at, resent=bool(row.resent),
            sample=bms.sample_document(row) if breach else None,
            message=f"{where} fence {name!r}" if breach else f"back within fence {name!r}",
        ))  # fmt: skip


def _action(
    fs: FenceSet, device_id: str, f: int, state: dict[str, Any], time_ms: int
) -> dict[str, Any] | None:
    """The command a fence's action calls for at this live sample, if any."""
    action = fs.actions[f] or {}
    name, fence_id = fs.names[f], fs.index.fences[f].id
    if state["state"] != state["rest"]:  # breached now
        after_s = action.get("cut_discharge_after_s")
        since = state.get("since_ms")
        if after_s is None or "cut_cmd" in state or since is None:
            return None
        if time_ms - since < after_s * 1000:
            return None
        command = _command(device_id, False, fence_id,
                           f"outside fence {name!r} for {after_s} s or more")  # fmt: skip
        state["cut_cmd"] = command["cmd_id"]
        return command
    if state.pop("cut_cmd", None) is None or not action.get("restore_on_return"):
        return None
    return _command(device_id, True, fence_id, f"back within fence {name!r}")


def _rest(kind: str) -> str:
    """The side of a fence a device may be on: inside a keep-in, outside a keep-out."""
    return INSIDE if kind == KEEP_IN else OUTSIDE


def _command(device_id: str, on: bool, fence_id: Any, reason: str) -> dict[str, Any]:
    return {
        "cmd_id": new_id("g"),
        "device_id": device_id,
        "type": "set_discharge",
        "args": Jsonb(check_command("set_discharge", {"on": on})),
        "issued_by": f"rule:geofence:{fence_id}",
        "reason": reason,
        "expires_in_s": ACTION_EXPIRES_S,
    }
