"""Rules on ingest: alarms and fences evaluated on every batch, in the batch's transaction.

The writer hands over the rows a batch really added (a redelivered message adds none, so it
is never evaluated twice) and the engine, in the same transaction:

1. reloads fences and alarm profiles if ``rule_config_version`` moved;
2. computes zones for the whole batch in numpy: every threshold type over every BMS sample
   (``cloud.rules.bms``), every position against the fences its device has
   (``FenceIndex.classify``);
3. reads the few hysteresis machines away from rest (``rule_state`` holds only those) and
   picks the (device, rule, subject) keys that can change: a machine away from rest, or a
   sample on the alarm side. Everything else (nearly every sample) stops here;
4. locks those devices (transaction advisory locks, sorted, so workers sharing a
   subscription never race on a device's alarms) and feeds their samples in device-time order
   through ``hysteresis.step``;
5. writes alarms (``lifecycle``), fence crossings, commands of fence actions, and the
   machines' new states.

Re-sent samples (the edge's backlog) go through the same machines with their own times and
are recorded with ``resent``, but only a live sample can issue a command (``fence_rules``):
no pack is cut off for where it was an hour ago. Fences live in ``fence_rules``, the
machine plumbing both share in ``machines``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from cloud.commands.states import INSERT_COMMAND
from cloud.ingest.rows import BmsRow, Stored
from cloud.rules import bms, fence_rules, fences, lifecycle
from cloud.rules.catalogue import ProfileError, Settings, Spec, check_profile, settings_for
from cloud.rules.geofence import KEEP_IN
from cloud.rules.hysteresis import INSIDE, LEFT, REENTERED, new_state
from cloud.rules.machines import LATE, Key, Obs, Work, at_rest, feed, ms

log = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x7672726C  # "vrrl": pg_advisory_xact_lock(namespace, hashtext(device_id))


VERSION = "SELECT last_value, is_called FROM rule_config_version"
PROFILES = "SELECT model, profile FROM alarm_profile"
BUSY = "SELECT DISTINCT device_id FROM rule_state WHERE device_id = ANY(%s) AND NOT resting"
STATES = """
SELECT device_id, rule, subject, state FROM rule_state WHERE device_id = ANY(%s)"""
LOCK = """
SELECT pg_advisory_xact_lock(%s::integer, hashtext(d))
FROM (SELECT unnest(%s::text[]) AS d ORDER BY 1) s"""
SAVE_STATE = """
INSERT INTO rule_state (device_id, rule, subject, state, resting) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (device_id, rule, subject) DO UPDATE SET state = EXCLUDED.state,
    resting = EXCLUDED.resting, updated_at = now()"""


# an alarm machine rests inside: LEFT raises the alarm, REENTERED clears it
_TRANSITIONS = {LEFT: lifecycle.RAISED, REENTERED: lifecycle.CLEARED}


class RuleEngine:
    """Alarm and fence rules for one worker; ``evaluate`` once per stored batch."""

    def __init__(self, *, now: Callable[[], datetime] | None = None) -> None:
        self.counters: Counter[str] = Counter()
        self._now = now or (lambda: datetime.now(UTC))
        self._version: tuple[int, bool] | None = None
        self.fences = fences.empty_set()
        self._profiles: dict[str, Settings] = {}
        self._default = settings_for(None)

    def settings(self, model: str) -> Settings:
        """The effective alarm settings of a device model."""
        return self._profiles.get(model) or self._profiles.get("") or self._default

    def shortest_offline_s(self) -> float:
        """The lowest enabled ``offline`` threshold of any profile (the sweep's prefilter)."""
        thresholds = [
            s.specs["offline"].raise_ or 0.0
            for s in (self._default, *self._profiles.values())
            if s.specs["offline"].enabled
        ]
        return min(thresholds) if thresholds else 10 * 365 * 86400.0  # off everywhere

    # -- configuration --------------------------------------------------------------------
    async def refresh(self, conn: psycopg.AsyncConnection) -> None:
        """Reload fences and profiles if they changed since the last look."""
        cur = await conn.execute(VERSION)
        version = tuple(await cur.fetchone())  # type: ignore[arg-type]
        if version == self._version:
            return
        async with conn.cursor(row_factory=dict_row) as dcur:
            await dcur.execute(fences.LOAD_FENCES)
            fence_rows = await dcur.fetchall()
        cur = await conn.execute(fences.LOAD_ASSIGNMENTS)
        assignment_rows = await cur.fetchall()
        cur = await conn.execute(PROFILES)
        profiles = {}
        for model, document in await cur.fetchall():
            try:
                profiles[model] = settings_for(check_profile(document))
            except ProfileError as err:
                log.error("alarm profile of model %r is not usable (%s); defaults apply", model,
                          err)  # fmt: skip
        self.fences = await asyncio.to_thread(
            fences.build, fence_rows, assignment_rows, self.fences
        )
        self._profiles = profiles
        self._version = version  # type: ignore[assignment]
        log.info("rules: %d fence(s) for %d device(s), %d alarm profile(s)",
                 len(self.fences.index), len(self.fences.assignment.devices),
                 len(profiles))  # fmt: skip

    # -- per batch ------------------------------------------------------------------------
    async def evaluate(self, conn: psycopg.AsyncConnection, stored: Stored) -> None:
        """Evaluate what a batch stored; runs inside the writer's transaction."""
        await self.refresh(conn)
        devices = sorted({r.device_id for rows in (stored.bms, stored.positions, stored.events)
                          for r in rows})  # fmt: skip
        if not devices:
            return
        bms_plan = self._plan_bms(stored)
        fence_plan = fence_rules.plan(self.fences, stored.positions)
        events = self._point_events(stored)
        cur = await conn.execute(BUSY, (devices,))
        busy = {d for (d,) in await cur.fetchall()} | bms_plan.hot | fence_plan.hot
        busy |= {t.device_id for t in events}
        if not busy:
            return
        busy_list = sorted(busy)
        await conn.execute(LOCK, (LOCK_NAMESPACE, busy_list))
        cur = await conn.execute(STATES, (busy_list,))  # again, now that no one else can move them
        work = Work({(d, r, s): dict(state) for d, r, s, state in await cur.fetchall()})
        work.transitions.extend(events)
        self._run_bms(stored, bms_plan, work)
        fence_rules.run(self.fences, fence_plan, work,
                        lambda d: self.settings(stored.models.get(d, "")), self._now())  # fmt: skip
        await self._write(conn, work)

    # -- BMS thresholds and protections ---------------------------------------------------
    def _plan_bms(self, stored: Stored) -> _BmsPlan:
        rows = stored.bms
        if not rows:
            return _BmsPlan()
        settings = [self.settings(stored.models.get(r.device_id, "")) for r in rows]
        zones = bms.zones(rows, settings)
        flags = bms.protections(rows)
        hot: set[str] = set()
        for z in zones.values():
            hot.update(rows[i].device_id for i in np.flatnonzero(z.zone == bms.ALARM))
        protection_on = [i for i, f in enumerate(flags) if f and settings[i].specs[
            "bms_protection"].enabled]  # fmt: skip
        hot.update(rows[i].device_id for i in protection_on)
        return _BmsPlan(zones, flags, settings, hot)

    def _run_bms(self, stored: Stored, plan: _BmsPlan, work: Work) -> None:
        rows = stored.bms
        if not rows:
            return
        keys: set[Key] = {k for k in work.states if k[1].startswith("alarm:")}
        for type_, z in plan.zones.items():
            for i in np.flatnonzero(z.zone == bms.ALARM):
                keys.add((rows[i].device_id, f"alarm:{type_}", ""))
        for i, f in enumerate(plan.flags):
            for name in f:
                keys.add((rows[i].device_id, "alarm:bms_protection", name))
        needed = {k[0] for k in keys}
        by_device: dict[str, list[int]] = defaultdict(list)
        for i, row in enumerate(rows):
            if row.device_id in needed:
                by_device[row.device_id].append(i)
        for key in sorted(keys):
            device_id, rule, subject = key
            type_ = rule.removeprefix("alarm:")
            indexes = by_device.get(device_id, [])
            if type_ == "bms_protection":
                obs = [
                    Obs(ms(rows[i].time), bms.ALARM if subject in plan.flags[i] else bms.NORMAL,
                         rows[i].resent, i)
                    for i in indexes if plan.settings[i].specs[type_].enabled
                ]  # fmt: skip
                dwell = 0.0
            elif type_ in plan.zones:
                z = plan.zones[type_]
                obs = [
                    Obs(ms(rows[i].time), int(z.zone[i]), rows[i].resent, i,
                         _number(z.value[i]), _number(z.threshold[i]))
                    for i in indexes
                ]  # fmt: skip
                dwell = plan.settings[indexes[0]].specs[type_].dwell_s if indexes else 0.0
            else:
                continue  # a type disabled since its machine was raised: it stays as it is
            if not obs:
                continue
            state = work.states.get(key) or new_state(KEEP_IN)
            for happened, ob in feed(state, obs, dwell):
                if happened == LATE:  # beyond the limit while newer data says it was not
                    if ob.zone != bms.ALARM or state["state"] != INSIDE:
                        continue
                    kind = lifecycle.LATE
                elif happened in _TRANSITIONS:
                    kind = _TRANSITIONS[happened]
                else:
                    continue
                spec = plan.settings[ob.row].specs[type_]
                work.transitions.append(self._bms_transition(rows[ob.row], spec, subject, kind, ob))
            work.states[key] = state
            work.touched.add(key)

    def _bms_transition(
        self, row: BmsRow, spec: Spec, subject: str, kind: str, ob: Obs
    ) -> lifecycle.Transition:
        if spec.type == "bms_protection":
            message = f"the BMS reports protection {subject}"
        elif kind == lifecycle.CLEARED:
            message = f"{spec.description} back to normal"
        else:
            side = "above" if spec.high else "below"
            message = (f"{spec.description} {_fmt(ob.value)} {spec.unit} is {side}"
                       f" {_fmt(ob.threshold)} {spec.unit}")  # fmt: skip
        return lifecycle.Transition(
            device_id=row.device_id, spec=spec, subject=subject, kind=kind, time=row.time,
            received_at=row.received_at, value=ob.value, threshold=ob.threshold,
            resent=bool(row.resent), message=message,
            sample=bms.sample_document(row) if kind != lifecycle.CLEARED else None,
        )  # fmt: skip

    # -- device events --------------------------------------------------------------------
    def _point_events(self, stored: Stored) -> list[lifecycle.Transition]:
        out = []
        for row in stored.events:
            spec = self.settings(stored.models.get(row.device_id, "")).specs.get(row.type)
            if spec is None or spec.source != "event" or not spec.enabled:
                continue
            out.append(lifecycle.Transition(
                device_id=row.device_id, spec=spec, subject="", kind=lifecycle.POINT, time=row.time,
                received_at=row.received_at, resent=bool(row.resent),
                sample=bms.sample_document(row),
                message=f"{spec.type} event from the device",
            ))  # fmt: skip
        return out

    # -- writing --------------------------------------------------------------------------
    async def _write(self, conn: psycopg.AsyncConnection, work: Work) -> None:
        changed = await lifecycle.apply(conn, work.transitions)
        self.counters["alarm_changes"] += changed
        async with conn.cursor() as cur:
            if work.crossings:
                await cur.executemany(fence_rules.INSERT_CROSSING, work.crossings)
                self.counters["geofence_events"] += len(work.crossings)
            for command in work.commands:
                await cur.execute(INSERT_COMMAND, command)
                self.counters["rule_commands"] += 1
                log.info("rule command %s %s to %s: %s", command["cmd_id"], command["args"].obj,
                         command["device_id"], command["reason"])  # fmt: skip
            save = [(*key, Jsonb(work.states[key]), at_rest(work.states[key]))
                    for key in sorted(work.touched)]  # fmt: skip
            if save:
                await cur.executemany(SAVE_STATE, save)


@dataclass
class _BmsPlan:
    zones: dict[str, bms.Zones] = field(default_factory=dict)
    flags: list[frozenset[str]] = field(default_factory=list)
    settings: list[Settings] = field(default_factory=list)
    hot: set[str] = field(default_factory=set)


def _number(value: Any) -> float | None:
    v = float(value)
    return None if np.isnan(v) else v


def _fmt(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.3g}"
