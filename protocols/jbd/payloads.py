"""Register payloads: basic info (0x03), cell voltages (0x04), hardware version (0x05).

Each converts its register's data field to and from our units; ``from_response`` also
refuses an error status or an answer from a different register.
"""

from __future__ import annotations

import datetime
import struct
from dataclasses import dataclass
from typing import Any, ClassVar

from protocols.jbd.errors import JbdPayloadError
from protocols.jbd.frame import Response
from protocols.jbd.registers import (
    PROTECTION_BITS,
    Register,
    payload_of,
    scaled_to_raw,
    temperature_from_raw,
    temperature_to_raw,
)

MAX_BALANCED_CELL = 32


def _pack_date(date: datetime.date | None) -> int:
    if date is None:
        return 0
    if not 2000 <= date.year <= 2127:
        raise JbdPayloadError(f"JBD basic info: production year {date.year} is not 2000..2127")
    return (date.year - 2000) << 9 | date.month << 5 | date.day


def _unpack_date(packed: int) -> datetime.date | None:
    try:
        return datetime.date(2000 + (packed >> 9), (packed >> 5) & 0x0F, packed & 0x1F)
    except ValueError:
        return None  # an unset EEPROM date (0) must not make the pack unreadable


def _bits_to_cells(word: int) -> frozenset[int]:
    return frozenset(bit + 1 for bit in range(MAX_BALANCED_CELL) if word >> bit & 1)


def _cells_to_bits(cells: frozenset[int]) -> int:
    word = 0
    for cell in cells:
        if not 1 <= cell <= MAX_BALANCED_CELL:
            raise JbdPayloadError(f"JBD basic info: balancing cell {cell} is not 1..32")
        word |= 1 << (cell - 1)
    return word


def _version_to_byte(version: str) -> int:
    major, dot, minor = version.partition(".")
    try:
        if dot and 0 <= int(major) <= 15 and 0 <= int(minor) <= 15:
            return int(major) << 4 | int(minor)
    except ValueError:
        pass
    raise JbdPayloadError(f"JBD basic info: software version {version!r} is not like '1.0'")


_BASIC_HEADER = struct.Struct(">HhHHHHHHHBBBBB")


@dataclass(frozen=True, slots=True)
class BasicInfo:
    """Register 0x03: pack state and status.

    ``software_version`` is the version byte as "major.minor", one nibble each (0x10 is
    "1.0"). ``production_date`` is None when the packed date is not a calendar date (an
    unset EEPROM). ``extra`` keeps the bytes newer firmware appends after the NTCs.
    """

    REGISTER: ClassVar[int] = Register.BASIC_INFO

    pack_voltage_v: float
    current_a: float  # positive = charging
    remaining_ah: float
    nominal_ah: float
    cycles: int
    production_date: datetime.date | None
    balancing: frozenset[int]  # 1-based cell numbers
    protection: frozenset[str]
    software_version: str
    rsoc_percent: int
    charge_mos: bool
    discharge_mos: bool
    cell_count: int
    temperatures_c: tuple[float, ...]
    extra: bytes = b""

    @classmethod
    def from_bytes(cls, data: bytes) -> BasicInfo:
        """Decode the data field of a basic-info response."""
        if len(data) < _BASIC_HEADER.size:
            raise JbdPayloadError(
                f"JBD basic info: {len(data)} data bytes, at least {_BASIC_HEADER.size}"
            )
        fields = _BASIC_HEADER.unpack_from(data)
        voltage, current, remaining, nominal, cycles, date, balance_low, balance_high = fields[:8]
        protection, version, rsoc, mosfets, cells, ntc_count = fields[8:]
        ntc_end = _BASIC_HEADER.size + 2 * ntc_count
        if len(data) < ntc_end:
            raise JbdPayloadError(
                f"JBD basic info: {ntc_count} NTCs need {ntc_end} data bytes, got {len(data)}"
            )
        ntcs = struct.unpack_from(f">{ntc_count}H", data, _BASIC_HEADER.size)
        names = {name for name, bit in PROTECTION_BITS.items() if protection >> bit & 1}
        return cls(
            pack_voltage_v=voltage / 100,
            current_a=current / 100,
            remaining_ah=remaining / 100,
            nominal_ah=nominal / 100,
            cycles=cycles,
            production_date=_unpack_date(date),
            balancing=_bits_to_cells(balance_high << 16 | balance_low),
            protection=frozenset(names),
            software_version=f"{version >> 4}.{version & 0x0F}",
            rsoc_percent=rsoc,
            charge_mos=bool(mosfets & 0x01),
            discharge_mos=bool(mosfets & 0x02),
            cell_count=cells,
            temperatures_c=tuple(temperature_from_raw(raw) for raw in ntcs),
            extra=bytes(data[ntc_end:]),
        )

    @classmethod
    def from_response(cls, response: Response) -> BasicInfo:
        """Decode an ok basic-info response."""
        return cls.from_bytes(payload_of(response, cls.REGISTER))

    def to_bytes(self) -> bytes:
        """Encode the data field; raises JbdPayloadError for values that do not fit."""
        unknown = self.protection - PROTECTION_BITS.keys()
        if unknown:
            raise JbdPayloadError(f"JBD basic info: unknown protection names {sorted(unknown)}")
        protection = sum(1 << PROTECTION_BITS[name] for name in self.protection)
        balance = _cells_to_bits(self.balancing)
        for name, value, high in (
            ("cycles", self.cycles, 0xFFFF),
            ("rsoc_percent", self.rsoc_percent, 0xFF),
            ("cell_count", self.cell_count, 0xFF),
            ("NTC count", len(self.temperatures_c), 0xFF),
        ):
            if not 0 <= value <= high:
                raise JbdPayloadError(f"JBD basic info: {name} {value} is outside 0..{high}")
        header = _BASIC_HEADER.pack(
            scaled_to_raw("basic info pack_voltage_v", self.pack_voltage_v, 100, 0, 0xFFFF),
            scaled_to_raw("basic info current_a", self.current_a, 100, -0x8000, 0x7FFF),
            scaled_to_raw("basic info remaining_ah", self.remaining_ah, 100, 0, 0xFFFF),
            scaled_to_raw("basic info nominal_ah", self.nominal_ah, 100, 0, 0xFFFF),
            self.cycles,
            _pack_date(self.production_date),
            balance & 0xFFFF,
            balance >> 16,
            protection,
            _version_to_byte(self.software_version),
            self.rsoc_percent,
            int(self.charge_mos) | int(self.discharge_mos) << 1,
            self.cell_count,
            len(self.temperatures_c),
        )
        ntcs = [temperature_to_raw("basic info temperature", t) for t in self.temperatures_c]
        return header + struct.pack(f">{len(ntcs)}H", *ntcs) + self.extra

    def to_response(self) -> Response:
        """An ok response carrying this basic info."""
        return Response(self.REGISTER, data=self.to_bytes())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        date = self.production_date
        return {
            "pack_voltage_v": self.pack_voltage_v,
            "current_a": self.current_a,
            "remaining_ah": self.remaining_ah,
            "nominal_ah": self.nominal_ah,
            "cycles": self.cycles,
            "production_date": date.isoformat() if date is not None else None,
            "balancing": sorted(self.balancing),
            "protection": sorted(self.protection, key=PROTECTION_BITS.__getitem__),
            "software_version": self.software_version,
            "rsoc_percent": self.rsoc_percent,
            "charge_mos": self.charge_mos,
            "discharge_mos": self.discharge_mos,
            "cell_count": self.cell_count,
            "temperatures_c": list(self.temperatures_c),
            "extra": self.extra.hex(),
        }


@dataclass(frozen=True, slots=True)
class CellVoltages:
    """Register 0x04: one voltage per cell, 1 mV resolution."""

    REGISTER: ClassVar[int] = Register.CELL_VOLTAGES

    voltages_v: tuple[float, ...]

    @classmethod
    def from_bytes(cls, data: bytes) -> CellVoltages:
        """Decode the data field of a cell-voltages response."""
        if len(data) % 2:
            raise JbdPayloadError(f"JBD cell voltages: {len(data)} data bytes, expected even")
        millivolts = struct.unpack(f">{len(data) // 2}H", data)
        return cls(tuple(mv / 1000 for mv in millivolts))

    @classmethod
    def from_response(cls, response: Response) -> CellVoltages:
        """Decode an ok cell-voltages response."""
        return cls.from_bytes(payload_of(response, cls.REGISTER))

    def to_bytes(self) -> bytes:
        """Encode the data field; raises JbdPayloadError for values that do not fit."""
        if len(self.voltages_v) > 127:
            raise JbdPayloadError(f"JBD cell voltages: {len(self.voltages_v)} cells, at most 127")
        raw = [scaled_to_raw("cell voltage", v, 1000, 0, 0xFFFF) for v in self.voltages_v]
        return struct.pack(f">{len(raw)}H", *raw)

    def to_response(self) -> Response:
        """An ok response carrying these voltages."""
        return Response(self.REGISTER, data=self.to_bytes())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"voltages_v": list(self.voltages_v)}


@dataclass(frozen=True, slots=True)
class HardwareVersion:
    """Register 0x05: the board's model string. Bytes map one-to-one onto Latin-1
    characters, so any firmware's string survives a round trip."""

    REGISTER: ClassVar[int] = Register.HARDWARE_VERSION

    text: str

    @classmethod
    def from_bytes(cls, data: bytes) -> HardwareVersion:
        """Decode the data field of a hardware-version response."""
        return cls(bytes(data).decode("latin-1"))

    @classmethod
    def from_response(cls, response: Response) -> HardwareVersion:
        """Decode an ok hardware-version response."""
        return cls.from_bytes(payload_of(response, cls.REGISTER))

    def to_bytes(self) -> bytes:
        """Encode the data field; refuses characters beyond one byte and over 255 bytes."""
        try:
            data = self.text.encode("latin-1")
        except UnicodeEncodeError as err:
            raise JbdPayloadError(f"JBD hardware version: {self.text!r} is not 8-bit") from err
        if len(data) > 255:
            raise JbdPayloadError(f"JBD hardware version: {len(data)} bytes, at most 255")
        return data

    def to_response(self) -> Response:
        """An ok response carrying this version string."""
        return Response(self.REGISTER, data=self.to_bytes())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"text": self.text}


RegisterPayload = BasicInfo | CellVoltages | HardwareVersion
PAYLOAD_TYPES: dict[int, type[BasicInfo] | type[CellVoltages] | type[HardwareVersion]] = {
    Register.BASIC_INFO: BasicInfo,
    Register.CELL_VOLTAGES: CellVoltages,
    Register.HARDWARE_VERSION: HardwareVersion,
}
