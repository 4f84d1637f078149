"""Signed commands, lease terms and configs at the gateway: the real agent behind a real
Mosquitto, the simulated JBD BMS on a pty. What is checked is what a forger would change:
the pack's MOSFETs (read in the simulator), the acks on the wire, the term the guard
enforces, the intervals in force."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from protocols.contract import Channel, Command, DeviceConfig, LeaseTerm, encode, signing
from tests.integration.control_support import (
    PARKED,
    acks,
    control_rig,
    device_key,
    now_ms,
)
from tests.integration.edge_support import UplinkCollector, unique_device_id, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.slow]

CUT = ("set_discharge", {"on": False})


def unsigned() -> Command:
    issued = now_ms()
    return Command(
        cmd_id=unique_device_id("c"),
        type=CUT[0],
        args=CUT[1],
        issued_at=issued,
        expires_at=issued + 120_000,
    )


def test_only_a_command_signed_for_this_device_runs(broker, tmp_path):
    asyncio.run(_only_a_command_signed_for_this_device_runs(broker, tmp_path))


async def _only_a_command_signed_for_this_device_runs(broker, tmp_path):
    async with control_rig(broker.url, tmp_path, PARKED) as rig:
        with UplinkCollector(broker.url, rig.device_id) as collector:
            await rig.subscribed()
            kid, _ = device_key(rig.device_id)
            other = unique_device_id("other")
            other_kid, other_key = device_key(other)
            bare = unsigned()
            genuine = rig.sign(dataclasses.replace(unsigned(), type="set_charge"))
            signed = rig.sign(unsigned())
            unknown_kid = kid.split(".")[0] + ".9"
            forgeries = [
                ("command not signed", bare),
                # a MAC made up with a key that is not this device's
                ("bad signature", signing.sign(unsigned(), rig.device_id, bytes(32), kid)),
                # a genuine command for another pack, replayed on this pack's topic
                ("bad signature", signing.sign(unsigned(), other, other_key, other_kid)),
                # a real signature, then the command changed (charge off -> discharge off)
                ("bad signature", dataclasses.replace(genuine, type=CUT[0])),
                (
                    f"unknown signing key '{unknown_kid}'",
                    dataclasses.replace(signed, sig={**signed.sig, "kid": unknown_kid}),
                ),
            ]
            for _, forged in forgeries:
                await rig.publish(Channel.CMD, encode(forged))
            for reason, forged in forgeries:
                (ack,) = await wait_until(lambda f=forged: acks(collector, f.cmd_id), "ack")
                assert (ack.result, ack.reason) == ("rejected", reason), ack
            assert rig.device.pack.discharge_mos_on  # the BMS was never asked
            assert rig.writes == []
            counters = rig.agent.executor.counters
            assert counters["commands_bad_signature"] == len(forgeries)
            assert counters["commands_rejected"] == counters["commands_done"] == 0

            # the genuine command whose id the forger used first still runs, and is acked
            real = await rig.command(*CUT, cmd_id=bare.cmd_id)
            await wait_until(
                lambda: [a.result for a in acks(collector, real.cmd_id)] == ["rejected", "done"],
                "the real command done",
            )
            assert not rig.device.pack.discharge_mos_on
            assert rig.device.pack.current_a == 0
            assert [w["discharge"] for w in rig.writes] == [False]

            # a forged copy of an id the device has run: refused, not acked a second time
            await rig.publish(Channel.CMD, encode(dataclasses.replace(bare, args={"on": True})))
            await wait_until(lambda: counters["commands_bad_signature"] == 6, "refused")
            # a later command's ack arrives: a second ack of the copy would have come first
            later = await rig.command("set_charge", {"on": True})
            await wait_until(lambda: acks(collector, later.cmd_id), "the later command's ack")
            assert len(acks(collector, real.cmd_id)) == 2


def test_a_replayed_signed_command_runs_once_and_after_expiry_never(broker, tmp_path):
    asyncio.run(_a_replayed_signed_command_runs_once(broker, tmp_path))


async def _a_replayed_signed_command_runs_once(broker, tmp_path):
    async with control_rig(broker.url, tmp_path, PARKED) as rig:
        with UplinkCollector(broker.url, rig.device_id) as collector:
            await rig.subscribed()
            store, executor = rig.agent.state, rig.agent.executor
            command = await rig.command("set_charge", {"on": False}, expires_at=now_ms() + 1500)
            (ack,) = await wait_until(lambda: acks(collector, command.cmd_id), "ack")
            assert ack.result == "done"
            await wait_until(lambda: now_ms() > command.expires_at + 100, "command expired")
            # the executor prunes what expired executed_retention_s ago: this is kept
            retention_ms = int(rig.agent.config.control.executed_retention_s * 1000)
            assert store.prune(now_ms() - retention_ms) == 0
            await rig.publish(Channel.CMD, encode(command))  # the replay
            await wait_until(lambda: executor.counters["commands_duplicate"] == 1, "dropped")
            # forgotten only once past its expiry: then a replay is refused as expired
            assert store.prune(now_ms()) == 1
            await rig.publish(Channel.CMD, encode(command))
            await wait_until(lambda: len(acks(collector, command.cmd_id)) == 2, "second ack")
            assert acks(collector, command.cmd_id)[1].result == "expired"
            assert [w["charge"] for w in rig.writes] == [False]  # ran exactly once


class GuardChecks:
    """Counts the lease guard's checks (every lease_check_interval_s, or at a new term)."""

    def __init__(self, guard) -> None:
        self.count = 0
        original = guard.check

        async def counted() -> None:
            self.count += 1
            await original()

        guard.check = counted

    async def after(self, n: int) -> None:
        """Wait until ``n`` more checks have begun (the first may have begun before)."""
        target = self.count + n
        await wait_until(lambda: self.count >= target, f"{n} lease checks")


def test_a_forged_lease_term_is_ignored_and_a_signed_one_enforced(broker, tmp_path):
    asyncio.run(_a_forged_lease_term_is_ignored(broker, tmp_path))


async def _a_forged_lease_term_is_ignored(broker, tmp_path):
    async with control_rig(broker.url, tmp_path, PARKED) as rig:
        await rig.subscribed()  # a signed term, version 1: leased
        guard, counters = rig.agent.guard, rig.agent.counters
        checks = GuardChecks(guard)
        await rig.lease(2, signed=False, leased=False, cutoff_when_not_leased=True)
        # a real signature of "leased", flipped to "not leased, cut"
        far = now_ms() + 10 * 365 * 86_400_000
        genuine = rig.sign(LeaseTerm(3, leased=True, cutoff_when_not_leased=False, issued_at=far))
        tampered = dataclasses.replace(genuine, leased=False, cutoff_when_not_leased=True)
        await rig.publish(Channel.LEASE, encode(tampered), retain=True)
        # issued ten years ahead: taken, it would move the clock floor and end every lease
        await rig.publish(Channel.LEASE, encode(dataclasses.replace(genuine, issued_at=far + 1)))
        await wait_until(lambda: counters["lease_terms_bad_signature"] == 3, "three refused")
        await checks.after(2)  # the guard has looked at the lease since
        assert guard.term.version == 1 and not guard.cut_required()
        assert rig.device.pack.discharge_mos_on
        assert rig.agent.trusted_time.now_ms() < far

        await rig.lease(4, leased=False, cutoff_when_not_leased=True)  # signed
        await wait_until(lambda: not rig.device.pack.discharge_mos_on, "cut by term 4")
        # a genuine but older term is ignored, as any stale term is
        await rig.lease(3, leased=True, cutoff_when_not_leased=False)
        await wait_until(lambda: guard.counters["lease_terms_stale"] == 1, "stale")
        await checks.after(2)
        assert guard.term.version == 4 and not rig.device.pack.discharge_mos_on


def test_a_bench_gateway_that_allows_unsigned_still_refuses_a_bad_signature(broker, tmp_path):
    asyncio.run(_bench(broker, tmp_path))


async def _bench(broker, tmp_path):
    bench = {"allow_unsigned": True}
    async with control_rig(broker.url, tmp_path, PARKED, commands=bench) as rig:
        with UplinkCollector(broker.url, rig.device_id) as collector:
            await rig.lease(1, signed=False, leased=True, cutoff_when_not_leased=False)
            await wait_until(lambda: rig.agent.guard.term is not None, "unsigned term taken")
            forged = await rig.command("set_charge", {"on": False})  # signed: no key for it
            (ack,) = await wait_until(lambda: acks(collector, forged.cmd_id), "ack")
            assert ack.result == "rejected" and ack.reason.startswith("unknown signing key")
            assert rig.device.pack.charge_mos_on
            command = await rig.command("set_charge", {"on": False}, signed=False)
            (ack,) = await wait_until(lambda: acks(collector, command.cmd_id), "ack")
            assert ack.result == "done" and not rig.device.pack.charge_mos_on
            # a config likewise: unsigned taken, signed with a key it does not hold refused
            await rig.publish(
                Channel.CONFIG, encode(rig.sign(DeviceConfig(2, status_interval_s=30)))
            )
            await rig.publish(Channel.CONFIG, encode(DeviceConfig(1, report_interval_s=2)))
            reporting = rig.agent.config.reporting
            await wait_until(lambda: rig.agent.config.reporting.report_interval_s == 2, "taken")
            assert rig.agent.counters["configs_bad_signature"] == 1
            assert reporting.status_interval_s == rig.agent.config.reporting.status_interval_s
