"""The simulated CAN nodes, heard by a python-can Bus: virtual bus and slcan on a pty."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections import Counter

import can
import pytest

from firmware_sim.can_port import CanFaults, SimulatedCanDevices
from firmware_sim.serial_pty import VirtualSerialPort
from firmware_sim.slcan import SlcanAdapter, format_frame
from protocols.canbus import CanCodec, CanFrameError, UnknownCanIdError

CODEC = CanCodec()
NAMES = {info.name for info in CODEC.messages}
VALUES = {
    "MotorStatus": {"motor_rpm": 2450, "vehicle_speed": 21.7, "phase_current": 38.2},
    "ControllerStatus": {"controller_temperature": 48, "bus_voltage": 51.2, "drive_mode": 3},
    "MotorFaults": {"brake_active": 1},
    "BmsStatus": {
        "pack_voltage": 51.23,
        "pack_current": -35.4,
        "soc": 104,
        "discharge_mosfet_on": 1,
    },
    "BmsCellStatus": {"max_cell_voltage": 3.712, "min_cell_voltage": 3.655},
}
EXPECTED = {  # what the agent must decode: missing signals 0, soc clamped to the DBC's 100
    "MotorStatus": {"motor_rpm": 2450, "vehicle_speed": 21.7, "phase_current": 38.2, "throttle": 0},
    "ControllerStatus": {"controller_temperature": 48, "bus_voltage": 51.2, "drive_mode": 3},
    "MotorFaults": {"brake_active": 1, "over_current": 0, "hall_sensor_fault": 0},
    "BmsStatus": {"pack_voltage": 51.23, "pack_current": -35.4, "soc": 100, "charge_mosfet_on": 0},
    "BmsCellStatus": {"max_cell_voltage": 3.712, "min_cell_voltage": 3.655, "max_temperature": 0},
    "BmsProtection": {"short_circuit": 0},
}


def channel_name() -> str:
    return f"voltrent-test-{uuid.uuid4().hex}"


class Heard:
    """What an agent decoded from the bus, and how decoding failed."""

    def __init__(self) -> None:
        self.latest: dict[str, dict] = {}
        self.counters: list[int] = []  # MotorStatus message_counter, in order
        self.counts: Counter[str] = Counter()
        self.frames: list[can.Message] = []

    def hear(self, message: can.Message) -> None:
        self.frames.append(message)
        try:
            decoded = CODEC.decode(message.arbitration_id, bytes(message.data))
        except (CanFrameError, UnknownCanIdError) as err:
            self.counts[type(err).__name__] += 1
            return
        self.counts[decoded.name] += 1
        self.latest[decoded.name] = decoded.signals
        if decoded.name == "MotorStatus":
            self.counters.append(decoded.signals["message_counter"])


async def listen(bus: can.BusABC, heard: Heard, until, max_frames: int = 3000) -> None:
    """Receive until ``until(heard)``; a bound on frames, not on time."""
    for _ in range(max_frames):
        message = await asyncio.to_thread(bus.recv, 0.5)
        if message is not None:
            heard.hear(message)
        if until(heard):
            return
    pytest.fail(f"condition not met; heard {dict(heard.counts)}")


def assert_heard_values(heard: Heard) -> None:
    for name, signals in EXPECTED.items():
        for signal, value in signals.items():
            assert math.isclose(heard.latest[name][signal], value, abs_tol=1e-9), (name, signal)


def heard_everything(heard: Heard) -> bool:
    return heard.latest.keys() >= NAMES and heard.counts["MotorStatus"] >= 20


def test_virtual_bus_carries_every_message_with_the_given_values() -> None:
    channel = channel_name()

    async def scenario() -> Heard:
        agent = can.Bus(interface="virtual", channel=channel)
        devices = SimulatedCanDevices(lambda: VALUES, channel=channel)
        task = asyncio.create_task(devices.run())
        heard = Heard()
        await listen(agent, heard, heard_everything)
        devices.stop()
        await task
        while agent.recv(0) is not None:  # what was in flight before the stop
            pass
        assert agent.recv(0.2) is None  # stopped means silent
        agent.shutdown()
        return heard

    heard = asyncio.run(scenario())
    assert_heard_values(heard)
    assert heard.counts["MotorStatus"] >= max(heard.counts[name] for name in NAMES)
    steps = {(b - a) % 16 for a, b in zip(heard.counters, heard.counters[1:], strict=False)}
    assert steps == {1}  # the rolling counter counts by itself


def test_cancelling_run_shuts_the_bus_down() -> None:
    channel = channel_name()

    async def scenario() -> int:
        agent = can.Bus(interface="virtual", channel=channel)
        devices = SimulatedCanDevices(dict, channel=channel)
        task = asyncio.create_task(devices.run())
        await listen(agent, Heard(), lambda heard: len(heard.frames) >= 6)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        while agent.recv(0) is not None:
            pass
        silent = agent.recv(0.2) is None
        agent.shutdown()
        return silent

    assert asyncio.run(scenario())


def test_one_shot_faults_reach_the_decoder_and_decoding_carries_on() -> None:
    channel = channel_name()

    async def scenario() -> tuple[Heard, SimulatedCanDevices]:
        agent = can.Bus(interface="virtual", channel=channel)
        devices = SimulatedCanDevices(lambda: VALUES, channel=channel)
        devices.inject("corrupt", 3)
        devices.inject("unknown_id", 2)
        task = asyncio.create_task(devices.run())
        heard = Heard()
        await listen(agent, heard, heard_everything)
        devices.stop()
        await task
        agent.shutdown()
        return heard, devices

    heard, devices = asyncio.run(scenario())
    assert devices.injected == {"corrupt": 3, "unknown_id": 2}
    assert heard.counts["CanFrameError"] == 3 and heard.counts["UnknownCanIdError"] == 2
    assert_heard_values(heard)


def test_burst_repeats_a_frame_back_to_back() -> None:
    channel = channel_name()

    async def scenario() -> list[can.Message]:
        agent = can.Bus(interface="virtual", channel=channel)
        devices = SimulatedCanDevices(
            lambda: VALUES, channel=channel, faults=CanFaults(burst_size=5)
        )
        devices.inject("burst")
        task = asyncio.create_task(devices.run())
        heard = Heard()
        await listen(agent, heard, lambda heard: len(heard.frames) >= 6)
        devices.stop()
        await task
        agent.shutdown()
        return heard.frames

    frames = asyncio.run(scenario())
    assert len({(frame.arbitration_id, bytes(frame.data)) for frame in frames[:5]}) == 1
    assert frames[5].arbitration_id != frames[0].arbitration_id


def test_faults_repeat_with_the_same_seed() -> None:
    faults = CanFaults(corrupt_probability=0.4, unknown_id_probability=0.4, burst_size=2)

    async def first_frames(seed: int) -> list[tuple[int, bytes]]:
        channel = channel_name()
        agent = can.Bus(interface="virtual", channel=channel)
        devices = SimulatedCanDevices(lambda: VALUES, channel=channel, faults=faults, seed=seed)
        task = asyncio.create_task(devices.run())
        heard = Heard()
        # the first 6 frames all leave in the first round, before any timing plays a part
        await listen(agent, heard, lambda heard: len(heard.frames) >= 6)
        devices.stop()
        await task
        agent.shutdown()
        return [(frame.arbitration_id, bytes(frame.data)) for frame in heard.frames[:6]]

    assert asyncio.run(first_frames(11)) == asyncio.run(first_frames(11))
    assert asyncio.run(first_frames(11)) != asyncio.run(first_frames(12))


def open_slcan(port: VirtualSerialPort) -> can.BusABC:
    return can.Bus(interface="slcan", channel=port.path, bitrate=500_000, sleep_after_open=0)


def test_slcan_adapter_on_a_pty_carries_every_message() -> None:
    async def scenario() -> tuple[Heard, SimulatedCanDevices]:
        with VirtualSerialPort() as port:
            devices = SimulatedCanDevices(lambda: VALUES, serial_port=port)
            task = asyncio.create_task(devices.run())
            await asyncio.sleep(0.05)  # frames before the host opens the channel are dropped
            agent = await asyncio.to_thread(open_slcan, port)
            heard = Heard()
            await listen(agent, heard, heard_everything)
            assert devices.adapter is not None and devices.adapter.bitrate == 500_000
            await asyncio.to_thread(agent.send, can.Message(arbitration_id=0x301, data=b"\x01"))
            await asyncio.to_thread(agent.shutdown)
            for _ in range(100):  # the adapter answers the host's C (close)
                if not devices.adapter.is_open:
                    break
                await asyncio.sleep(0.01)
            devices.stop()
            await task
        return heard, devices

    heard, devices = asyncio.run(scenario())
    assert_heard_values(heard)
    assert devices.adapter is not None and not devices.adapter.is_open
    assert devices.adapter.frames_received == 1
    assert devices.frames_dropped > 0


def test_slcan_garbage_is_survived() -> None:
    faults = CanFaults(garbage_probability=0.3, corrupt_probability=0.05)

    async def scenario() -> tuple[Heard, SimulatedCanDevices]:
        with VirtualSerialPort() as port:
            devices = SimulatedCanDevices(lambda: VALUES, serial_port=port, faults=faults, seed=5)
            task = asyncio.create_task(devices.run())
            agent = await asyncio.to_thread(open_slcan, port)
            heard = Heard()
            await listen(agent, heard, heard_everything)
            await asyncio.to_thread(agent.shutdown)
            devices.stop()
            await task
        return heard, devices

    heard, devices = asyncio.run(scenario())
    assert devices.injected["garbage"] > 0
    assert_heard_values(heard)


@pytest.mark.parametrize(
    ("commands", "answers"),
    [
        (b"V\r", b"V1013\r"),
        (b"N\r", b"NVR01\r"),
        (b"C\rS6\r\rO\r", b"\r\r\r\r"),  # what python-can sends on open
        (b"O\rO\r", b"\r\a"),  # already open
        (b"O\rS4\r", b"\r\a"),  # no bitrate change while open
        (b"F\r", b"\a"),  # status flags only while open
        (b"O\rF\r", b"\rF00\r"),
        (b"t1232ABCD\r", b"\a"),  # closed: cannot transmit
        (b"O\rt1232ABCD\rT0CF11E05110\rr1230\r", b"\rz\rZ\rz\r"),
        (b"O\rt12XX\rt1232AB\r", b"\r\a\a"),  # malformed transmits
        (b"L\rt1230\r", b"\r\a"),  # listen only
        (b"Y5\r", b"\a"),  # no CAN FD here
        (b"?\r", b"\a"),
        (b"x" * 80, b"\a"),  # noise without a line end
    ],
)
def test_slcan_adapter_answers_like_lawicel(commands: bytes, answers: bytes) -> None:
    with VirtualSerialPort() as port:
        adapter = SlcanAdapter(port)
        assert adapter.receive(commands) == answers


def test_slcan_adapter_forwards_frames_only_while_open() -> None:
    received = []
    with VirtualSerialPort() as port:
        adapter = SlcanAdapter(port, on_frame=lambda *frame: received.append(frame))
        assert adapter.send_frame(0x101, b"\x01") is False
        adapter.receive(b"O\rZ1\rT0CF11E05110\r")
        assert adapter.send_frame(0x101, b"\x01") is True
    assert received == [(0x0CF11E05, b"\x10", True)]
    assert format_frame(0x101, bytes.fromhex("DEADBEEF")) == b"t1014DEADBEEF\r"
    assert format_frame(0x0CF11E05, b"", True, 61_234) == b"T0CF11E05004D2\r"


def test_exactly_one_transport() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        SimulatedCanDevices(dict)
