"""Helpers for the rules tests (no tests here): a writer with rules on a test database, and
realistic samples of a 16-cell LFP pack."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import psycopg

from cloud.ingest.rows import parse
from cloud.ingest.writer import Writer
from cloud.rules.engine import RuleEngine
from protocols.contract import payloads
from tests.cloud import wire_support as wire

CELLS = 16


def pack(seq: int, ts: int, *, cells: tuple[float, ...] | None = None, **fields: Any):
    """A healthy 16S LFP pack, discharging gently, unless ``fields`` say otherwise."""
    cells = cells or (3.30,) * CELLS
    values: dict[str, Any] = dict(
        pack_voltage_v=round(sum(cells), 2),
        current_a=-5.0,
        soc_percent=60.0,
        cell_voltages_v=cells,
        temperatures_c=(25.0, 26.0),
        charge_mos=True,
        discharge_mos=True,
        full_capacity_ah=30.0,
    )
    values.update(fields)
    return payloads.BmsSample(seq=seq, ts=ts, **values)


def one_cell(volts: float, cell: int = 5) -> tuple[float, ...]:
    """Every cell at 3.30 V but one."""
    return tuple(volts if i == cell else 3.30 for i in range(CELLS))


class Rules:
    """A writer with a rule engine on ``database_url``; ``write`` stores and evaluates."""

    def __init__(self, database_url: str, *, now: datetime | None = None) -> None:
        self.url = database_url
        self.engine = RuleEngine(now=(lambda: now) if now is not None else None)

    def write(self, device_id: str, *messages: bytes | tuple[str, bytes]) -> Any:
        batch = [(m if isinstance(m, tuple) else (wire.topic(device_id), m)) for m in messages]
        return asyncio.run(self._write(batch))

    def samples(self, device_id: str, *samples: Any) -> Any:
        return self.write(device_id, wire.telemetry(*samples))

    async def _write(self, batch: list[tuple[str, bytes]]) -> Any:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            writer = Writer(conn, database_url=self.url, layout="partitioned",
                            retention_days=30, max_clock_ahead_s=3600,
                            rules=self.engine)  # fmt: skip
            await writer.prepare()
            received = datetime.now(UTC)
            return await writer.write([parse(t, p, received) for t, p in batch])


def query(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def alarms(url: str, device_id: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(type, subject) -> (state, active, count) of a device's alarms, the open ones winning."""
    rows = query(url, "SELECT type, subject, state, active, count FROM alarm"
                      " WHERE device_id = %s ORDER BY id", device_id)  # fmt: skip
    out: dict[tuple[str, str], tuple[Any, ...]] = {}
    for type_, subject, state, active, count in rows:
        if (type_, subject) not in out or state == "open":
            out[(type_, subject)] = (state, active, count)
    return out
