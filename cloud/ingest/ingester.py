"""The ingest loop: take a batch from the consumer, decode it, store it in one transaction,
and only then acknowledge its messages to the broker.

A worker killed anywhere in between has not acknowledged, so the broker redelivers to its
persistent session (or to another worker of the shared subscription), and the dedupe key
makes the second delivery harmless. When the store is down the batch is retried with
backoff and nothing is acknowledged, so the broker holds the backlog. A message the store
itself refuses (a value out of range, a device deleted mid-batch) is found by storing the
batch's messages one by one, and goes to dead letters with the store's reason, so one bad
message never blocks the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

import psycopg

from cloud.config import CloudConfig
from cloud.errors import StoreUnavailable
from cloud.ingest import rows as R
from cloud.ingest.consumer import Consumer, Delivery
from cloud.ingest.writer import Rules, Writer
from cloud.store.db import connect_async

log = logging.getLogger(__name__)

_RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


class Ingester:
    """MQTT uplink -> the store, acknowledged after commit, through one store connection;
    ``rules`` (if any) evaluate every stored batch in its transaction."""

    def __init__(
        self,
        config: CloudConfig,
        *,
        rules: Rules | None = None,
        counters: Counter[str] | None = None,
    ) -> None:
        self.config = config
        self.rules = rules
        self.counters: Counter[str] = Counter() if counters is None else counters
        self.layout = "partitioned"  # the store's, read on connecting
        self.consumer: Consumer | None = None
        self._conn: psycopg.AsyncConnection | None = None
        self._writer: Writer | None = None

    async def open(self) -> None:
        """Connect to the store; the rules load their fences before the first batch, not
        during it."""
        await self._connect()
        if self.rules is not None:
            assert self._conn is not None
            await self.rules.refresh(self._conn)

    async def consume(self, consumer: Consumer) -> None:
        """Store and acknowledge the consumer's batches until cancelled."""
        self.consumer = consumer
        while True:
            batch = await consumer.next_batch(
                self.config.batch_max_messages, self.config.batch_max_wait_ms / 1000
            )
            await self.store(batch)
            consumer.ack(batch)

    async def store(self, batch: list[Delivery]) -> None:
        """Commit a batch, retrying while the store is down; never returns before commit."""
        parsed = [R.parse(d.topic, d.payload, d.received_at) for d in batch]
        delay = 0.5
        while True:
            try:
                writer = await self._ready_writer()
                self._count(await writer.write(parsed))
                return
            except _RETRYABLE as err:  # (OperationalErrors, so they come first)
                log.info("batch collided with another worker (%s); retrying", err)
            except (psycopg.OperationalError, StoreUnavailable) as err:
                log.warning("store unavailable (%s); retrying the batch in %.1f s", err, delay)
                self.counters["store_retries"] += 1
                await self.close()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            except psycopg.Error as err:
                log.warning("the store refused a batch (%s); storing its messages one by one", err)
                await self._store_one_by_one(parsed)
                return
            except Exception:  # a defect of ours that one message found; nothing committed
                log.exception("storing a batch failed; storing its messages one by one")
                self.counters["batch_faults"] += 1
                await self._store_one_by_one(parsed)
                return

    async def _store_one_by_one(self, parsed: list[R.Parsed]) -> None:
        """Store each message alone; one the store refuses, or that makes our own code fail,
        goes to dead letters with the reason, so it is acknowledged and never comes back."""
        for message in parsed:
            writer = await self._ready_writer()
            try:
                self._count(await writer.write([message]))
                continue
            except psycopg.OperationalError:
                raise
            except psycopg.Error as err:
                reason = f"the store refused this message: {str(err).strip().splitlines()[0]}"
                self.counters["store_refused"] += 1
            except Exception as err:
                log.exception("storing a message on %s failed; dead-lettering it", message.topic)
                reason = R.defect_reason("storing", err)
                self.counters["message_faults"] += 1
            message.reason = reason
            self._count(await writer.write([message]))

    def _count(self, counts: Counter[str]) -> None:
        self.counters.update(counts)

    async def _ready_writer(self) -> Writer:
        if self._writer is None or self._conn is None or self._conn.closed:
            await self._connect()
        assert self._writer is not None
        return self._writer

    async def _connect(self) -> None:
        conn = await connect_async(self.config.database_url)
        await conn.set_autocommit(True)
        cur = await conn.execute("SELECT value FROM store_setting WHERE key = 'layout'")
        row = await cur.fetchone()
        self.layout = row[0] if row else "partitioned"
        writer = Writer(
            conn,
            database_url=self.config.database_url,
            layout=self.layout,
            retention_days=self.config.retention_days,
            max_clock_ahead_s=self.config.max_clock_ahead_s,
            rules=self.rules,
        )
        await writer.prepare()
        self._conn, self._writer = conn, writer

    async def close(self) -> None:
        conn, self._conn, self._writer = self._conn, None, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(psycopg.Error):
                await conn.close()
