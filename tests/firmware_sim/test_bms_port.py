"""The simulated JBD BMS on a real pty, spoken to by pyserial as the edge agent would."""

import asyncio
import contextlib
import dataclasses
import datetime
import time

import pytest
import serial

from firmware_sim.bms_port import SimulatedBms
from firmware_sim.serial_pty import VirtualSerialPort
from protocols.jbd import (
    BasicInfo,
    CellVoltages,
    FrameDecoder,
    HardwareVersion,
    JbdChecksumError,
    JbdError,
    JbdStatusError,
    Response,
    basic_info_request,
    cell_voltages_request,
    check_answer,
    decode_parameter_response,
    exit_factory_mode_request,
    hardware_version_request,
    mosfet_control_request,
    parameter_write_request,
    read_parameters_requests,
    write_parameters_requests,
)

INFO = BasicInfo(
    pack_voltage_v=52.31,
    current_a=-12.5,
    remaining_ah=24.3,
    nominal_ah=30.0,
    cycles=17,
    production_date=datetime.date(2024, 5, 6),
    balancing=frozenset({2}),
    protection=frozenset(),
    software_version="1.0",
    rsoc_percent=81,
    charge_mos=True,
    discharge_mos=True,
    cell_count=4,
    temperatures_c=(25.1, 26.0),
)
CELLS = CellVoltages((3.271, 3.268, 3.275, 3.270))
PARAMETERS = {"cell_over_voltage_v": 3.65, "discharge_over_current_a": 100.0}
GIVE_UP_S = 5.0  # a failure guard, never an assertion


class Pack:
    """The collaborator the BMS reads state from and switches MOSFETs on."""

    def __init__(self):
        self.info = INFO
        self.switches = []

    def state(self):
        return self.info, CELLS

    def set_mosfets(self, charge_on, discharge_on):
        self.switches.append((charge_on, discharge_on))
        self.info = dataclasses.replace(self.info, charge_mos=charge_on, discharge_mos=discharge_on)


class Client:
    """The host side, blocking, over pyserial."""

    def __init__(self, link):
        self.link = link
        self.decoder = FrameDecoder(direction="response")
        self.errors = []

    def receive(self) -> Response:
        give_up = time.monotonic() + GIVE_UP_S
        while time.monotonic() < give_up:
            try:
                frame = self.decoder.next_frame()
            except JbdError as err:
                self.errors.append(err)
                continue
            if frame is not None:
                return frame
            self.decoder.feed(self.link.read(64))
        raise TimeoutError("no answer from the simulated BMS")

    def send(self, request: bytes) -> None:
        self.link.write(request)

    def exchange(self, request: bytes) -> Response:
        self.send(request)
        return self.receive()


def with_bms(script, parameters=None, **options):
    """Run the BMS on a pty and ``script(client, bms, pack)`` in a thread against it."""
    pack = Pack()
    parameters = dict(PARAMETERS) if parameters is None else parameters

    async def main():
        with VirtualSerialPort() as port:
            bms = SimulatedBms(
                port, pack.state, pack.set_mosfets, parameters, "VR-TEST-4S", **options
            )
            task = asyncio.create_task(bms.run())
            try:
                with serial.Serial(port.path, 9600, timeout=0.05) as link:
                    return await asyncio.to_thread(script, Client(link), bms, pack)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return asyncio.run(main())


def test_reads_basic_info_cells_and_version():
    def script(client, bms, pack):
        assert BasicInfo.from_response(client.exchange(basic_info_request())) == INFO
        assert CellVoltages.from_response(client.exchange(cell_voltages_request())) == CELLS
        version = HardwareVersion.from_response(client.exchange(hardware_version_request()))
        assert version.text == "VR-TEST-4S"
        assert bms.requests_served == 3
        assert client.errors == []

    with_bms(script)


def test_mosfet_write_switches_the_pack():
    def script(client, bms, pack):
        answer = client.exchange(mosfet_control_request(charge_on=True, discharge_on=False))
        assert answer == Response(0xE1)
        assert pack.switches == [(True, False)]
        info = BasicInfo.from_response(client.exchange(basic_info_request()))
        assert (info.charge_mos, info.discharge_mos) == (True, False)

    with_bms(script)


def test_factory_mode_write_and_save_changes_parameters():
    parameters = dict(PARAMETERS)
    new_values = {"cell_over_voltage_v": 3.6, "charge_over_temperature_c": 50.0}

    def script(client, bms, pack):
        sequence = write_parameters_requests(new_values)
        for request in sequence[:-1]:
            check_answer(request, client.exchange(request))
        assert parameters == PARAMETERS  # nothing stored before exit-with-save
        assert bms.factory_mode
        check_answer(sequence[-1], client.exchange(sequence[-1]))
        assert not bms.factory_mode

        values = {}
        for request in read_parameters_requests(new_values):
            answer = client.exchange(request)
            check_answer(request, answer)
            if answer.data:  # the factory-mode answers carry none
                name, value = decode_parameter_response(answer)
                values[name] = value
        assert values == new_values

    with_bms(script, parameters)
    assert parameters == {**PARAMETERS, **new_values}


def test_exit_without_saving_discards_edits():
    parameters = dict(PARAMETERS)

    def script(client, bms, pack):
        sequence = write_parameters_requests({"cell_over_voltage_v": 4.2})
        for request in sequence[:-1]:
            check_answer(request, client.exchange(request))
        check_answer(sequence[-1], client.exchange(exit_factory_mode_request(save=False)))

    with_bms(script, parameters)
    assert parameters == PARAMETERS


def test_parameter_write_outside_factory_mode_is_refused():
    parameters = dict(PARAMETERS)

    def script(client, bms, pack):
        request = parameter_write_request("cell_over_voltage_v", 4.25)
        answer = client.exchange(request)
        assert answer == Response(0x24, 0x80)
        with pytest.raises(JbdStatusError, match="error status 0x80"):
            check_answer(request, answer)

    with_bms(script, parameters)
    assert parameters == PARAMETERS


def until_version(client):
    """Frames received up to and including the hardware-version answer."""
    frames = [client.receive()]
    while frames[-1].register != 0x05:
        frames.append(client.receive())
    return frames


@pytest.mark.parametrize(
    ("fault", "error", "answer_survives"),
    [
        ("corrupt_checksum", JbdChecksumError, False),
        ("garbage_before", JbdError, True),
        ("garbage_inside", JbdError, False),
        ("truncate", JbdError, False),
    ],
)
def test_injected_faults_are_reported_and_survived(fault, error, answer_survives):
    def script(client, bms, pack):
        bms.inject(fault)
        client.send(basic_info_request())
        client.send(hardware_version_request())
        frames = until_version(client)
        recovered = [BasicInfo.from_response(frame) for frame in frames[:-1]]
        assert recovered == ([INFO] if answer_survives else [])
        assert client.errors
        assert any(isinstance(err, error) for err in client.errors)
        assert bms.faults_applied == {fault: 1}
        assert BasicInfo.from_response(client.exchange(basic_info_request())) == INFO

    with_bms(script, seed=7)


def test_no_answer_drops_the_request():
    def script(client, bms, pack):
        bms.inject("no_answer")
        client.send(mosfet_control_request(charge_on=False, discharge_on=False))
        assert client.exchange(hardware_version_request()).register == 0x05
        assert client.exchange(cell_voltages_request()).register == 0x04  # nothing stale
        assert pack.switches == []  # an asleep BMS does not act either
        assert bms.requests_dropped == 1
        assert client.errors == []

    with_bms(script)


def test_random_faults_are_deterministic_and_survivable():
    rounds = 40

    def script(client, bms, pack):
        for kind in ("garbage_before", "garbage_inside", "truncate", "corrupt_checksum"):
            bms.set_fault_probability(kind, 0.1)
        for _ in range(rounds):
            client.send(basic_info_request())
        give_up = time.monotonic() + GIVE_UP_S
        while bms.requests_received < rounds and time.monotonic() < give_up:
            time.sleep(0.01)
        for kind in bms.fault_probability:
            bms.set_fault_probability(kind, 0.0)  # so the closing answer arrives intact
        client.send(hardware_version_request())
        frames = until_version(client)
        assert all(BasicInfo.from_response(frame) == INFO for frame in frames[:-1])
        assert bms.port.bytes_dropped == 0
        return len(frames) - 1, client.errors, dict(bms.faults_applied)

    good, errors, faults = with_bms(script, seed=3)
    lost = sum(faults.values()) - faults.get("garbage_before", 0)
    assert lost > 0
    assert good == rounds - lost
    assert len(errors) >= lost
    assert with_bms(script, seed=3)[2] == faults


def test_bad_request_bytes_are_counted_and_skipped():
    def script(client, bms, pack):
        client.link.write(b"\x00\xdd\x5a\x03" + bytes.fromhex("DD A5 03 00 FF FE 77"))
        assert client.exchange(basic_info_request()).register == 0x03
        assert bms.bad_frames >= 2
        assert bms.requests_received == 1

    with_bms(script)
