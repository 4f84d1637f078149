"""The lease guard: the device enforces its lease term itself, also with no connectivity.

The term comes retained on ``down/lease`` (``LeaseTerm``); the newest ``version`` wins and
is kept in the state store, so a restart offline enforces the same term. Every
``lease_check_interval_s`` the guard asks: is cut-off enabled, and is the pack not leased
or is ``now > leased_until + grace_s``? Then it turns discharge off: only once the vehicle
stands still (see ``edge_agent.motion``), waiting as long as it takes and reporting
``cutoff_waiting`` (detail: source "lease", speed_kmh, current_a, waited_s) while it waits,
then ``lease_cutoff`` (detail: lease_version, leased_until, grace_s, discharge_mos). When a
term arrives (or the override changes) so that no cut is required any more, and the guard
was the one that cut, discharge goes back on: ``lease_restored`` (lease_version,
discharge_mos). A discharge the operator cut by command stays off.

Manual commands versus the lease: while the lease requires a cut, ``set_discharge on`` is
rejected with "pack not leased" (the lease wins; a renewed term or
``set_cutoff_when_not_leased false`` lifts it). ``set_discharge off`` is always allowed.
``set_cutoff_when_not_leased`` overrides the term's ``cutoff_when_not_leased`` until a term
with a newer version arrives, which brings its own flag.

The clock (``TrustedTime``). The RTC of a gateway may be unset (1970), off by years, or
jump when NTP or GNSS corrects it. "Now" for the guard and for command expiry is the
largest of: the system clock corrected by GNSS (only while ``Clock.plausible``), the last
trusted time this agent stored (every check, persisted, so time never goes back across a
restart) plus the monotonic time since, and the newest ``issued_at`` of a lease term or
command plus the monotonic time since it arrived (the cloud's clock as a lower bound).
Consequences: an RTC that runs behind or is unset cannot extend a lease past what the
cloud's own timestamps prove; time spent powered off is not counted until a plausible
clock or GNSS fix is back (a lease may then be cut late, never early); an RTC set wrongly
into the future and believed plausible cuts early until GNSS corrects it, and a vehicle
rolling is never cut anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from edge_agent.bms_control import BmsControl, BmsControlError
from edge_agent.clock import Clock
from edge_agent.config import ControlConfig
from edge_agent.motion import MotionMonitor, MotionSnapshot, wait_for_standstill
from edge_agent.sources.base import EventSink
from edge_agent.state_store import StateStore
from protocols.contract import LeaseTerm

log = logging.getLogger(__name__)

FLOOR_KEY = "time_floor_ms"
PERSIST_EVERY_S = 60.0  # the floor on flash: often enough, without wearing it out


class TrustedTime:
    """Wall-clock ms that never goes back and never trusts an implausible RTC."""

    def __init__(self, clock: Clock, store: StateStore) -> None:
        self.clock = clock
        self.store = store
        self._floor_ms = int(store.get(FLOOR_KEY, 0))
        self._floor_monotonic = time.monotonic()

    @property
    def trusted(self) -> bool:
        """The RTC or GNSS gives a believable time (see ``Clock.plausible``)."""
        return self.clock.plausible

    def raise_floor(self, ms: int) -> None:
        """A time we know has passed (a cloud ``issued_at``)."""
        if ms > self.now_ms():
            self._floor_ms, self._floor_monotonic = ms, time.monotonic()

    def now_ms(self) -> int:
        elapsed = int((time.monotonic() - self._floor_monotonic) * 1000)
        floor = self._floor_ms + elapsed
        return max(self.clock.now_ms(), floor) if self.trusted else floor

    def persist(self) -> None:
        """Store now as the floor of every later boot."""
        now = self.now_ms()
        self._floor_ms, self._floor_monotonic = now, time.monotonic()
        self.store.put(FLOOR_KEY, now)


class LeaseGuard:
    """Enforces the stored lease term; see the module docstring for the rules."""

    def __init__(
        self,
        config: ControlConfig,
        store: StateStore,
        time_source: TrustedTime,
        motion: MotionMonitor,
        bms: BmsControl | None,
        on_event: EventSink,
    ) -> None:
        self.config = config
        self.store = store
        self.time = time_source
        self.motion = motion
        self.bms = bms
        self._on_event = on_event
        self.term = store.lease_term()
        if self.term is not None:
            self.time.raise_floor(self.term.issued_at)
        self.counters = {
            "lease_terms_applied": 0,
            "lease_terms_stale": 0,
            "lease_cutoffs": 0,
            "lease_restores": 0,
            "lease_errors": 0,
        }
        self._changed = asyncio.Event()

    # -- the term --------------------------------------------------------------------
    def apply_term(self, term: LeaseTerm) -> bool:
        """Take a term from down/lease if newer than the stored one; True when taken.
        A newer term ends any ``set_cutoff_when_not_leased`` override."""
        self.time.raise_floor(term.issued_at)
        if self.term is not None and term.version <= self.term.version:
            if term.version < self.term.version:
                self.counters["lease_terms_stale"] += 1
            return False
        self.store.set_lease_term(term)
        self.store.put("cutoff_override", None)
        self.term = term
        self.counters["lease_terms_applied"] += 1
        self._changed.set()
        return True

    def set_override(self, enabled: bool) -> None:
        """``set_cutoff_when_not_leased``: replaces the term's flag until a newer term."""
        self.store.put("cutoff_override", enabled)
        self._changed.set()

    @property
    def cutoff_enabled(self) -> bool:
        override = self.store.get("cutoff_override")
        if override is not None:
            return bool(override)
        return self.term is not None and self.term.cutoff_when_not_leased

    def cut_required(self) -> bool:
        """Whether the lease, as it stands now, requires discharge off."""
        term = self.term
        if term is None or not self.cutoff_enabled:
            return False  # no term yet: a new box is not cut before the cloud has spoken
        if not term.leased:
            return True
        if term.leased_until is None:
            return False  # leased without end
        return self.time.now_ms() > term.leased_until + term.grace_s * 1000

    @property
    def has_cut(self) -> bool:
        """The guard turned discharge off and has not restored it."""
        return bool(self.store.get("lease_cut", False))

    # -- running ---------------------------------------------------------------------
    async def run(self) -> None:
        """Check every ``lease_check_interval_s`` or at once when the term changes."""
        persisted = -PERSIST_EVERY_S
        while True:
            if time.monotonic() - persisted >= PERSIST_EVERY_S:
                self.time.persist()
                persisted = time.monotonic()
            if self.bms is not None:
                try:
                    await self.check()
                except BmsControlError as err:
                    self.counters["lease_errors"] += 1
                    log.warning("lease guard: %s", err)
            try:
                async with asyncio.timeout(self.config.lease_check_interval_s):
                    await self._changed.wait()
            except TimeoutError:
                pass
            self._changed.clear()

    async def check(self) -> None:
        """Cut or restore once, as the term requires."""
        assert self.bms is not None
        if self.cut_required():
            if self.has_cut or not self.bms.commanded()[1]:
                return  # already off (by the guard or by an operator)
            await wait_for_standstill(self.motion, self._report_waiting, limit_s=None)
            if not self.cut_required():
                return  # renewed while we waited
            self.store.put("lease_cut", True)
            observed = await self.bms.set_mosfets(discharge=False)
            self.counters["lease_cutoffs"] += 1
            self._on_event("lease_cutoff", {**self._term_detail(), **_mos(observed)}, "warning")
        elif self.has_cut:
            observed = await self.bms.set_mosfets(discharge=True)
            self.store.put("lease_cut", False)
            self.counters["lease_restores"] += 1
            self._on_event("lease_restored", {**self._term_detail(), **_mos(observed)}, "info")

    def _report_waiting(self, snapshot: MotionSnapshot, waited_s: float) -> None:
        detail = {"source": "lease", **snapshot.detail(), "waited_s": round(waited_s, 1)}
        self._on_event("cutoff_waiting", detail, "warning")

    def _term_detail(self) -> dict[str, Any]:
        term = self.term
        return {
            "lease_version": term.version if term else None,
            "leased_until": term.leased_until if term else None,
            "grace_s": term.grace_s if term else None,
        }


def _mos(observed: dict[str, Any]) -> dict[str, Any]:
    return {"charge_mos": observed["charge_mos"], "discharge_mos": observed["discharge_mos"]}
