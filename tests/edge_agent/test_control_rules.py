"""Control rules that need no wire: the lease guard's clock (an unset or wrong RTC can make
a cut late, never early; the time floor survives a restart) and the executor's checks on
arrival (untrusted clock, expired, unknown, duplicate). The RTC is the hardware edge here:
an unset one is a Clock whose system time reads 1970."""

from __future__ import annotations

import asyncio
import time

from edge_agent.clock import Clock
from edge_agent.config import ControlConfig
from edge_agent.lease import LeaseGuard, TrustedTime
from edge_agent.motion import MotionMonitor
from edge_agent.state_store import StateStore
from protocols.contract import LeaseTerm


class UnsetRtc(Clock):
    """A gateway without an RTC battery: it boots in 1970 and has no GNSS fix yet."""

    def system_ms(self) -> int:
        return int(time.monotonic() * 1000)  # seconds since boot, i.e. January 1970


def real_now_ms() -> int:
    return time.time_ns() // 1_000_000


def guard(tmp_path, clock: Clock) -> LeaseGuard:
    store = StateStore(tmp_path / "state.db")
    config = ControlConfig(lease_check_interval_s=0.1)
    return LeaseGuard(
        config,
        store,
        TrustedTime(clock, store),
        MotionMonitor(config, has_speed_source=False),
        None,
        lambda *event: None,
    )


def test_an_unset_rtc_is_not_trusted_but_time_never_runs_behind_the_clouds(tmp_path):
    lease = guard(tmp_path, UnsetRtc())
    assert not lease.time.trusted
    issued = real_now_ms()
    lease.apply_term(
        LeaseTerm(version=1, leased=True, cutoff_when_not_leased=True, issued_at=issued,
                  leased_until=issued + 400, grace_s=0)
    )  # fmt: skip
    # the 1970 RTC alone would say the lease has decades left: the term's issued_at is the floor
    assert lease.time.now_ms() >= issued
    assert not lease.cut_required()  # not early
    time.sleep(0.6)
    assert lease.cut_required()  # the cloud's time plus the monotonic time since: 0.6 s later


def test_the_time_floor_survives_a_restart(tmp_path):
    first = guard(tmp_path, UnsetRtc())
    later = real_now_ms() + 3_600_000  # a term issued by a cloud an hour "ahead"
    first.apply_term(
        LeaseTerm(version=1, leased=True, cutoff_when_not_leased=False, issued_at=later)
    )
    first.time.persist()
    first.store.close()
    again = guard(tmp_path, UnsetRtc())  # reboot, still no RTC and no fix
    assert again.time.now_ms() >= later
    assert again.term is not None and again.term.version == 1


def test_a_plausible_clock_is_used_as_it_is(tmp_path):
    lease = guard(tmp_path, Clock())
    assert lease.time.trusted
    assert abs(lease.time.now_ms() - real_now_ms()) < 1000


def test_a_new_box_without_a_term_is_not_cut_and_an_unleased_term_cuts(tmp_path):
    lease = guard(tmp_path, Clock())
    assert not lease.cut_required()
    lease.apply_term(
        LeaseTerm(version=2, leased=False, cutoff_when_not_leased=True, issued_at=real_now_ms())
    )
    assert lease.cut_required()
    # an older version arriving late changes nothing
    assert not lease.apply_term(
        LeaseTerm(version=1, leased=True, cutoff_when_not_leased=True, issued_at=real_now_ms())
    )
    assert lease.cut_required() and lease.counters["lease_terms_stale"] == 1
    # the operator's override turns the cut-off off until a newer term
    lease.set_override(False)
    assert not lease.cut_required()
    lease.apply_term(
        LeaseTerm(version=3, leased=False, cutoff_when_not_leased=True, issued_at=real_now_ms())
    )
    assert lease.cut_required()


def executor(tmp_path, clock: Clock, *, allow_unsigned: bool = True, apply_reporting=None):
    from edge_agent.commands import CommandExecutor
    from edge_agent.config import CommandsConfig
    from edge_agent.signatures import SignatureCheck
    from edge_agent.soc_alarm import SocAlarm

    lease = guard(tmp_path, clock)
    return CommandExecutor(
        lease.config,
        lease.store,
        lease.time,
        lease.motion,
        None,
        lease,
        SocAlarm(lease.store, lambda *event: None),
        # these rules come after the signature check (tests/edge_agent/test_signed_commands.py)
        signatures=SignatureCheck("dev-1", CommandsConfig(allow_unsigned=allow_unsigned)),
        on_event=lambda *event: None,
        locate=lambda: None,
        apply_reporting=apply_reporting or (lambda changes: changes),
        wake_uplink=lambda urgent: None,
    )


def acks_of(store: StateStore) -> list[dict]:
    import json

    return [json.loads(ack.payload) for ack in store.acks()]


def run_until_acked(commands, count: int) -> None:
    """Run the executor's worker until ``count`` acks are stored (at most 10 s)."""

    async def run() -> None:
        worker = asyncio.create_task(commands.run())
        while len(acks_of(commands.store)) < count:
            await asyncio.sleep(0.01)
        worker.cancel()

    asyncio.run(asyncio.wait_for(run(), 10))


def command(cmd_id: str, *, expires_in_ms: int = 60_000, **fields):
    from protocols.contract import Command

    now = real_now_ms()
    values = {"type": "set_charge", "args": {"on": False}} | fields
    return Command(cmd_id=cmd_id, issued_at=now, expires_at=now + expires_in_ms, **values)


def test_with_an_untrusted_clock_a_command_is_rejected_not_guessed(tmp_path):
    commands = executor(tmp_path, UnsetRtc())
    commands.submit(command("c-1"))
    (ack,) = acks_of(commands.store)
    assert ack["cmd_id"] == "c-1" and ack["result"] == "rejected"
    assert ack["reason"] == "device clock not trusted: expiry cannot be judged"
    assert ack["code"] == "clock_untrusted"


def test_expired_unknown_and_duplicate_commands_are_acked_once_and_never_run(tmp_path):
    commands = executor(tmp_path, Clock())
    commands.submit(command("c-old", expires_in_ms=-1000))
    commands.submit(command("c-odd", type="self_destruct", args={}))
    commands.submit(command("c-old", expires_in_ms=-1000))  # delivered again
    results = {ack["cmd_id"]: (ack["result"], ack["reason"]) for ack in acks_of(commands.store)}
    assert len(acks_of(commands.store)) == 2
    assert results["c-old"][0] == "expired"
    assert results["c-odd"][0] == "rejected" and "unknown command type" in results["c-odd"][1]
    codes = {ack["cmd_id"]: ack["code"] for ack in acks_of(commands.store)}
    assert codes == {"c-old": "expired", "c-odd": "invalid_command"}
    assert commands.counters["commands_duplicate"] == 1
    assert commands._queue.empty()  # nothing was queued for execution


def test_every_refusal_and_failure_acks_a_code_beside_its_reason(tmp_path):
    """The executor's own outcomes, run without a BMS or a GNSS fix; a defect still acks."""

    def broken(changes):
        raise RuntimeError("a defect")

    commands = executor(tmp_path, Clock(), apply_reporting=broken)
    commands.submit(command("c-charge"))  # a BMS command on a gateway without a BMS
    commands.submit(command("c-reboot", type="reboot_bms", args={}))
    commands.submit(command("c-locate", type="locate", args={}))
    commands.submit(command("c-report", type="set_reporting", args={"report_interval_s": 5}))
    run_until_acked(commands, 4)
    got = {ack["cmd_id"]: (ack["result"], ack["code"]) for ack in acks_of(commands.store)}
    assert got == {
        "c-charge": ("rejected", "no_bms"),
        "c-reboot": ("rejected", "not_supported"),
        "c-locate": ("failed", "no_fix"),
        "c-report": ("failed", "internal_error"),
    }
    assert all(ack["reason"] for ack in acks_of(commands.store))


def test_an_unsigned_command_is_refused_with_its_code(tmp_path):
    commands = executor(tmp_path, Clock(), allow_unsigned=False)
    commands.submit(command("c-bare"))
    (ack,) = acks_of(commands.store)
    assert (ack["result"], ack["reason"], ack["code"]) == (
        "rejected",
        "command not signed",
        "not_signed",
    )


def test_a_done_ack_carries_no_code(tmp_path):
    commands = executor(tmp_path, Clock())
    commands.submit(command("c-cut-off", type="set_cutoff_when_not_leased", args={"enabled": True}))
    run_until_acked(commands, 1)
    (ack,) = acks_of(commands.store)
    assert ack["result"] == "done" and "code" not in ack and "reason" not in ack


def test_the_remaining_capacity_alarm_raises_once_and_rearms_above_its_margin(tmp_path):
    from edge_agent.soc_alarm import SocAlarm

    events = []
    alarm = SocAlarm(StateStore(tmp_path / "state.db"), lambda *event: events.append(event))
    alarm.observe(5.0)
    assert events == []  # no threshold set: no alarm
    alarm.set_threshold(20.0)
    for soc in (25.0, 19.5, 18.0, 19.9, 21.0):  # hovering just over 20 does not re-arm
        alarm.observe(soc)
    assert [(e[0], e[1]["soc_percent"], e[1]["alarm_percent"]) for e in events] == [
        ("low_soc", 19.5, 20.0)
    ]
    alarm.observe(22.5)  # back above 20 + 2: re-armed
    alarm.observe(19.0)
    assert [e[1]["soc_percent"] for e in events] == [19.5, 19.0]
    # the threshold is kept on disk
    assert SocAlarm(StateStore(tmp_path / "state.db"), lambda *e: None).threshold == 20.0
