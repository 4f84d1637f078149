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
are recorded with ``resent``, but only a live sample (not re-sent, at most ``LIVE_WINDOW``
old) can issue a command: no pack is cut off for where it was an hour ago.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from cloud.dispatch.outbox import INSERT_COMMAND, new_id
from cloud.ingest import rows as R
from cloud.rules import bms, fences, lifecycle
from cloud.rules.catalogue import ProfileError, Settings, Spec, check_profile, settings_for
from cloud.rules.geofence import INSIDE_BEYOND_MARGIN, KEEP_IN, OUTSIDE_BEYOND_MARGIN
from cloud.rules.hysteresis import INSIDE, LEFT, OUTSIDE, REENTERED, new_state, step
from protocols.contract.commands import check_command

log = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x7672726C  # "vrrl": pg_advisory_xact_lock(namespace, hashtext(device_id))
LIVE_WINDOW = timedelta(minutes=10)
ACTION_EXPIRES_S = 900
GEOFENCE_RULE = "geofence"

_BMS = {name: i for i, name in enumerate(R.BMS_COLUMNS)}
_POS = {name: i for i, name in enumerate(R.POSITION_COLUMNS)}
_EVT = {name: i for i, name in enumerate(R.EVENT_COLUMNS)}

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
INSERT_CROSSING = """
INSERT INTO geofence_event (device_id, geofence_id, geofence_name, type, breach, time,
                            received_at, lat, lon, resent, action)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"""

Key = tuple[str, str, str]  # (device_id, rule, subject)


@dataclass
class Stored:
    """What one batch added to the store (rows as the writer built them)."""

    bms: list[tuple[Any, ...]] = field(default_factory=list)
    positions: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    models: dict[str, str] = field(default_factory=dict)  # device_id -> device.model


@dataclass
class _Obs:
    """One sample as a machine sees it."""

    time_ms: int
    zone: int
    resent: bool
    row: int  # into the source rows (BMS rows, or positions for fences)
    value: float | None = None
    threshold: float | None = None


@dataclass
class _Work:
    """Per batch: machines loaded, what they produced, and their new states."""

    states: dict[Key, dict[str, Any]]
    transitions: list[lifecycle.Transition] = field(default_factory=list)
    crossings: list[tuple[Any, ...]] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    touched: set[Key] = field(default_factory=set)


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
        specs = [s.specs["offline"] for s in [self._default, *self._profiles.values()]]
        return min((s.raise_ or 0.0) for s in specs if s.enabled) if any(
            s.enabled for s in specs) else 10 * 365 * 86400.0  # fmt: skip

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
        devices = sorted({r[0] for rows in (stored.bms, stored.positions, stored.events)
                          for r in rows})  # fmt: skip
        if not devices:
            return
        bms_plan = self._plan_bms(stored)
        fence_plan = self._plan_fences(stored)
        events = self._point_events(stored)
        cur = await conn.execute(BUSY, (devices,))
        busy = {d for (d,) in await cur.fetchall()} | bms_plan.hot | fence_plan.hot
        busy |= {t.device_id for t in events}
        if not busy:
            return
        busy_list = sorted(busy)
        await conn.execute(LOCK, (LOCK_NAMESPACE, busy_list))
        cur = await conn.execute(STATES, (busy_list,))  # again, now that no one else can move them
        work = _Work({(d, r, s): dict(state) for d, r, s, state in await cur.fetchall()})
        work.transitions.extend(events)
        self._run_bms(stored, bms_plan, work)
        self._run_fences(stored, fence_plan, work)
        await self._write(conn, work)

    # -- BMS thresholds and protections ---------------------------------------------------
    def _plan_bms(self, stored: Stored) -> _BmsPlan:
        rows = stored.bms
        if not rows:
            return _BmsPlan()
        settings = [self.settings(stored.models.get(r[0], "")) for r in rows]
        zones = bms.zones(rows, settings)
        flags = bms.protections(rows)
        hot: set[str] = set()
        for z in zones.values():
            hot.update(rows[i][0] for i in np.flatnonzero(z.zone == bms.ALARM))
        protection_on = [i for i, f in enumerate(flags) if f and settings[i].specs[
            "bms_protection"].enabled]  # fmt: skip
        hot.update(rows[i][0] for i in protection_on)
        return _BmsPlan(zones, flags, settings, hot)

    def _run_bms(self, stored: Stored, plan: _BmsPlan, work: _Work) -> None:
        rows = stored.bms
        if not rows:
            return
        by_device: dict[str, list[int]] = defaultdict(list)
        for i in sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][1], rows[i][2])):
            by_device[rows[i][0]].append(i)
        keys: set[Key] = {k for k in work.states if k[1].startswith("alarm:") and k[0] in by_device}
        for type_, z in plan.zones.items():
            for i in np.flatnonzero(z.zone == bms.ALARM):
                keys.add((rows[i][0], f"alarm:{type_}", ""))
        for i, f in enumerate(plan.flags):
            for name in f:
                keys.add((rows[i][0], "alarm:bms_protection", name))
        for key in sorted(keys):
            device_id, rule, subject = key
            type_ = rule.removeprefix("alarm:")
            indexes = by_device.get(device_id, [])
            if type_ == "bms_protection":
                obs = [
                    _Obs(_ms(rows[i][1]), bms.ALARM if subject in plan.flags[i] else bms.NORMAL,
                         rows[i][_BMS["resent"]], i)
                    for i in indexes if plan.settings[i].specs[type_].enabled
                ]  # fmt: skip
                dwell = 0.0
            elif type_ in plan.zones:
                z = plan.zones[type_]
                obs = [
                    _Obs(_ms(rows[i][1]), int(z.zone[i]), rows[i][_BMS["resent"]], i,
                         _number(z.value[i]), _number(z.threshold[i]))
                    for i in indexes
                ]  # fmt: skip
                dwell = z.spec_by_row[indexes[0]].dwell_s if indexes else 0.0
            else:
                continue  # a type disabled since its machine was raised: it stays as it is
            if not obs:
                continue
            state = work.states.get(key) or new_state(KEEP_IN)
            for kind, ob in _run_machine(state, obs, dwell, INSIDE):
                spec = plan.settings[ob.row].specs[type_]
                work.transitions.append(self._bms_transition(rows[ob.row], spec, subject, kind, ob))
            work.states[key] = state
            work.touched.add(key)

    def _bms_transition(
        self, row: tuple[Any, ...], spec: Spec, subject: str, kind: str, ob: _Obs
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
            device_id=row[0], spec=spec, subject=subject, kind=kind, time=row[1],
            received_at=row[_BMS["received_at"]], value=ob.value, threshold=ob.threshold,
            resent=bool(row[_BMS["resent"]]), message=message,
            sample=bms.sample_document(row, R.BMS_COLUMNS) if kind != lifecycle.CLEARED else None,
        )  # fmt: skip

    # -- device events --------------------------------------------------------------------
    def _point_events(self, stored: Stored) -> list[lifecycle.Transition]:
        out = []
        for row in stored.events:
            spec = self.settings(stored.models.get(row[0], "")).specs.get(row[_EVT["type"]])
            if spec is None or spec.source != "event" or not spec.enabled:
                continue
            out.append(lifecycle.Transition(
                device_id=row[0], spec=spec, subject="", kind=lifecycle.POINT, time=row[1],
                received_at=row[_EVT["received_at"]], resent=bool(row[_EVT["resent"]]),
                sample=bms.sample_document(row, R.EVENT_COLUMNS),
                message=f"{spec.type} event from the device",
            ))  # fmt: skip
        return out

    # -- fences ---------------------------------------------------------------------------
    def _plan_fences(self, stored: Stored) -> _FencePlan:
        fs = self.fences
        if fs.empty or not stored.positions:
            return _FencePlan()
        valid = [i for i, r in enumerate(stored.positions) if r[_POS["valid"]]]
        if not valid:
            return _FencePlan()
        rows = [stored.positions[i] for i in valid]
        devices = np.array([r[0] for r in rows])
        lon = np.array([r[_POS["lon"]] for r in rows], dtype=float)
        lat = np.array([r[_POS["lat"]] for r in rows], dtype=float)
        c = fs.index.classify(fs.assignment, devices, lon, lat)
        keep_in = np.array([f.kind == KEEP_IN for f in fs.index.fences], dtype=bool)
        breach_zone = np.where(keep_in[c.fence], OUTSIDE_BEYOND_MARGIN, INSIDE_BEYOND_MARGIN)
        hot = set(devices[c.point[c.zone == breach_zone]].tolist())
        return _FencePlan(rows, c, hot)

    def _run_fences(self, stored: Stored, plan: _FencePlan, work: _Work) -> None:
        if plan.classification is None:
            return
        fs, c, rows = self.fences, plan.classification, plan.rows
        index = fs.index
        keep_in = np.array([f.kind == KEEP_IN for f in index.fences], dtype=bool)
        # the (device, fence) pairs that can change: a sample on the breach side, or a
        # machine away from rest; only their rows go through the machines
        names, code = np.unique(np.array([r[0] for r in rows]), return_inverse=True)
        pair = code.reshape(-1)[c.point] * len(index) + c.fence
        breach_zone = np.where(keep_in[c.fence], OUTSIDE_BEYOND_MARGIN, INSIDE_BEYOND_MARGIN)
        hot = set(pair[c.zone == breach_zone].tolist())
        position = {name: i for i, name in enumerate(names.tolist())}
        for device_id, rule, subject in work.states:
            if rule == GEOFENCE_RULE and device_id in position:
                f = index.position.get(int(subject))
                if f is not None:
                    hot.add(position[device_id] * len(index) + f)
        chosen = np.flatnonzero(np.isin(pair, np.fromiter(hot, dtype=np.int64, count=len(hot))))
        groups: dict[tuple[str, int], list[_Obs]] = defaultdict(list)
        for j in chosen.tolist():
            p, f = int(c.point[j]), int(c.fence[j])
            groups[(rows[p][0], f)].append(
                _Obs(_ms(rows[p][1]), int(c.zone[j]), bool(rows[p][_POS["resent"]]), p)
            )
        now = self._now()
        for (device_id, f), obs in sorted(groups.items()):
            fence = index.fences[f]
            key = (device_id, GEOFENCE_RULE, str(fence.id))
            state = work.states.get(key) or {**new_state(fence.kind), "rest": _rest(fence.kind)}
            obs.sort(key=lambda o: (o.time_ms, o.row))
            for ob in obs:
                happened = None
                if state["last_ms"] is None or ob.time_ms >= state["last_ms"]:
                    happened = step(state, ob.time_ms, ob.zone, float(fs.dwell_s[f]))
                row = rows[ob.row]
                live = not ob.resent and row[1] >= now - LIVE_WINDOW
                action = self._fence_action(device_id, f, state, live, ob.time_ms)
                if action is not None:
                    work.commands.append(action)
                if happened is not None:
                    breach = (happened == LEFT) == bool(keep_in[f])
                    self._crossing(work, stored, row, f, happened, breach, action)
            work.states[key] = state
            work.touched.add(key)

    def _crossing(self, work: _Work, stored: Stored, row: tuple[Any, ...], f: int,
                  happened: str, breach: bool, action: dict[str, Any] | None) -> None:  # fmt: skip
        fs = self.fences
        fence = fs.index.fences[f]
        name = fs.names[f]
        described = None
        if action is not None:
            described = Jsonb({"cmd_id": action["cmd_id"], "type": action["type"],
                               "args": action["args"].obj})  # fmt: skip
        work.crossings.append(
            (row[0], fence.id, name, happened, breach, row[1], row[_POS["received_at"]],
             row[_POS["lat"]], row[_POS["lon"]], bool(row[_POS["resent"]]), described)
        )  # fmt: skip
        spec = self.settings(stored.models.get(row[0], "")).specs["outside_geofence"]
        if spec.enabled:
            where = "outside keep-in" if fence.kind == KEEP_IN else "inside keep-out"
            work.transitions.append(lifecycle.Transition(
                device_id=row[0], spec=spec, subject=str(fence.id),
                kind=lifecycle.RAISED if breach else lifecycle.CLEARED, time=row[1],
                received_at=row[_POS["received_at"]], resent=bool(row[_POS["resent"]]),
                sample=bms.sample_document(row, R.POSITION_COLUMNS) if breach else None,
                message=f"{where} fence {name!r}" if breach else f"back within fence {name!r}",
            ))  # fmt: skip

    def _fence_action(
        self, device_id: str, f: int, state: dict[str, Any], live: bool, time_ms: int
    ) -> dict[str, Any] | None:
        """The command a fence's action calls for at this sample, if any; the state keeps
        the cut it made (``cut_cmd``) so that only that one is restored, and only once.
        Only live samples act; a re-sent backlog never does."""
        if not live:
            return None
        action = self.fences.actions[f] or {}
        name = self.fences.names[f]
        fence_id = self.fences.index.fences[f].id
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

    # -- writing --------------------------------------------------------------------------
    async def _write(self, conn: psycopg.AsyncConnection, work: _Work) -> None:
        changed = await lifecycle.apply(conn, work.transitions)
        self.counters["alarm_changes"] += changed
        async with conn.cursor() as cur:
            if work.crossings:
                await cur.executemany(INSERT_CROSSING, work.crossings)
                self.counters["geofence_events"] += len(work.crossings)
            for command in work.commands:
                await cur.execute(INSERT_COMMAND, command)
                self.counters["rule_commands"] += 1
                log.info("rule command %s %s to %s: %s", command["cmd_id"], command["args"].obj,
                         command["device_id"], command["reason"])  # fmt: skip
            save = [(*key, Jsonb(work.states[key]), _at_rest(work.states[key]))
                    for key in sorted(work.touched)]  # fmt: skip
            if save:
                await cur.executemany(SAVE_STATE, save)


@dataclass
class _BmsPlan:
    zones: dict[str, bms.Zones] = field(default_factory=dict)
    flags: list[frozenset[str]] = field(default_factory=list)
    settings: list[Settings] = field(default_factory=list)
    hot: set[str] = field(default_factory=set)


@dataclass
class _FencePlan:
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    classification: Any = None
    hot: set[str] = field(default_factory=set)


def _run_machine(
    state: dict[str, Any], obs: Sequence[_Obs], dwell_s: float, rest: str
) -> Iterable[tuple[str, _Obs]]:
    """Feed observations (any order) through one alarm machine; (transition kind, obs)."""
    for ob in sorted(obs, key=lambda o: (o.time_ms, o.row)):
        if state["last_ms"] is not None and ob.time_ms < state["last_ms"]:
            if ob.zone == bms.ALARM and state["state"] == rest:
                yield lifecycle.LATE, ob
            continue
        happened = step(state, ob.time_ms, ob.zone, dwell_s)
        if happened == LEFT:
            yield lifecycle.RAISED, ob
        elif happened == REENTERED:
            yield lifecycle.CLEARED, ob


def _at_rest(state: dict[str, Any]) -> bool:
    """Whether a machine rests: on its resting side, waiting for nothing, nothing to undo."""
    if state.get("pending_since_ms") is not None or "cut_cmd" in state:
        return False
    return state["state"] == state.get("rest", INSIDE)


def _rest(kind: str) -> str:
    """The side of a fence a device may be on: inside a keep-in, outside a keep-out."""
    return INSIDE if kind == KEEP_IN else OUTSIDE


def _command(device_id: str, on: bool, fence_id: Any, reason: str) -> dict[str, Any]:
    args = check_command("set_discharge", {"on": on})
    return {
        "cmd_id": new_id("g"),
        "device_id": device_id,
        "type": "set_discharge",
        "args": Jsonb(args),
        "issued_by": f"rule:geofence:{fence_id}",
        "reason": reason,
        "expires_in_s": ACTION_EXPIRES_S,
    }


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _number(value: Any) -> float | None:
    v = float(value)
    return None if np.isnan(v) else v


def _fmt(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.3g}"
