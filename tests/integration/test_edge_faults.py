"""The gateway against a bad line and a lost port, through real ptys and a real Mosquitto.

Each test runs a simulated device and an in-process EdgeAgent (``edge_support.running_rig``)
and judges only what reaches the broker: samples with their seqs, ``up/event`` messages,
and the status the broker retains, with its ``sources.<name>.errors`` counters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware_sim.can_port import CanFaults
from firmware_sim.gnss_port import GnssFaults
from tests.integration.edge_support import (
    EdgeRig,
    Timing,
    UplinkCollector,
    fetch_retained_status,
    first_delivery_order,
    running_rig,
    unique_device_id,
    wait_until,
)

pytestmark = [pytest.mark.broker, pytest.mark.slow]

SAMPLE_TYPE = {"bms": "bms", "gnss": "position", "vehicle": "vehicle"}


async def samples_after(
    collector: UplinkCollector, sample_type: str, seq: int, count: int, timeout: float = 30.0
):
    """Wait for ``count`` samples of ``sample_type`` newer than ``seq``; returns them."""
    return await wait_until(
        lambda: (
            found
            if len(found := [s for s in collector.samples(sample_type) if s.seq > seq]) >= count
            else None
        ),
        f"{count} {sample_type} samples after seq {seq}",
        timeout=timeout,
    )


def last_seq(collector: UplinkCollector) -> int:
    return max(collector.seqs(), default=0)


def assert_clean_run(rig: EdgeRig, collector: UplinkCollector) -> None:
    """Alive, no part of the agent crashed and restarted, every payload valid, seqs in
    order per kind, nothing leaked to the event loop."""
    rig.assert_running()
    assert collector.events("agent_fault") == []
    assert collector.undecodable == []
    for kind, seqs in first_delivery_order(collector.deliveries()).items():
        assert seqs == sorted(seqs), f"{kind} seqs out of order"
    assert rig.loop_errors == []


# -- bad input -------------------------------------------------------------------------
def inject_bms_faults(rig: EdgeRig) -> None:
    bms = rig.device.bms
    for kind in ("garbage_before", "garbage_inside", "corrupt_checksum"):
        bms.set_fault_probability(kind, 0.1)
        bms.inject(kind, 2)
    bms.set_fault_probability("truncate", 0.05)
    bms.inject("truncate", 1)
    bms.inject("no_answer", 1)


def inject_gnss_faults(rig: EdgeRig) -> None:
    gnss = rig.device.gnss
    gnss.faults = GnssFaults(
        garbage_probability=0.1, truncated_probability=0.05, bad_checksum_probability=0.1
    )
    for kind in ("garbage", "truncated", "bad_checksum"):
        gnss.inject(kind, 2)
    # longer than stale_after_s (1 s in this test, 5 epochs a second): one timeout
    gnss.inject("silence", 10)


def inject_can_faults(rig: EdgeRig) -> None:
    assert rig.can_devices is not None
    rig.can_devices.faults = CanFaults(corrupt_probability=0.05, unknown_id_probability=0.05)
    rig.can_devices.inject("corrupt", 3)
    rig.can_devices.inject("unknown_id", 3)


# Faults the simulator applied that must each show in a counter (or in one of several),
# as {counter names: applied}; one fault per answer or frame makes these exact lower bounds.
Tally = dict[tuple[str, ...], int]


def bms_tally(rig: EdgeRig) -> Tally:
    applied = rig.device.bms.faults_applied
    return {
        ("checksum",): applied["corrupt_checksum"],
        ("timeout",): applied["truncate"] + applied["no_answer"],
        # noise inserted into a frame is a frame error, or a checksum error if it happens
        # to leave an end byte where the length says
        ("frame", "checksum"): applied["garbage_before"]
        + applied["garbage_inside"]
        + applied["corrupt_checksum"],
    }


def gnss_tally(rig: EdgeRig) -> Tally:
    # several faults can hit one sentence and make one error: only the sure minimum
    return {("checksum",): 1, ("frame",): 1, ("timeout",): 1}


def can_tally(rig: EdgeRig) -> Tally:
    assert rig.can_devices is not None
    injected = rig.can_devices.injected
    return {("frame",): injected["corrupt"], ("unknown_id",): injected["unknown_id"]}


FAULT_CASES = [
    # source, fault injection, what the simulator applied that must have been counted
    pytest.param("bms", inject_bms_faults, bms_tally, id="jbd"),
    pytest.param("gnss", inject_gnss_faults, gnss_tally, id="nmea"),
    pytest.param("vehicle", inject_can_faults, can_tally, id="can"),
]


def short_of(errors: dict[str, int], tally: Tally) -> Tally:
    """The part of ``tally`` the counters do not cover yet."""
    return {
        names: applied
        for names, applied in tally.items()
        if sum(errors.get(name, 0) for name in names) < applied
    }


@pytest.mark.parametrize(("source", "inject", "tally"), FAULT_CASES)
def test_bad_input_is_counted_and_good_data_keeps_flowing(
    broker,
    tmp_path: Path,
    source: str,
    inject: Callable[[EdgeRig], None],
    tally: Callable[[EdgeRig], Tally],
):
    sample_type = SAMPLE_TYPE[source]

    async def scenario() -> None:
        device_id = unique_device_id()
        with UplinkCollector(broker.url, device_id) as collector:
            timing = Timing(gnss_stale_after_s=1.0)
            async with running_rig(broker.url, tmp_path, device_id=device_id, timing=timing) as rig:
                await samples_after(collector, sample_type, 0, 2)
                inject(rig)
                # wait for every one-shot fault to have happened on the line
                await wait_until(lambda: all(tally(rig).values()), f"faults on the {source} line")
                applied = tally(rig)
                await wait_until(
                    lambda: not short_of(collector.source_state(source).get("errors", {}), applied),
                    f"status: {source} errors counting at least {applied}",
                )
                # good data still flows while the faults go on
                await samples_after(collector, sample_type, last_seq(collector), 3)

                retained = await fetch_retained_status(broker.url, device_id)
                assert retained.online
                health = retained.sources[source]
                assert short_of(health.get("errors", {}), applied) == {}, health
                if source == "bms":
                    assert health["errors"]["garbage_bytes"] >= applied[("frame", "checksum")]
                assert health["readings"] > 0
                assert retained.counters.get("task_crashes", 0) == 0
                assert_clean_run(rig, collector)

    asyncio.run(scenario())


def noise_before_every_bms_answer(rig: EdgeRig) -> None:
    rig.device.bms.set_fault_probability("garbage_before", 1.0)


def noise_before_every_nmea_sentence(rig: EdgeRig) -> None:
    rig.device.gnss.faults = GnssFaults(garbage_probability=1.0)


@pytest.mark.parametrize(
    ("source", "add_noise"),
    [
        pytest.param(
            "bms",
            noise_before_every_bms_answer,
            id="jbd",
        ),
        pytest.param("gnss", noise_before_every_nmea_sentence, id="nmea"),
    ],
)
def test_answers_behind_line_noise_are_still_read(
    broker, tmp_path: Path, source: str, add_noise: Callable[[EdgeRig], None]
):
    """Noise on the line before every answer (an RS485 turnaround glitch, say) costs the
    noise, not the answer behind it."""
    sample_type = SAMPLE_TYPE[source]

    async def scenario() -> None:
        device_id = unique_device_id()
        with UplinkCollector(broker.url, device_id) as collector:
            async with running_rig(broker.url, tmp_path, device_id=device_id, can=None) as rig:
                await samples_after(collector, sample_type, 0, 1)
                add_noise(rig)
                noisy_from = collector.mark()
                await wait_until(
                    lambda: (
                        collector.source_state(source, since=noisy_from)
                        .get("errors", {})
                        .get("frame")
                    ),
                    f"{source}: the noise counted as frame errors",
                )
                # every reading from now on has come through the noise; a clean line gives
                # three samples in about two seconds
                await samples_after(collector, sample_type, last_seq(collector), 3, timeout=10.0)
                assert_clean_run(rig, collector)

    asyncio.run(scenario())


# -- lost ports ------------------------------------------------------------------------
def source_faults(collector: UplinkCollector, source: str, since: int):
    """The source_fault events about ``source`` delivered since the mark ``since``."""
    events = collector.events("source_fault", since=since)
    return [e for e in events if e.detail.get("source") == source]


@pytest.mark.parametrize(("source", "other"), [("bms", "gnss"), ("gnss", "bms")])
def test_serial_source_reconnects_when_its_port_comes_back(
    broker, tmp_path: Path, source: str, other: str
):
    async def scenario() -> None:
        device_id = unique_device_id()
        with UplinkCollector(broker.url, device_id) as collector:
            async with running_rig(broker.url, tmp_path, device_id=device_id, can=None) as rig:
                port = rig.device.bms_port if source == "bms" else rig.device.gnss_port
                await samples_after(collector, SAMPLE_TYPE[source], 0, 2)

                unplugged_at = collector.mark()
                port.unplug()
                fault = (
                    await wait_until(
                        lambda: source_faults(collector, source, unplugged_at),
                        f"a source_fault event for {source}",
                    )
                )[0]
                assert fault.severity == "warning" and fault.detail["error"]
                await wait_until(
                    lambda: (
                        collector.source_state(source, since=unplugged_at).get("state")
                        == "reconnecting"
                    ),
                    f"status: {source} reconnecting",
                )
                # one lost port does not hold up the other sources
                await samples_after(collector, SAMPLE_TYPE[other], fault.seq, 2)

                plugged_at = collector.mark()
                port.plug()
                back = await samples_after(collector, SAMPLE_TYPE[source], fault.seq, 3)
                assert [s.seq for s in back] == sorted(s.seq for s in back)
                await wait_until(
                    lambda: collector.source_state(source, since=plugged_at).get("state") == "ok",
                    f"status: {source} ok again",
                )
                retained = await fetch_retained_status(broker.url, device_id)
                assert retained.sources[source]["state"] == "ok"
                assert retained.sources[source]["errors"]["disconnect"] >= 1
                assert_clean_run(rig, collector)

    asyncio.run(scenario())


def test_source_restored_event_after_the_port_comes_back(broker, tmp_path: Path):
    async def scenario() -> None:
        device_id = unique_device_id()
        with UplinkCollector(broker.url, device_id) as collector:
            async with running_rig(broker.url, tmp_path, device_id=device_id, can=None) as rig:
                await samples_after(collector, "bms", 0, 1)
                unplugged_at = collector.mark()
                rig.device.bms_port.unplug()
                fault = (
                    await wait_until(
                        lambda: source_faults(collector, "bms", unplugged_at), "bms source_fault"
                    )
                )[0]
                rig.device.bms_port.plug()
                # the event is put before the reading that proves the port is back, and
                # events go out first: once samples arrive, the event is there too
                await samples_after(collector, "bms", fault.seq, 2)
                await wait_until(
                    lambda: [
                        e
                        for e in collector.events("source_restored")
                        if e.detail.get("source") == "bms" and e.seq > fault.seq
                    ],
                    "a source_restored event for bms",
                    timeout=5.0,
                )

    asyncio.run(scenario())


def test_can_source_rides_out_a_silent_bus(broker, tmp_path: Path):
    """The virtual CAN bus cannot be unplugged; what it can do is fall silent (ignition
    off, the nodes powered down). That is no fault, and the nodes coming back are heard."""

    async def scenario() -> None:
        device_id = unique_device_id()
        with UplinkCollector(broker.url, device_id) as collector:
            async with running_rig(broker.url, tmp_path, device_id=device_id) as rig:
                nodes = rig.can_devices
                assert nodes is not None
                await samples_after(collector, "vehicle", 0, 2)
                silent_from = collector.mark()
                nodes.stop()

                def bms_after_last_vehicle_sample():
                    last = max(s.seq for s in collector.samples("vehicle"))
                    return len([s for s in collector.samples("bms") if s.seq > last]) >= 4

                await wait_until(bms_after_last_vehicle_sample, "the vehicle samples to stop")
                assert source_faults(collector, "vehicle", silent_from) == []
                assert collector.source_state("vehicle", since=silent_from).get("state") == "ok"

                last_vehicle = max(s.seq for s in collector.samples("vehicle"))
                powered_again = asyncio.create_task(nodes.run())
                try:
                    await samples_after(collector, "vehicle", last_vehicle, 3)
                finally:
                    nodes.stop()
                    await powered_again
                assert_clean_run(rig, collector)

    asyncio.run(scenario())


def test_can_source_reconnects_when_the_slcan_adapter_comes_back(broker, tmp_path: Path):
    async def scenario() -> None:
        device_id = unique_device_id()
        with UplinkCollector(broker.url, device_id) as collector:
            async with running_rig(broker.url, tmp_path, device_id=device_id, can="slcan") as rig:
                assert rig.can_port is not None
                await samples_after(collector, "vehicle", 0, 2)
                unplugged_at = collector.mark()
                rig.can_port.unplug()
                fault = (
                    await wait_until(
                        lambda: source_faults(collector, "vehicle", unplugged_at),
                        "a source_fault event for vehicle (CAN)",
                        timeout=8.0,  # a read on a closed pty fails at once
                    )
                )[0]
                rig.can_port.plug()
                await samples_after(collector, "vehicle", fault.seq, 3)
                assert_clean_run(rig, collector)

    asyncio.run(scenario())
