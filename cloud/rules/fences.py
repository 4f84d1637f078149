"""The fences and assignments a worker evaluates, loaded from the store into a FenceIndex.

Built again whenever ``rule_config_version`` moves (a trigger moves it on every change to
fences and assignments). Building a fence (its margin shapes) is the slow part, so built
fences are kept by (id, version) and only new or edited ones are built again; the index
itself (prepared shapes and an STRtree) is rebuilt whole, which takes a fraction of that.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cloud.rules.geofence import Assignment, Fence, FenceError, FenceIndex, circle, from_geojson

log = logging.getLogger(__name__)

LOAD_FENCES = """
SELECT id, name, kind, geometry, circle_lat, circle_lon, circle_radius_m, margin_m, dwell_s,
       action, version
FROM geofence ORDER BY id"""
LOAD_ASSIGNMENTS = "SELECT device_id, geofence_id FROM geofence_assignment ORDER BY 1, 2"


@dataclass
class FenceSet:
    """What the worker needs per batch: the index, who has which fence, and per fence its
    dwell, name and action (positions as in ``index.fences``)."""

    index: FenceIndex
    assignment: Assignment
    dwell_s: np.ndarray
    names: list[str]
    actions: list[dict[str, Any] | None]
    built: dict[tuple[int, int], Fence] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return len(self.assignment.devices) == 0


def empty_set() -> FenceSet:
    index = FenceIndex([])
    return FenceSet(index, index.assign({}), np.empty(0), [], [])


def build(
    fence_rows: Sequence[Mapping[str, Any]],
    assignment_rows: list[tuple[str, int]],
    previous: FenceSet | None = None,
) -> FenceSet:
    """A FenceSet from the rows of LOAD_FENCES and LOAD_ASSIGNMENTS (run it in a thread:
    building many fences takes seconds). A fence the core refuses is skipped and logged;
    the API checks fences with the same core, so that means a row edited by hand."""
    cache = previous.built if previous is not None else {}
    built: dict[tuple[int, int], Fence] = {}
    fences, dwell, names, actions = [], [], [], []
    for row in fence_rows:
        key = (row["id"], row["version"])
        fence = cache.get(key)
        if fence is None:
            try:
                fence = _fence(row)
            except FenceError as err:
                log.error("geofence %s cannot be evaluated: %s", row["id"], err)
                continue
        built[key] = fence
        fences.append(fence)
        dwell.append(float(row["dwell_s"]))
        names.append(row["name"])
        actions.append(row["action"])
    index = FenceIndex(fences)
    per_device: dict[str, list[int]] = {}
    for device_id, fence_id in assignment_rows:
        if fence_id in index.position:
            per_device.setdefault(device_id, []).append(fence_id)
    return FenceSet(index, index.assign(per_device), np.array(dwell), names, actions, built)


def _fence(row: Mapping[str, Any]) -> Fence:
    if row["geometry"] is not None:
        shape = from_geojson(row["geometry"])
    else:
        shape = circle(lat=row["circle_lat"], lon=row["circle_lon"],
                       radius_m=row["circle_radius_m"])  # fmt: skip
    return Fence.build(row["id"], shape, row["kind"], row["margin_m"])
