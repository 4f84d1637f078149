"""The streaming NMEA decoder: lines in, one fix per epoch (RMC + GGA) out."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from protocols.nmea.sentences import (
    _DAY_MS,
    _LINE_END,
    MAX_LINE_LENGTH,
    POSITION_TALKERS,
    NmeaFrameError,
    PositionFix,
    _gga_fields,
    _rmc_fields,
    _time_of_day_ms,
    check_frame,
    parse_sentence,
)


@dataclass(slots=True)
class _Epoch:
    """The sentences of one receiver epoch seen so far."""

    time_of_day_ms: int | None
    rmc: dict[str, Any] | None = None
    gga: dict[str, Any] | None = None


class NmeaDecoder:
    """Bytes from a GNSS receiver in, ``PositionFix`` out (sans-IO).

    ``feed()`` whatever arrived, then call ``next_fix()`` until it returns None (need
    more data). A broken line raises an ``NmeaError`` after it has been consumed: count
    it and call ``next_fix()`` again. A fix is given out when both the RMC and the GGA
    of one UTC time are in, or when a sentence of another time shows that the other one
    is not coming; ``flush()`` gives out a last half epoch at the end of a stream.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._fragments: deque[bytes] = deque()
        self._ready: deque[PositionFix] = deque()
        self._epoch: _Epoch | None = None
        self._discarding = False  # inside an over-long line, until its end
        self._last_day: int | None = None
        self._last_time_of_day_ms = 0
        self.ignored = 0  # well-formed sentences of other types or talkers
        self.no_fix = 0  # epochs without coordinates (receiver has no fix)

    def feed(self, data: bytes) -> None:
        """Append bytes as they arrived; nothing is parsed until ``next_fix()``."""
        self._buffer += data

    def next_fix(self) -> PositionFix | None:
        """The next complete fix, or None when more data is needed."""
        while not self._ready:
            fragment = self._next_fragment()
            if fragment is None:
                return None
            self._handle(fragment)
        return self._ready.popleft()

    def flush(self) -> PositionFix | None:
        """End of stream: give out the epoch still waiting for its other half."""
        if self._epoch is not None:
            self._close_epoch()
        return self._ready.popleft() if self._ready else None

    def _next_fragment(self) -> bytes | None:
        while not self._fragments:
            end = _LINE_END.search(self._buffer)
            if self._discarding:
                if end is None:
                    self._buffer.clear()
                    return None
                del self._buffer[: end.end()]
                self._discarding = False
                continue
            if end is None:
                if len(self._buffer) > MAX_LINE_LENGTH:
                    size = len(self._buffer)
                    self._buffer.clear()
                    self._discarding = True
                    raise NmeaFrameError(
                        f"NMEA line: {size} bytes without a line end, "
                        f"longest allowed is {MAX_LINE_LENGTH}"
                    )
                return None
            line = bytes(self._buffer[: end.start()])
            del self._buffer[: end.end()]
            # '$' always starts a sentence: a cut-off sentence loses only itself
            parts = line.split(b"$")
            if parts[0]:
                self._fragments.append(parts[0])
            self._fragments.extend(b"$" + part for part in parts[1:])
        return self._fragments.popleft()

    def _handle(self, fragment: bytes) -> None:
        try:
            line = fragment.decode("ascii")
        except UnicodeDecodeError as err:
            raise NmeaFrameError(
                f"NMEA line: byte 0x{fragment[err.start]:02X} at offset {err.start} is not ASCII"
            ) from err
        if not line.startswith("$"):
            raise NmeaFrameError(f"NMEA line: {len(line)} bytes before '$': {line[:24]!r}")
        comma = line.find(",")
        address = line[1:comma] if comma > 0 else ""
        if address[2:] not in ("RMC", "GGA") or address[:2] not in POSITION_TALKERS:
            check_frame(line)  # a broken line of any type is still an error
            self.ignored += 1
            return
        sentence = parse_sentence(line)
        if sentence.sentence_type == "RMC":
            kind, fields = "rmc", _rmc_fields(sentence)
        else:
            kind, fields = "gga", _gga_fields(sentence)
        time_of_day = _time_of_day_ms(sentence)
        epoch = self._epoch
        if epoch is not None and (epoch.time_of_day_ms != time_of_day or getattr(epoch, kind)):
            self._close_epoch()
            epoch = None
        if epoch is None:
            epoch = self._epoch = _Epoch(time_of_day)
        setattr(epoch, kind, fields)
        if epoch.rmc is not None and epoch.gga is not None:
            self._close_epoch()

    def _close_epoch(self) -> None:
        epoch, self._epoch = self._epoch, None
        assert epoch is not None
        rmc, gga = epoch.rmc or {}, epoch.gga or {}
        source = rmc if rmc.get("lat") is not None else gga
        if source.get("lat") is None or source.get("lon") is None:
            self.no_fix += 1
            return
        self._ready.append(
            PositionFix(
                timestamp_ms=self._timestamp(epoch.time_of_day_ms, rmc.get("day")),
                lat=source["lat"],
                lon=source["lon"],
                speed_kmh=rmc.get("speed_kmh", 0.0),
                course_deg=rmc.get("course_deg"),
                altitude_m=gga.get("altitude_m"),
                hdop=gga.get("hdop"),
                satellites=gga.get("satellites"),
                valid=rmc["valid"] if rmc else gga["valid"],
            )
        )

    def _timestamp(self, time_of_day: int | None, day: int | None) -> int | None:
        if time_of_day is None:
            return None
        if day is None:
            # a GGA alone: borrow the date of the last RMC, across midnight if need be
            if self._last_day is None:
                return None
            day = self._last_day
            if time_of_day < self._last_time_of_day_ms - _DAY_MS // 2:
                day += 1
            elif time_of_day > self._last_time_of_day_ms + _DAY_MS // 2:
                day -= 1
        else:
            self._last_day, self._last_time_of_day_ms = day, time_of_day
        return day * _DAY_MS + time_of_day
