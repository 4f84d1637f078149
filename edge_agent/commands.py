"""The command executor: ``down/cmd`` in, one ack per ``cmd_id`` out on ``up/ack``.

Every ack but ``done`` says why twice: in its ``reason`` text (quoted below) and in its
``code`` (``protocols.contract.acks.AckCode``, written here as ``code=...``) for programs.

On arrival (``submit``), first the signature (``edge_agent.signatures``): an unsigned
command, one signed with a key id this gateway does not hold, or one whose MAC does not
match (tampered, or signed for another device) -> ack ``rejected`` "command not signed"
(code=not_signed) / "unknown signing key 'x'" (code=unknown_key) / "bad signature"
(code=bad_signature), counted in ``commands_bad_signature``, never run, and its ``cmd_id``
is NOT remembered: a forger who guessed a real command's id must not make the device drop
the real one as a duplicate (no ack either when the id is known already: the real command
has its own). Then a ``cmd_id`` seen before is dropped (counted in ``commands_duplicate``;
its one ack is already stored or sent), which is what stops a replayed signed command:
seen cmd_ids are kept until ``executed_retention_s`` after their expiry, and past its
expiry a command is refused anyway. Otherwise the command is stored as pending, then
checked: not in the catalogue or bad args -> ack ``rejected`` with the catalogue's reason
(code=invalid_command); the device clock not trusted (``Clock.plausible`` false: RTC unset
and no GNSS fix yet) -> ``rejected`` with "device clock not trusted" (code=clock_untrusted),
because expiry cannot be judged and a stale cut-off must not run; ``expires_at`` <= now
(``TrustedTime``) -> ``expired`` (code=expired), never executed. The rest run one at a
time in arrival order, also after a restart (pending commands are kept on disk), and
expiry is checked again when a command's turn comes.

What each type does and acks (``observed`` keys in brackets):

- ``set_discharge`` off: waits until the vehicle stands still (``edge_agent.motion``) up to
  ``control.cutoff_wait_limit_s``, reporting ``cutoff_waiting`` events (detail: source
  "command", cmd_id, speed_kmh, current_a, waited_s); past the limit -> ``failed`` "vehicle
  did not stand still within N s; discharge left on" (code=not_standing_still).
  ``emergency: true`` skips the wait. Then writes the MOSFETs, reads basic info back:
  ``done`` only if the BMS reports discharge off, else ``failed`` (code=state_not_reached)
  [charge_mos, discharge_mos, protection].
- ``set_discharge`` on: ``rejected`` "pack not leased ..." (code=not_leased) while the lease
  requires a cut (see ``edge_agent.lease``); else write, read back, ``done`` if discharge is
  on, else ``failed`` (code=state_not_reached; a protection may hold it off)
  [charge_mos, discharge_mos, protection].
- ``set_charge``: write, read back, ``done`` if the switch is as asked, else ``failed``
  (code=state_not_reached) [same keys].
- ``set_cutoff_when_not_leased``: overrides the lease term's flag until a newer term
  [cutoff_when_not_leased, cut_required].
- ``read_bms_parameters``: one EEPROM session [each name -> value].
- ``write_bms_parameters``: one EEPROM session saving, then read back: ``done`` with the
  values read, or ``failed`` naming the first parameter that did not take (code=parameter_not_taken)
  [name -> value].
  ``remaining_capacity_alarm_percent`` (no JBD register) is kept host-side, persisted, and
  raises a ``low_soc`` event when SOC falls under it (``edge_agent.soc_alarm``).
- ``reboot_bms``: ``rejected`` (code=not_supported), a JBD BMS has no reboot command.
- ``locate``: a position sample recorded and uploaded at once [ts, lat, lon, valid,
  speed_kmh]; ``failed`` before the first fix (code=no_fix).
- ``set_reporting``: applied as ``down/config`` would be [report_interval_s,
  upload_interval_s, status_interval_s].

A BMS that does not answer -> ``failed`` naming the request (code=bms_error); a gateway
without a BMS source -> ``rejected`` for BMS commands (code=no_bms); a type this gateway
does not know -> ``rejected`` (code=not_supported); a defect of ours -> ``failed``
"internal error: ..." (code=internal_error).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from edge_agent.bms_control import BmsControl, BmsControlError
from edge_agent.config import ControlConfig
from edge_agent.lease import LeaseGuard, TrustedTime
from edge_agent.motion import MotionMonitor, MotionSnapshot, wait_for_standstill
from edge_agent.signatures import SignatureCheck
from edge_agent.soc_alarm import ALARM_PARAMETER, SocAlarm
from edge_agent.sources.base import EventSink
from edge_agent.state_store import StateStore
from protocols import jbd
from protocols.contract import Ack, AckCode, AckResult, Command, SignatureError
from protocols.contract import commands as catalogue

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0

NEEDS_BMS = {
    catalogue.SET_DISCHARGE,
    catalogue.SET_CHARGE,
    catalogue.READ_BMS_PARAMETERS,
    catalogue.WRITE_BMS_PARAMETERS,
}


class Outcome(Exception):
    """How a command ended other than ``done``: ``result``, ``code`` and ``reason`` for the
    ack."""

    def __init__(
        self,
        result: AckResult,
        code: AckCode,
        reason: str,
        observed: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(reason)
        self.result, self.code, self.reason, self.observed = result, code, reason, observed


class CommandExecutor:
    """Checks, queues and runs commands; stores each result with its ack."""

    def __init__(
        self,
        config: ControlConfig,
        store: StateStore,
        time_source: TrustedTime,
        motion: MotionMonitor,
        bms: BmsControl | None,
        guard: LeaseGuard,
        soc_alarm: SocAlarm,
        *,
        signatures: SignatureCheck,
        on_event: EventSink,
        locate: Callable[[], dict[str, Any] | None],
        apply_reporting: Callable[[dict[str, float]], dict[str, float]],
        wake_uplink: Callable[[bool], None],
    ) -> None:
        self.config = config
        self.store = store
        self.time = time_source
        self.motion = motion
        self.bms = bms
        self.guard = guard
        self.soc_alarm = soc_alarm
        self.signatures = signatures
        self._on_event = on_event
        self._locate = locate
        self._apply_reporting = apply_reporting
        self._wake_uplink = wake_uplink
        self._queue: asyncio.Queue[Command] = asyncio.Queue()
        self.counters = {
            "commands_received": 0,
            "commands_bad_signature": 0,
            "commands_duplicate": 0,
            "commands_done": 0,
            "commands_failed": 0,
            "commands_rejected": 0,
            "commands_expired": 0,
        }
        self._queue_pending()

    def _queue_pending(self) -> None:
        for command in self.store.pending():
            self._queue.put_nowait(command)

    # -- arrival ---------------------------------------------------------------------
    def submit(self, command: Command) -> None:
        """Take a command from down/cmd (never blocks: execution is the worker's)."""
        self.counters["commands_received"] += 1
        try:
            self.signatures.check(command)
        except SignatureError as err:
            self._refuse_unproven(command, err)
            return
        if not self.store.add_pending(command):
            self.counters["commands_duplicate"] += 1
            log.info("command %s delivered again: not executed, not acked again", command.cmd_id)
            return
        try:
            self._precheck(command)
        except Outcome as outcome:
            self._finish(command, outcome)
            return
        self._queue.put_nowait(command)

    def _refuse_unproven(self, command: Command, err: SignatureError) -> None:
        self.counters["commands_bad_signature"] += 1
        log.warning("command %s (%s) refused: %s", command.cmd_id, command.type, err)
        if self.store.seen(command.cmd_id):
            return  # the genuine command of that id has, or will have, its own ack
        ack = Ack(command.cmd_id, self.time.now_ms(), AckResult.REJECTED, str(err), code=err.code)
        self.store.queue_ack(ack)
        self._wake_uplink(True)

    def _precheck(self, command: Command) -> dict[str, Any]:
        try:
            args = catalogue.check_command(command.type, command.args)
        except catalogue.CommandError as err:
            raise Outcome(AckResult.REJECTED, AckCode.INVALID_COMMAND, str(err)) from err
        if not self.time.trusted:
            raise Outcome(
                AckResult.REJECTED,
                AckCode.CLOCK_UNTRUSTED,
                "device clock not trusted: expiry cannot be judged",
            )
        now = self.time.now_ms()
        if command.expired(now):
            raise Outcome(
                AckResult.EXPIRED,
                AckCode.EXPIRED,
                f"expired at {command.expires_at}, device time {now}",
            )
        return args

    # -- running ---------------------------------------------------------------------
    async def run(self) -> None:
        """Execute queued commands one at a time, in arrival order, forever."""
        last_prune = -PRUNE_EVERY_S
        while True:
            if time.monotonic() - last_prune >= PRUNE_EVERY_S:
                self.store.prune(self.time.now_ms() - int(self.config.executed_retention_s * 1e3))
                last_prune = time.monotonic()
            command = await self._queue.get()
            if self.store.result(command.cmd_id) is not None:
                continue  # finished before a restart re-queued it
            try:
                args = self._precheck(command)
                observed = await self.execute(command.type, args, command.cmd_id)
            except Outcome as outcome:
                self._finish(command, outcome)
            except BmsControlError as err:
                self._finish(command, Outcome(AckResult.FAILED, AckCode.BMS_ERROR, str(err)))
            except Exception as err:  # a defect: still exactly one ack, saying so
                log.exception("command %s failed unexpectedly", command.cmd_id)
                reason = f"internal error: {err!r}"[:500]
                self._finish(command, Outcome(AckResult.FAILED, AckCode.INTERNAL_ERROR, reason))
            else:
                self._finish(command, None, observed)

    def _finish(
        self, command: Command, outcome: Outcome | None, observed: dict[str, Any] | None = None
    ) -> None:
        """Store the command's one ack: ``done`` with ``observed`` when ``outcome`` is None."""
        now = self.time.now_ms()
        if outcome is None:
            ack = Ack(command.cmd_id, now, AckResult.DONE, observed=observed)
        else:
            ack = Ack(
                command.cmd_id,
                now,
                outcome.result,
                outcome.reason,
                outcome.observed,
                code=outcome.code,
            )
        if self.store.finish(command, ack):
            self.counters[f"commands_{ack.result}"] += 1
            self._wake_uplink(True)

    async def execute(self, kind: str, args: dict[str, Any], cmd_id: str) -> dict[str, Any]:
        """Run one checked command; returns ``observed`` for a done ack, raises Outcome."""
        if kind in NEEDS_BMS and self.bms is None:
            raise Outcome(AckResult.REJECTED, AckCode.NO_BMS, "no BMS on this gateway")
        if kind == catalogue.SET_DISCHARGE:
            return await self._set_discharge(args["on"], args["emergency"], cmd_id)
        if kind == catalogue.SET_CHARGE:
            assert self.bms is not None
            observed = await self.bms.set_mosfets(charge=args["on"])
            if observed["charge_mos"] != args["on"]:
                state = _onoff(observed["charge_mos"])
                raise Outcome(
                    AckResult.FAILED,
                    AckCode.STATE_NOT_REACHED,
                    f"BMS reports charge_mos {state}",
                    observed,
                )
            return observed
        if kind == catalogue.SET_CUTOFF_WHEN_NOT_LEASED:
            self.guard.set_override(args["enabled"])
            return {
                "cutoff_when_not_leased": args["enabled"],
                "cut_required": self.guard.cut_required(),
            }
        if kind == catalogue.READ_BMS_PARAMETERS:
            return await self._read_parameters(args["names"])
        if kind == catalogue.WRITE_BMS_PARAMETERS:
            return await self._write_parameters(args["values"])
        if kind == catalogue.REBOOT_BMS:
            raise Outcome(
                AckResult.REJECTED, AckCode.NOT_SUPPORTED, "a JBD BMS has no reboot command"
            )
        if kind == catalogue.LOCATE:
            return self._locate_now()
        if kind == catalogue.SET_REPORTING:
            return self._apply_reporting(args)
        raise Outcome(
            AckResult.REJECTED,
            AckCode.NOT_SUPPORTED,
            f"command type {kind!r} is not supported by this gateway",
        )

    # -- the types -------------------------------------------------------------------
    async def _set_discharge(self, on: bool, emergency: bool, cmd_id: str) -> dict[str, Any]:
        assert self.bms is not None
        if on:
            if self.guard.cut_required():
                raise Outcome(
                    AckResult.REJECTED,
                    AckCode.NOT_LEASED,
                    "pack not leased: the lease term requires discharge off (renew the lease"
                    " or send set_cutoff_when_not_leased false)",
                )
            observed = await self.bms.set_mosfets(discharge=True)
            self.store.put("lease_cut", False)  # on by hand: nothing left for the guard to undo
            if not observed["discharge_mos"]:
                raise Outcome(
                    AckResult.FAILED,
                    AckCode.STATE_NOT_REACHED,
                    "BMS reports discharge_mos off",
                    observed,
                )
            return observed
        if not emergency:

            def report(snapshot: MotionSnapshot, waited_s: float) -> None:
                detail = {"source": "command", "cmd_id": cmd_id, **snapshot.detail()}
                detail["waited_s"] = round(waited_s, 1)
                self._on_event("cutoff_waiting", detail, "warning")

            limit = self.config.cutoff_wait_limit_s
            if not await wait_for_standstill(self.motion, report, limit_s=limit):
                snapshot = self.motion.snapshot().detail()
                raise Outcome(
                    AckResult.FAILED,
                    AckCode.NOT_STANDING_STILL,
                    f"vehicle did not stand still within {limit:g} s; discharge left on",
                    snapshot,
                )
        observed = await self.bms.set_mosfets(discharge=False)
        if observed["discharge_mos"]:
            raise Outcome(
                AckResult.FAILED,
                AckCode.STATE_NOT_REACHED,
                "BMS reports discharge_mos still on after the write",
                observed,
            )
        return observed

    async def _read_parameters(self, names: list[str]) -> dict[str, Any]:
        assert self.bms is not None
        on_bms = [name for name in names if name in jbd.PARAMETERS]
        values: dict[str, Any] = await self.bms.read_parameters(on_bms) if on_bms else {}
        if ALARM_PARAMETER in names:
            values[ALARM_PARAMETER] = self.soc_alarm.threshold
        return {name: values[name] for name in names}

    async def _write_parameters(self, values: dict[str, float]) -> dict[str, Any]:
        assert self.bms is not None
        on_bms = {name: value for name, value in values.items() if name in jbd.PARAMETERS}
        observed: dict[str, Any] = {}
        if on_bms:
            await self.bms.write_parameters(on_bms)
            observed = await self.bms.read_parameters(list(on_bms))
            for name, wanted in on_bms.items():
                step = 1 / jbd.PARAMETERS[name].divisor
                if abs(observed[name] - wanted) > step / 2 + 1e-9:
                    raise Outcome(
                        AckResult.FAILED,
                        AckCode.PARAMETER_NOT_TAKEN,
                        f"{name} did not take: wrote {wanted:g}, the BMS has {observed[name]:g}",
                        observed,
                    )
        if ALARM_PARAMETER in values:
            self.soc_alarm.set_threshold(values[ALARM_PARAMETER])
            observed[ALARM_PARAMETER] = self.soc_alarm.threshold
        return observed

    def _locate_now(self) -> dict[str, Any]:
        observed = self._locate()
        if observed is None:
            raise Outcome(AckResult.FAILED, AckCode.NO_FIX, "no GNSS fix yet")
        return observed


def _onoff(on: bool) -> str:
    return "on" if on else "off"
