"""Payload factories for cloud tests: real wire bytes, encoded by the contract codec; and
``write``, which stores messages through the worker's writer."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime

import psycopg

from cloud.ingest.rows import parse
from cloud.ingest.writer import Writer
from protocols.contract import payloads
from protocols.contract.codec import encode


def now_ms() -> int:
    return int(time.time() * 1000)


def bms(
    seq: int, ts: int, *, soc: float = 80.0, current: float = -5.0, **fields
) -> payloads.BmsSample:
    values = dict(
        pack_voltage_v=52.1,
        current_a=current,
        soc_percent=soc,
        cell_voltages_v=(3.30, 3.31, 3.29, 3.32),
        temperatures_c=(25.0, 26.5),
        charge_mos=True,
        discharge_mos=True,
    )
    values.update(fields)
    return payloads.BmsSample(seq=seq, ts=ts, **values)


def position(seq: int, ts: int, *, lat: float = 22.54, lon: float = 113.93, **fields):
    return payloads.PositionSample(seq=seq, ts=ts, lat=lat, lon=lon, valid=True, **fields)


def vehicle(seq: int, ts: int, **signals: float) -> payloads.VehicleSample:
    return payloads.VehicleSample(seq=seq, ts=ts, signals=signals or {"motor_rpm": 1200.0})


def telemetry(*samples, compress: bool = True) -> bytes:
    return encode(payloads.TelemetryBatch(tuple(samples)), compress=compress)


def events(*items: payloads.Event) -> bytes:
    return encode(payloads.EventBatch(tuple(items)), compress=True)


def event(seq: int, ts: int, type: str = "boot", **fields) -> payloads.Event:
    return payloads.Event(seq=seq, ts=ts, type=type, **fields)


def status(online: bool, **fields) -> bytes:
    return encode(payloads.Status(online=online, **fields))


def topic(device_id: str, channel: str = "up/telemetry") -> str:
    return f"vr/v1/{device_id}/{channel}"


def utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


async def _write(
    url: str, messages: list[tuple[str, bytes]], received: datetime | None
) -> Counter[str]:
    received = received or datetime.now(UTC)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute("SELECT value FROM store_setting WHERE key = 'layout'")
        row = await cur.fetchone()
        assert row is not None
        writer = Writer(
            conn, database_url=url, layout=row[0], retention_days=30, max_clock_ahead_s=3600
        )
        await writer.prepare()
        return await writer.write([parse(t, p, received) for t, p in messages])


def write(
    url: str, messages: list[tuple[str, bytes]], *, received: datetime | None = None
) -> Counter[str]:
    """Store ``messages`` (topic, payload) as the worker does: its writer, one transaction;
    the writer's counts."""
    return asyncio.run(_write(url, messages, received))
