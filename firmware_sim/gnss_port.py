"""A GNSS receiver module, simulated: NMEA sentences on a virtual serial port.

Once per epoch it asks ``fix()`` where it is (the route model, written elsewhere) and
writes RMC + GGA, plus a GSA and a GSV the decoder ignores, as a u-blox module does at
9600 baud. ``fix()`` returning None means no fix: RMC status V with empty fields. Faults
(garbage, truncated sentences, wrong checksums, silence) are injected by probability or
one shot at a time, repeatably with a seed, and counted in ``injected``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from firmware_sim.faults import FaultDice
from firmware_sim.serial_pty import PortUnplugged, VirtualSerialPort
from firmware_sim.waiting import wait_for_event
from protocols.nmea import PositionFix, encode_fix, encode_no_fix, encode_sentence

log = logging.getLogger(__name__)

FAULT_KINDS = ("garbage", "truncated", "bad_checksum", "silence")


@dataclass(frozen=True, slots=True)
class GnssFaults:
    """How often each fault happens: per sentence, except silence (per epoch)."""

    garbage_probability: float = 0.0  # random bytes, any value, before a sentence
    truncated_probability: float = 0.0  # a sentence cut short, its line end lost
    bad_checksum_probability: float = 0.0  # a sentence whose checksum does not match
    silence_probability: float = 0.0  # a whole epoch not sent (antenna or power glitch)


class SimulatedGnss:
    """A GNSS module writing NMEA on ``port`` at ``rate_hz`` epochs per second."""

    def __init__(
        self,
        port: VirtualSerialPort,
        fix: Callable[[], PositionFix | None],
        *,
        rate_hz: float = 1.0,
        talker: str = "GN",
        satellite_sentences: bool = True,
        faults: GnssFaults | None = None,
        seed: int | None = None,
    ) -> None:
        if rate_hz <= 0:
            raise ValueError(f"GNSS rate {rate_hz} Hz: must be positive")
        self.port = port
        self.rate_hz = rate_hz
        self.talker = talker
        self.satellite_sentences = satellite_sentences
        self.faults = faults or GnssFaults()
        self.epochs = 0  # epochs written (silent ones not counted)
        self.sentences = 0  # sentences written, faulty ones included
        self.unplugged_epochs = 0  # epochs lost because the port was unplugged
        self._fix = fix
        self._random = random.Random(seed)
        self._dice = FaultDice(FAULT_KINDS, self._random)
        self.injected = self._dice.injected  # faults applied, by kind
        self._stopping: asyncio.Event | None = None

    def inject(self, kind: str, count: int = 1) -> None:
        """Force the next ``count`` sentences (epochs, for silence) to carry ``kind``."""
        self._dice.inject(kind, count)

    def stop(self) -> None:
        """Ask ``run()`` to return."""
        if self._stopping is not None:
            self._stopping.set()

    async def run(self) -> None:
        """Write one epoch per period until ``stop()`` or cancellation."""
        loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        period = 1 / self.rate_hz
        next_epoch = loop.time()
        while not self._stopping.is_set():
            self.write_epoch()
            # a slow epoch shifts the schedule instead of bunching up the next ones
            next_epoch = max(next_epoch + period, loop.time())
            await wait_for_event(self._stopping, next_epoch - loop.time())

    def write_epoch(self) -> bytes:
        """Write the sentences of one epoch now; returns the bytes put on the line."""
        if self._fault("silence", self.faults.silence_probability):
            return b""
        fix = self._fix()
        sentences = (encode_fix(fix, self.talker) if fix else encode_no_fix(self.talker)).split(
            b"\r\n"
        )[:-1]
        if self.satellite_sentences:
            sentences += self._satellite_sentences(fix)
        out = bytearray()
        for sentence in sentences:
            out += self._with_faults(sentence + b"\r\n")
        try:
            self.port.write(bytes(out))
        except PortUnplugged:
            self.unplugged_epochs += 1
            return b""
        self.epochs += 1
        self.sentences += len(sentences)
        return bytes(out)

    def _fault(self, kind: str, probability: float) -> bool:
        return self._dice.roll(kind, probability)

    def _with_faults(self, sentence: bytes) -> bytes:
        faults = self.faults
        prefix = b""
        if self._fault("garbage", faults.garbage_probability):
            prefix = self._random.randbytes(self._random.randint(1, 16))
        if self._fault("bad_checksum", faults.bad_checksum_probability):
            star = sentence.rindex(b"*")
            wrong = (int(sentence[star + 1 : star + 3], 16) + 1 + self._random.randrange(254)) % 256
            sentence = sentence[: star + 1] + f"{wrong:02X}".encode() + b"\r\n"
        if self._fault("truncated", faults.truncated_probability):
            sentence = sentence[: self._random.randrange(1, len(sentence) - 2)]
        return prefix + sentence

    def _satellite_sentences(self, fix: PositionFix | None) -> list[bytes]:
        """A GSA and one GSV: what real modules send and the decoder must skip."""
        used = 0 if fix is None else fix.satellites or 0
        ids = [f"{prn:02d}" for prn in range(1, min(used, 12) + 1)]
        hdop = "" if fix is None or fix.hdop is None else f"{fix.hdop:.2f}"
        mode = "1" if fix is None else "3"
        gsa = f"{self.talker}GSA,A,{mode},{','.join(ids + [''] * (12 - len(ids)))},,{hdop},"
        views = ",".join(
            f"{prn:02d},{30 + prn * 5},{prn * 40 % 360:03d},{35 + prn}" for prn in (1, 2, 3, 4)
        )
        gsv = f"GPGSV,1,1,{max(used, 4):02d},{views}"
        return [encode_sentence(gsa).rstrip(b"\r\n"), encode_sentence(gsv).rstrip(b"\r\n")]
