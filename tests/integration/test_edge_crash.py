"""kill -9 of the gateway daemon, with the broker up and with the broker down.

The real daemon (``python -m edge_agent.cli --config FILE``) runs as a child process
against simulated hardware served by the test process (BMS and GNSS on ptys), so it can
be killed without warning. What must hold, judged at the broker and in the outbox file:
every record the outbox held at the kill arrives after the restart, marked ``resent``;
the seqs delivered over the whole run have no gap; no seq ever names two different
records; and each kind arrives in seq order.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from firmware_sim.device import DeviceSpec, SimulatedDevice
from launcher.broker import MosquittoBroker
from protocols.contract import Channel, Event
from tests.integration.edge_support import (
    AgentProcess,
    StoredRecord,
    Timing,
    UplinkCollector,
    agent_document,
    fetch_retained_status,
    first_delivery_order,
    read_outbox,
    running_device,
    unique_device_id,
    wait_until,
    write_agent_config,
)

pytestmark = [pytest.mark.broker, pytest.mark.slow]

# telemetry waits up to two seconds in the outbox: a kill always finds some there
TIMING = Timing(report_interval_s=0.3, upload_interval_s=2.0, status_interval_s=1.0)


class CrashRun:
    """A simulated device, the daemon reading it, and a collector at the broker."""

    def __init__(self, mqtt_url: str, work_dir: Path) -> None:
        self.device_id = unique_device_id()
        self.device = SimulatedDevice(
            DeviceSpec(self.device_id, seed=3, can=False, gnss_rate_hz=TIMING.gnss_rate_hz),
            work_dir / "wires",
        )
        self.outbox_path = work_dir / "outbox.db"
        config_path = work_dir / "edge.toml"
        write_agent_config(
            config_path,
            agent_document(
                self.device_id,
                mqtt_url,
                self.outbox_path,
                bms_port=self.device.bms_port_path,
                gnss_port=self.device.gnss_port_path,
                timing=TIMING,
            ),
        )
        self.agent = AgentProcess(config_path, work_dir / "agent.log")
        self.collector = UplinkCollector(mqtt_url, self.device_id)

    def boots(self) -> list[Event]:
        """Distinct boot events delivered, in seq order."""
        return sorted({e.seq: e for e in self.collector.events("boot")}.values(), key=seq_of)

    async def wait_for_telemetry(self, messages: int) -> None:
        await wait_until(
            lambda: len(self.collector.messages(Channel.TELEMETRY)) >= messages,
            f"{messages} telemetry messages\n{self.agent.log_tail()}",
        )

    async def wait_for_outbox(self, condition, what: str) -> dict[int, StoredRecord]:
        return await wait_until(
            lambda: records if condition(records := read_outbox(self.outbox_path)) else None,
            what,
            every=0.2,
        )

    async def wait_until_all_delivered(self, pending: dict[int, StoredRecord]) -> Event:
        """Wait for the second boot, every record pending at the kill, later samples, and
        a moment with no gap in the delivered seqs; returns the second boot event."""
        boots = await wait_until(
            lambda: boots if len(boots := self.boots()) >= 2 else None,
            f"the boot event of the restarted agent\n{self.agent.log_tail()}",
        )
        await wait_until(
            lambda: pending.keys() <= self.collector.seqs(),
            f"the {len(pending)} records pending at the kill",
        )
        await wait_until(
            lambda: any(s.seq > boots[1].seq for s in self.collector.samples()),
            "samples of the restarted agent",
        )
        # events go out at once, telemetry every upload: a gap may be waiting for the next
        # upload, never for longer
        await wait_until(lambda: not self.collector.missing_seqs(), "no gap in the seqs")
        return boots[1]

    def assert_nothing_lost_or_reused(
        self, pending: dict[int, StoredRecord], killed_at: int, second_boot: Event
    ) -> None:
        collector = self.collector
        assert collector.undecodable == []
        assert collector.events("agent_fault") == []
        first_boot = self.boots()[0]
        assert min(collector.seqs()) == first_boot.seq  # the run from its very first record
        assert collector.missing_seqs() == []
        assert collector.conflicting_seqs() == {}
        assert second_boot.detail["boot_id"] != first_boot.detail["boot_id"]
        assert second_boot.detail["backlog"] == len(pending)
        # the new boot hands out seqs above everything the first one used
        assert second_boot.seq > max(pending)
        before_kill = [r.seq for index, r in collector.deliveries() if index < killed_at]
        assert max(before_kill) < second_boot.seq
        for kind, seqs in first_delivery_order(collector.deliveries()).items():
            assert seqs == sorted(seqs), f"{kind} seqs out of order"
        # what the first boot captured and the second one sent is history: resent
        late = [r for _, r in collector.deliveries(since=killed_at) if r.seq < second_boot.seq]
        assert {r.seq for r in late} >= pending.keys()
        assert [r.seq for r in late if not r.resent] == []
        assert any(r.seq in pending for r in collector.samples(since=killed_at))


def seq_of(record: Event) -> int:
    return record.seq


def telemetry_after(records: dict[int, StoredRecord], seq: int) -> int:
    """How many telemetry records newer than ``seq`` the outbox holds."""
    return sum(r.kind == "telemetry" and r.seq > seq for r in records.values())


def test_kill_9_mid_stream_loses_no_record_and_reuses_no_seq(broker, tmp_path: Path):
    run = CrashRun(broker.url, tmp_path)

    async def scenario() -> None:
        with run.collector:
            async with running_device(run.device):
                try:
                    run.agent.start()
                    await run.wait_for_telemetry(2)
                    # samples recorded since the last upload: they wait for the next one
                    # (those of the last upload may still be waiting for its ack)
                    uploaded = max(run.collector.seqs())
                    await run.wait_for_outbox(
                        lambda records: telemetry_after(records, uploaded) >= 4,
                        "telemetry waiting in the outbox",
                    )
                    run.agent.kill()
                    killed_at = run.collector.mark()
                    pending = read_outbox(run.outbox_path)
                    assert any(r.kind == "telemetry" for r in pending.values())

                    run.agent.start()
                    second_boot = await run.wait_until_all_delivered(pending)
                    assert run.agent.running, run.agent.log_tail()
                finally:
                    run.agent.stop()
        run.assert_nothing_lost_or_reused(pending, killed_at, second_boot)

    asyncio.run(scenario())


def test_kill_9_while_the_broker_is_down_then_both_come_back(
    own_broker: MosquittoBroker, tmp_path: Path
):
    broker = own_broker
    run = CrashRun(broker.url, tmp_path)

    async def scenario() -> None:
        with run.collector:
            async with running_device(run.device):
                try:
                    run.agent.start()
                    await run.wait_for_telemetry(2)
                    broker.stop()
                    # offline, the agent keeps recording into its outbox
                    await run.wait_for_outbox(
                        lambda records: len(records) >= 12, "records buffered while offline"
                    )
                    run.agent.kill()
                    killed_at = run.collector.mark()
                    pending = read_outbox(run.outbox_path)
                    first_boot_ids = {r.boot_id for r in pending.values()}

                    run.agent.start()  # the broker is still down
                    await run.wait_for_outbox(
                        lambda records: (
                            sum(r.boot_id not in first_boot_ids for r in records.values()) >= 4
                        ),
                        "the restarted agent buffering while offline",
                    )
                    # a restarted broker has forgotten the collector's subscription: hold
                    # the agent until the collector is back, or its backlog goes to nobody
                    run.agent.pause()
                    subscriptions = run.collector.subscriptions
                    broker.start()
                    await wait_until(
                        lambda: run.collector.subscriptions > subscriptions,
                        "the collector subscribed again",
                    )
                    run.agent.resume()
                    second_boot = await run.wait_until_all_delivered(pending)
                    assert run.agent.running, run.agent.log_tail()
                finally:
                    run.agent.stop()
        run.assert_nothing_lost_or_reused(pending, killed_at, second_boot)

    asyncio.run(scenario())


def test_the_will_says_offline_when_the_daemon_dies(broker, tmp_path: Path):
    """No goodbye after kill -9: the broker publishes the will (keepalive 5 s here) and the
    retained status turns to online: false."""
    run = CrashRun(broker.url, tmp_path)

    async def scenario() -> None:
        async with running_device(run.device):
            with run.collector:
                run.agent.start()
                try:
                    await wait_until(
                        lambda: (s := run.collector.latest_status()) is not None and s.online,
                        f"an online status\n{run.agent.log_tail()}",
                    )
                    run.agent.kill()
                    await wait_until(
                        lambda: not run.collector.latest_status().online, "the will", timeout=20.0
                    )
                finally:
                    run.agent.kill()
        retained = await fetch_retained_status(broker.url, run.device_id)
        assert retained.online is False

    asyncio.run(scenario())
