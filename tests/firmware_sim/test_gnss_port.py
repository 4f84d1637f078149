"""The simulated GNSS module on a real pty, read with pyserial and decoded."""

from __future__ import annotations

import asyncio
import math

import pytest
import serial

from firmware_sim.gnss_port import GnssFaults, SimulatedGnss
from firmware_sim.serial_pty import VirtualSerialPort
from protocols.nmea import NmeaChecksumError, NmeaDecoder, NmeaError, PositionFix

START_MS = 1_713_851_950_000  # 2024-04-23 05:59:10 UTC


def ride(count: int) -> list[PositionFix]:
    """A short ride heading north-east through Shanghai, one fix per second."""
    return [
        PositionFix(
            timestamp_ms=START_MS + 1000 * second,
            lat=31.2243 + 0.00005 * second,
            lon=121.4786 + 0.00007 * second,
            speed_kmh=18.5 + second % 3,
            course_deg=47.5,
            altitude_m=12.5,
            hdop=0.9,
            satellites=9,
        )
        for second in range(count)
    ]


def drain(decoder: NmeaDecoder) -> tuple[list[PositionFix], int]:
    fixes, errors = [], 0
    while True:
        try:
            fix = decoder.next_fix()
        except NmeaError:
            errors += 1
            continue
        if fix is None:
            return fixes, errors
        fixes.append(fix)


def assert_close(got: PositionFix, want: PositionFix) -> None:
    assert got.timestamp_ms == want.timestamp_ms
    assert math.isclose(got.lat, want.lat, abs_tol=1e-6)
    assert math.isclose(got.lon, want.lon, abs_tol=1e-6)


def test_fixes_reach_a_pyserial_reader_on_the_pty() -> None:
    fixes = ride(5)
    remaining = iter(fixes)

    async def scenario() -> tuple[list[PositionFix], NmeaDecoder]:
        with VirtualSerialPort() as port:
            reader = serial.Serial(port.path, baudrate=9600, timeout=0.05)
            gnss = SimulatedGnss(port, lambda: next(remaining, None), rate_hz=50)
            task = asyncio.create_task(gnss.run())
            decoder, decoded = NmeaDecoder(), []
            for _ in range(400):  # a bound on reads, not a time limit
                decoder.feed(await asyncio.to_thread(reader.read, 4096))
                decoded += drain(decoder)[0]
                if len(decoded) == len(fixes) and decoder.no_fix:
                    break
            gnss.stop()
            await task
            reader.close()
        return decoded, decoder

    decoded, decoder = asyncio.run(scenario())
    assert len(decoded) == len(fixes)
    for got, want in zip(decoded, fixes, strict=True):
        assert_close(got, want)
        assert math.isclose(got.speed_kmh, want.speed_kmh, abs_tol=1e-3)
        assert (got.satellites, got.hdop, got.altitude_m) == (9, 0.9, 12.5)
    assert decoder.no_fix >= 1  # after the ride, fix() said None: RMC status V
    assert decoder.ignored >= 2 * len(fixes)  # the GSA and GSV of every epoch


def run_epochs(
    gnss: SimulatedGnss, reader: serial.Serial, epochs: int
) -> tuple[list[PositionFix], int]:
    """Write epochs one by one, read each back from the pty: (fixes, errors)."""
    decoder, fixes, errors = NmeaDecoder(), [], 0
    for _ in range(epochs):
        written = gnss.write_epoch()
        decoder.feed(reader.read(len(written)))
        new_fixes, new_errors = drain(decoder)
        fixes, errors = fixes + new_fixes, errors + new_errors
    return fixes, errors


def test_faults_are_survived_by_the_decoder() -> None:
    fixes = ride(60)
    by_time = {fix.timestamp_ms: fix for fix in fixes}
    remaining = iter(fixes)
    faults = GnssFaults(
        garbage_probability=0.05,
        truncated_probability=0.05,
        bad_checksum_probability=0.05,
        silence_probability=0.1,
    )
    with VirtualSerialPort() as port:
        reader = serial.Serial(port.path, timeout=1)
        gnss = SimulatedGnss(port, lambda: next(remaining), faults=faults, seed=7)
        decoded, errors = run_epochs(gnss, reader, 60)
        reader.close()
    assert set(gnss.injected) == {"garbage", "truncated", "bad_checksum", "silence"}
    assert errors >= gnss.injected["bad_checksum"]
    assert len(decoded) >= 40
    for fix in decoded:  # half epochs are fine, invented positions are not
        assert_close(fix, by_time[fix.timestamp_ms])


def test_faults_repeat_with_the_same_seed() -> None:
    faults = GnssFaults(0.2, 0.2, 0.2, 0.1)

    def wire(seed: int) -> bytes:
        with VirtualSerialPort() as port:
            gnss = SimulatedGnss(port, iter(ride(20)).__next__, faults=faults, seed=seed)
            return b"".join(gnss.write_epoch() for _ in range(20))

    assert wire(3) == wire(3)
    assert wire(3) != wire(4)


def test_one_shot_faults() -> None:
    remaining = iter(ride(4))
    with VirtualSerialPort() as port:
        reader = serial.Serial(port.path, timeout=1)
        gnss = SimulatedGnss(port, lambda: next(remaining), satellite_sentences=False)
        gnss.inject("bad_checksum", 2)  # both sentences of the next epoch
        assert run_epochs(gnss, reader, 1) == ([], 2)
        gnss.inject("silence")
        assert gnss.write_epoch() == b""
        reader.close()
    assert gnss.injected == {"bad_checksum": 2, "silence": 1}
    assert gnss.epochs == 1


def test_bad_checksum_is_reported_as_such() -> None:
    with VirtualSerialPort() as port:
        gnss = SimulatedGnss(port, iter(ride(1)).__next__, satellite_sentences=False)
        gnss.inject("bad_checksum")
        decoder = NmeaDecoder()
        decoder.feed(gnss.write_epoch())
    with pytest.raises(NmeaChecksumError, match="NMEA GNRMC: checksum 0x"):
        decoder.next_fix()


def test_no_fix_is_rmc_status_v() -> None:
    with VirtualSerialPort() as port:
        gnss = SimulatedGnss(port, lambda: None)
        wire = gnss.write_epoch()
    assert wire.startswith(b"$GNRMC,,V,")
    decoder = NmeaDecoder()
    decoder.feed(wire)
    assert drain(decoder) == ([], 0)
    assert (decoder.no_fix, decoder.ignored) == (1, 2)


def test_unplugged_port_loses_epochs_without_crashing() -> None:
    remaining = iter(ride(3))
    port = VirtualSerialPort()
    gnss = SimulatedGnss(port, lambda: next(remaining))
    port.unplug()
    assert gnss.write_epoch() == b""
    port.plug()
    reader = serial.Serial(port.path, timeout=1)
    decoded, _ = run_epochs(gnss, reader, 1)
    reader.close()
    port.close()
    assert gnss.unplugged_epochs == 1
    assert [fix.timestamp_ms for fix in decoded] == [START_MS + 1000]


def test_unknown_fault_kind() -> None:
    with VirtualSerialPort() as port, pytest.raises(ValueError, match="expected one of"):
        SimulatedGnss(port, lambda: None).inject("lightning")
