"""What arrives on a gateway's downlink topics cannot stop it, and a config takes effect at
once: the real agent behind a real Mosquitto, the simulated pack on ptys.

A retained message comes back with every subscription, so a payload that ended the uplink
would end it again after each reconnect while the outbox grows: the agent must refuse it
(counted, logged, reported as a ``downlink_rejected`` event) and keep publishing.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from protocols.contract import Channel, DeviceConfig, encode, signing
from tests.integration.control_support import PARKED, Rig, acks, control_rig, device_key
from tests.integration.edge_support import Timing, UplinkCollector, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.slow]

# each within the 256 kB limit, so it gets past the size check to the parser
POISON = {
    "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "objects nested 40,000 deep": b'{"version":1,"thresholds":'
    + b'{"a":' * 40_000
    + b"1"
    + b"}" * 40_001,
    "not UTF-8": b"\xff\xfe\x00{",
    "not JSON": b"{" * 1000,
    "empty": b"",
}
DOWNLINK = (Channel.CONFIG, Channel.LEASE, Channel.CMD)


def assert_alive(rig: Rig) -> None:
    """No part of the agent crashed, and the uplink never had to connect again."""
    assert rig.agent.counters["task_crashes"] == 0
    assert rig.agent.uplink.counters["connects"] == 1
    assert rig.agent.uplink.connected.is_set()


async def _samples_flow(rig: Rig, collector: UplinkCollector, what: str) -> None:
    """New telemetry arrives from the agent after this point."""
    since = collector.mark()
    await wait_until(lambda: collector.samples("bms", since=since), f"telemetry {what}")
    assert_alive(rig)


def test_poison_and_forged_configs_are_refused_and_a_signed_one_applied(broker, tmp_path):
    asyncio.run(_poison_and_forged_configs(broker, tmp_path))


async def _poison_and_forged_configs(broker, tmp_path):
    async with control_rig(broker.url, tmp_path, PARKED) as rig:
        with UplinkCollector(broker.url, rig.device_id) as collector:
            await rig.subscribed()
            await _samples_flow(rig, collector, "before any poison")
            for channel in DOWNLINK:
                for payload in POISON.values():
                    # retained where the cloud retains: redelivered on every subscription
                    await rig.publish(channel, payload, retain=channel.retained)
            refused = len(DOWNLINK) * len(POISON)
            counters = rig.agent.counters
            await wait_until(lambda: counters["downlink_rejected"] == refused, "all refused")
            await _samples_flow(rig, collector, "after the poison")
            # the retained poison again, as after a reconnect: still only refused
            await rig.publish(Channel.CONFIG, POISON["nested 100,000 deep"], retain=True)
            await wait_until(lambda: counters["downlink_rejected"] == refused + 1, "refused")
            await wait_until(
                lambda: (
                    {e.detail["channel"] for e in collector.events("downlink_rejected")}
                    >= {"down/config", "down/lease", "down/cmd"}
                ),
                "a downlink_rejected event per channel",
            )
            assert_alive(rig)

            # forged: no signature, or one not made with this device's key; a huge version
            # taken from either would pin the config for good
            kid, _ = device_key(rig.device_id)
            silence = DeviceConfig(
                version=2**53, report_interval_s=86_400, upload_interval_s=86_400
            )
            forged = [silence, signing.sign(silence, rig.device_id, bytes(32), kid)]
            for config in forged:
                await rig.publish(Channel.CONFIG, encode(config), retain=True)
            await wait_until(lambda: counters["configs_bad_signature"] == 2, "forged refused")
            assert rig.agent.config.reporting.report_interval_s == 0.5
            await wait_until(
                lambda: [
                    e
                    for e in collector.events("downlink_rejected")
                    if e.detail["channel"] == "down/config" and "not signed" in e.detail["reason"]
                ],
                "the forged config reported",
            )
            await _samples_flow(rig, collector, "after the forged configs")

            # the cloud's config, signed, version 1: below the forged one, still applied
            genuine = rig.sign(DeviceConfig(version=1, report_interval_s=2, upload_interval_s=1))
            await rig.publish(Channel.CONFIG, encode(genuine), retain=True)
            await wait_until(
                lambda: rig.agent.config.reporting.report_interval_s == 2.0, "config applied"
            )
            assert rig.agent.config.reporting.upload_interval_s == 1.0
            # a tampered copy of it (a real signature, a bigger version) is refused too
            tampered = dataclasses.replace(genuine, version=2, report_interval_s=3600)
            await rig.publish(Channel.CONFIG, encode(tampered), retain=True)
            await wait_until(lambda: counters["configs_bad_signature"] == 3, "tampered refused")
            assert rig.agent.config.reporting.report_interval_s == 2.0
            await _samples_flow(rig, collector, "after the signed config")


SLOW = Timing(report_interval_s=86_400, upload_interval_s=86_400, status_interval_s=86_400)


@pytest.mark.parametrize("how", ["config", "set_reporting"])
def test_a_lowered_interval_takes_effect_at_once(broker, tmp_path, how):
    asyncio.run(_a_lowered_interval_takes_effect_at_once(broker, tmp_path, how))


async def _a_lowered_interval_takes_effect_at_once(broker, tmp_path, how):
    # the agent starts with a day between samples, uploads and statuses: a mistake that
    # must be undone remotely now, not after the day
    async with control_rig(broker.url, tmp_path, PARKED, timing=SLOW) as rig:
        with UplinkCollector(broker.url, rig.device_id) as collector:
            await rig.subscribed()
            await wait_until(lambda: collector.statuses(), "the status at connect")
            since = collector.mark()
            faster = {"report_interval_s": 1, "upload_interval_s": 1, "status_interval_s": 10}
            if how == "config":
                config = rig.sign(DeviceConfig(version=1, **faster))
                await rig.publish(Channel.CONFIG, encode(config), retain=True)
            else:
                command = await rig.command("set_reporting", faster)
                (ack,) = await wait_until(lambda: acks(collector, command.cmd_id), "ack")
                assert ack.result == "done", ack
            await wait_until(lambda: len(collector.samples("bms", since=since)) >= 2, "samples")
            # the next status 10 s after the last one, not a day
            await wait_until(
                lambda: [r for r in collector.messages(Channel.STATUS, since=since)],
                "a status on the new interval",
            )
            assert_alive(rig)
