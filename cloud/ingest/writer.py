"""One batch of parsed messages -> one transaction in the store.

COPY into per-connection staging tables, then ``INSERT ... SELECT ... ON CONFLICT DO
NOTHING`` on the dedupe key (device_id, time, seq), so redelivery and backlog replay add
nothing twice. device_state moves forward only: each section is updated only by data newer
(in device time) than what it holds; online/offline only by a status received later than
the one it holds. Messages that cannot be stored go to dead_letter with the reason, in the
same transaction as the good rows, so one commit covers every message of the batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from cloud.commands import states
from cloud.ingest import rows as R
from cloud.store import partitions
from cloud.store.db import connect
from protocols.contract import payloads

log = logging.getLogger(__name__)


class Rules(Protocol):
    """What the writer hands each batch's stored rows to, in the batch's transaction (the
    worker gives it the rule engine, cloud.rules.engine.RuleEngine)."""

    async def refresh(self, conn: psycopg.AsyncConnection) -> None: ...

    async def evaluate(self, conn: psycopg.AsyncConnection, stored: R.Stored) -> None: ...


_STAGES = {
    "bms_sample": R.BMS_COLUMNS,
    "position": R.POSITION_COLUMNS,
    "vehicle_sample": R.VEHICLE_COLUMNS,
    "device_event": R.EVENT_COLUMNS,
}


class Writer:
    """Writes batches through one asyncio connection (autocommit; explicit transactions)."""

    def __init__(
        self,
        conn: psycopg.AsyncConnection,
        *,
        database_url: str,
        layout: str,
        retention_days: int,
        max_clock_ahead_s: int,
        rules: Rules | None = None,
    ) -> None:
        self.conn = conn
        self.rules = rules  # None: store only, evaluate nothing
        self.database_url = database_url  # day partitions are made through cloud.store
        self.layout = layout
        self.retention_days = retention_days
        self.max_clock_ahead = timedelta(seconds=max_clock_ahead_s)
        self.counters: Counter[str] = Counter()
        self._days: set[date] = set()

    async def prepare(self) -> None:
        """Create this connection's staging tables; learn which day partitions exist."""
        for table in _STAGES:
            await self.conn.execute(
                sql.SQL(
                    "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS)"
                    " ON COMMIT DELETE ROWS"
                ).format(sql.Identifier(f"stage_{table}"), sql.Identifier(table))
            )
        if self.layout == "partitioned":
            self._days = await asyncio.to_thread(self._partition_days, ())

    def window(self) -> R.TimeWindow:
        today = datetime.now(UTC).date()
        oldest_day = partitions.oldest_kept_day(today, self.retention_days)
        oldest = datetime(oldest_day.year, oldest_day.month, oldest_day.day, tzinfo=UTC)
        return R.TimeWindow(oldest, self.max_clock_ahead)

    async def write(self, batch: list[R.Parsed]) -> Counter[str]:
        """Store a batch in one transaction; the counts of what happened."""
        counts: Counter[str] = Counter(messages=len(batch))
        bad = [p for p in batch if p.reason is not None]
        good = [p for p in batch if p.reason is None]
        models = await self._known([p.device_id for p in good if p.device_id])
        known = set(models)
        unknown = [p for p in good if p.device_id not in known]
        good = [p for p in good if p.device_id in known]
        rows = R.collect(good, self.window())
        await self._ensure_partitions(rows)
        async with self.conn.transaction():
            letters = [R.dead_letter_row(p, p.reason or "") for p in bad]
            letters += [R.dead_letter_row(p, _unknown_reason(p)) for p in unknown]
            letters += [R.dead_letter_row(p, reason) for p, reason in rows.rejected]
            await self._dead_letters(letters)
            await self._unknown(unknown)
            stored = R.Stored(models=models)
            for table, given, kept in (
                ("bms_sample", rows.bms, stored.bms),
                ("position", rows.positions, stored.positions),
                ("vehicle_sample", rows.vehicle, None),
                ("device_event", rows.events, stored.events),
            ):
                count = await self._insert(table, given, kept)
                counts["events_stored" if table == "device_event" else "samples_stored"] += count
            if self.rules is not None:
                await self.rules.evaluate(self.conn, stored)
            counts["acks_stored"] += await self._acks(rows.acks)
            await self._progress(rows.events)
            await self._state(rows)
        counts["samples"] = rows.sample_count
        counts["samples_duplicate"] = rows.sample_count - counts["samples_stored"]
        counts["events_duplicate"] = len(rows.events) - counts["events_stored"]
        counts["dead_letters"] = len(letters)
        counts["unknown_device"] = len(unknown)
        counts["invalid"] = len(bad)
        self.counters.update(counts)
        return counts

    async def _known(self, device_ids: Iterable[str]) -> dict[str, str]:
        """The registered ones among ``device_ids``, with their model."""
        ids = sorted(set(device_ids))
        if not ids:
            return {}
        cur = await self.conn.execute("SELECT id, model FROM device WHERE id = ANY(%s)", (ids,))
        return dict(await cur.fetchall())

    async def _ensure_partitions(self, rows: R.Rows) -> None:
        if self.layout != "partitioned":
            return
        days = {
            row[1].astimezone(UTC).date()
            for table in (rows.bms, rows.positions, rows.vehicle, rows.events)
            for row in table
        }
        missing = days - self._days
        if not missing:
            return
        # Its own short transaction on its own connection: creating a partition locks the
        # parent table. Rare (a new day, or a backlog's old one), so a thread will do.
        self._days = await asyncio.to_thread(self._partition_days, missing)

    def _partition_days(self, missing: Iterable[date]) -> set[date]:
        """Create the partitions for ``missing`` days; the days that have them."""
        with connect(self.database_url, autocommit=True) as conn:
            with conn.transaction():
                partitions.ensure_days(conn, missing)
            return partitions.existing_days(conn)

    async def _dead_letters(self, letters: list[tuple[Any, ...]]) -> None:
        if not letters:
            return
        async with self.conn.cursor() as cur:
            await cur.executemany(
                """INSERT INTO dead_letter
                       (received_at, topic, device_id, reason, payload, payload_bytes)
                   VALUES (%s, %s, %s, %s, %s, %s)""",
                letters,
            )
        log.warning(
            "dead-lettered %d message(s); first: %s: %s", len(letters), letters[0][1], letters[0][3]
        )

    async def _unknown(self, unknown: list[R.Parsed]) -> None:
        per_device: dict[str, list[R.Parsed]] = {}
        for parsed in unknown:
            per_device.setdefault(parsed.device_id or "", []).append(parsed)
        if not per_device:
            return
        async with self.conn.cursor() as cur:
            await cur.executemany(
                """INSERT INTO unknown_device AS u
                       (device_id, first_seen_at, last_seen_at, messages, last_topic)
                   VALUES (%s, %s, %s, %s, %s)
                   ON CONFLICT (device_id) DO UPDATE SET
                       last_seen_at = GREATEST(u.last_seen_at, EXCLUDED.last_seen_at),
                       messages = u.messages + EXCLUDED.messages,
                       last_topic = EXCLUDED.last_topic""",
                [
                    (device_id, msgs[0].received_at, msgs[-1].received_at, len(msgs),
                     msgs[-1].topic)
                    for device_id, msgs in sorted(per_device.items())
                ],
            )  # fmt: skip

    async def _insert(self, table: str, rows: list[Any], kept: list[Any] | None) -> int:
        """Insert what is not stored yet; how many were (a redelivery adds none). With rules
        on, the rows really stored are appended to ``kept`` for them to evaluate."""
        if not rows:
            return 0
        keep = self.rules is not None and kept is not None
        columns = _STAGES[table]
        stage = sql.Identifier(f"stage_{table}")
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        async with self.conn.cursor() as cur:
            async with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(stage, names)) as copy:
                for row in rows:
                    await copy.write_row(row)
            # Inserting in key order keeps concurrent workers from deadlocking each other.
            insert = sql.SQL(
                "INSERT INTO {table} ({names}) SELECT {names} FROM {stage}"
                " ORDER BY device_id, time, seq ON CONFLICT DO NOTHING"
                " RETURNING device_id, time, seq"
            ).format(table=sql.Identifier(table), names=names, stage=stage)
            returned = "device_id, time, seq" if keep else "count(*)"
            result = sql.SQL(f"SELECT {returned} FROM inserted")
            query = sql.SQL("WITH inserted AS ({insert}) {result}").format(
                insert=insert, result=result
            )
            await cur.execute(query)
            found = await cur.fetchall()
            await cur.execute(sql.SQL("TRUNCATE {}").format(stage))
        if not keep:
            return found[0][0]
        inserted = set(found)
        for row in rows:  # a key twice in one batch was stored once: keep its first row
            key = (row[0], row[1], row[2])
            if key in inserted:
                inserted.discard(key)
                kept.append(row)  # type: ignore[union-attr]
        return len(found)

    async def _acks(self, acks: list[tuple[Any, ...]]) -> int:
        """Store each ack and move its command as the state machine says (cloud.commands.
        states), in this transaction."""
        acks = [ack for ack in acks if not self._signature_refusal(ack)]
        if not acks:
            return 0
        async with self.conn.cursor() as cur:
            stored = 0
            # (device_id, cmd_id) order: concurrent workers lock command rows in one order
            for ack in sorted(acks, key=lambda a: (a[0], a[1])):
                await cur.execute(
                    """INSERT INTO device_ack
                           (device_id, cmd_id, time, received_at, result, reason, observed)
                       VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
                    ack,
                )
                if cur.rowcount:
                    stored += 1
                    device_id, cmd_id, _, received, result, reason, observed = ack
                    await cur.execute(states.ACK, (result, result, reason, observed, received,
                                                     cmd_id, device_id))  # fmt: skip
                    self.counters["commands_acked"] += cur.rowcount
        return stored

    def _signature_refusal(self, ack: tuple[Any, ...]) -> bool:
        """A device refusing a command for its signature answers a message the cloud did not
        sign (every command the cloud sends is signed): someone published on the device's
        ``down/cmd`` with a guessed cmd_id. Not the command's result, so it must not take the
        place of the real one: counted and logged, not stored."""
        device_id, cmd_id, _, _, result, reason, _ = ack
        if result != "rejected" or not (reason or "").startswith(_SIGNATURE_REFUSALS):
            return False
        self.counters["acks_signature_refused"] += 1
        log.warning(
            "device %s refused a command %s for its signature (%s): a message the cloud did"
            " not sign was published on its down/cmd, or its command key is not the cloud's",
            device_id, cmd_id, reason,
        )  # fmt: skip
        return True

    async def _progress(self, events: list[tuple[Any, ...]]) -> None:
        """A device waiting to apply a command (a cut-off waits for the vehicle to stop)
        says so in a ``cutoff_waiting`` event naming the cmd_id: the command shows it."""
        notes = []
        for device_id, time, _, _, event_type, _, detail, _ in events:
            if event_type not in _PROGRESS_EVENTS or detail is None:
                continue
            cmd_id = detail.obj.get("cmd_id")
            if isinstance(cmd_id, str):
                # the API's time format (ISO 8601 UTC, milliseconds, Z)
                stamp = time.astimezone(UTC).isoformat(timespec="milliseconds")
                stamp = stamp.replace("+00:00", "Z")
                note = {"event": event_type, "time": stamp, "detail": detail.obj}
                notes.append((Jsonb(note), cmd_id, device_id, time))
        if notes:
            async with self.conn.cursor() as cur:
                await cur.executemany(states.PROGRESS, sorted(notes, key=lambda n: (n[2], n[1])))

    async def _state(self, rows: R.Rows) -> None:
        async with self.conn.cursor() as cur:
            if rows.seen:
                await cur.executemany(
                    """UPDATE device_state SET
                           last_seen_at = GREATEST(last_seen_at, %s),
                           last_seq = GREATEST(last_seq, %s)
                       WHERE device_id = %s""",
                    [(at, seq, d) for d, (at, seq) in sorted(rows.seen.items())],
                )
            if rows.latest_bms:
                await cur.executemany(_BMS_STATE, [_bms_state(d, s) for d, s in
                                                   sorted(rows.latest_bms.items())])  # fmt: skip
            if rows.latest_position:
                await cur.executemany(
                    _POSITION_STATE,
                    [
                        (R.device_time(s.ts), s.lat, s.lon, s.speed_kmh, s.course_deg, d,
                         R.device_time(s.ts))
                        for d, s in sorted(rows.latest_position.items())
                    ],
                )  # fmt: skip
            if rows.latest_vehicle:
                await cur.executemany(
                    _VEHICLE_STATE,
                    [
                        (R.device_time(s.ts), Jsonb(dict(s.signals)), d, R.device_time(s.ts))
                        for d, s in sorted(rows.latest_vehicle.items())
                    ],
                )
            for device_id, received, status in sorted(rows.statuses, key=lambda r: r[1]):
                document = status.to_wire()
                await cur.execute(
                    _STATUS_STATE,
                    (status.online, received, Jsonb(document) if len(document) > 1 else None,
                     device_id, received),
                )  # fmt: skip


def _unknown_reason(parsed: R.Parsed) -> str:
    return (
        f"unknown device {parsed.device_id!r}: not registered; register it"
        " (POST /api/devices) and its next messages are stored"
    )


def _bms_state(device_id: str, s: payloads.BmsSample) -> tuple[Any, ...]:
    time = R.device_time(s.ts)
    return (
        time, s.pack_voltage_v, s.current_a, s.soc_percent, list(s.cell_voltages_v),
        list(s.temperatures_c), s.charge_mos, s.discharge_mos, s.remaining_ah,
        s.full_capacity_ah, s.cycles, sorted(s.protection), device_id, time,
    )  # fmt: skip


_PROGRESS_EVENTS = frozenset({"cutoff_waiting"})
# What a device acks for a command whose signature does not hold (edge_agent/signatures.py);
# "unknown signing key" is a real outcome (the device lacks the key) and stays final.
_SIGNATURE_REFUSALS = ("command not signed", "bad signature")
_BMS_STATE = """
UPDATE device_state SET bms_time = %s, pack_voltage_v = %s, current_a = %s, soc_percent = %s,
    cell_voltages_v = %s, temperatures_c = %s, charge_mos = %s, discharge_mos = %s,
    remaining_ah = %s, full_capacity_ah = %s, cycles = %s, protection = %s
WHERE device_id = %s AND (bms_time IS NULL OR bms_time < %s)"""
_POSITION_STATE = """
UPDATE device_state SET position_time = %s, lat = %s, lon = %s, speed_kmh = %s, course_deg = %s
WHERE device_id = %s AND (position_time IS NULL OR position_time < %s)"""
_VEHICLE_STATE = """
UPDATE device_state SET vehicle_time = %s, vehicle_signals = %s
WHERE device_id = %s AND (vehicle_time IS NULL OR vehicle_time < %s)"""
_STATUS_STATE = """
UPDATE device_state SET online = %s, online_changed_at = %s, status = COALESCE(%s, status)
WHERE device_id = %s AND (online_changed_at IS NULL OR online_changed_at <= %s)"""
