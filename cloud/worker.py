"""``voltrent cloud worker``: MQTT uplink -> PostgreSQL, acknowledged after commit.

The loop: take a batch from the consumer, decode it, store it in one transaction, and only
then acknowledge its messages to the broker. A worker killed anywhere in between has not
acknowledged, so the broker redelivers to its persistent session (or to another worker of
the shared subscription), and the dedupe key makes the second delivery harmless.

When the store is down the batch is retried with backoff and nothing is acknowledged, so
the broker holds the backlog. A message the store itself refuses (a value out of range, a
device deleted mid-batch) is found by storing the batch's messages one by one, and goes to
dead letters with the store's reason, so one bad message never blocks the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import psycopg

from cloud.commands.dispatcher import Dispatcher
from cloud.config import CloudConfig
from cloud.errors import StoreUnavailable
from cloud.ingest import rows as R
from cloud.ingest.consumer import Consumer, Delivery
from cloud.ingest.writer import Writer
from cloud.notify import Notifier
from cloud.rules import offline
from cloud.rules.engine import RuleEngine
from cloud.store import partitions, retention, rollups
from cloud.store.db import connect, connect_async, describe
from cloud.store.migrate import migrate
from protocols.contract.topics import UPLINK_FILTER

log = logging.getLogger(__name__)

MAINTENANCE_INTERVAL_S = 3600.0
ROLLUP_INTERVAL_S = 10.0
STATUS_INTERVAL_S = 30.0
_RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


class Worker:
    """One ingest worker: a consumer, a store connection, and the upkeep jobs."""

    def __init__(self, config: CloudConfig) -> None:
        self.config = config
        self.counters: Counter[str] = Counter()
        self.layout = "partitioned"
        self._conn: psycopg.AsyncConnection | None = None
        self._writer: Writer | None = None
        self._started_at = datetime.now(UTC)
        self.consumer: Consumer | None = None
        # Every worker runs one; only the leader among them publishes
        # (see cloud/commands/dispatcher.py).
        self.dispatcher = Dispatcher(config)
        self.rules = RuleEngine() if config.rules else None
        # Every worker delivers alarm notifications to webhooks, off the ingest path.
        self.notifier = Notifier(
            config.database_url, worker_id=config.mqtt.client_id, allow=config.webhook_allow
        )

    async def run(self) -> None:
        """Ingest until cancelled."""
        await self._connect()
        if self.rules is not None:  # fences built before the first batch, not during it
            assert self._conn is not None
            await self.rules.refresh(self._conn)
        async with Consumer(self.config.mqtt, UPLINK_FILTER) as consumer:
            self.consumer = consumer
            log.info(
                "ingesting %s from %s into %s (%s layout, %s subscription)",
                UPLINK_FILTER,
                self.config.mqtt.url.split("@")[-1],
                describe(self.config.database_url),
                self.layout,
                f"shared '{self.config.mqtt.group}'" if consumer.shared else "plain",
            )
            upkeep, dispatch, notify = (
                asyncio.create_task(supervise(name, run, self.counters), name=name)
                for name, run in (
                    ("upkeep", self._upkeep),
                    ("dispatcher", self.dispatcher.run),
                    ("notifier", self.notifier.run),
                )
            )
            try:
                while True:
                    batch = await consumer.next_batch(
                        self.config.batch_max_messages, self.config.batch_max_wait_ms / 1000
                    )
                    await self.store(batch)
                    consumer.ack(batch)
            finally:
                for task in (upkeep, dispatch, notify):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await self._final_report()
                await self._close()

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
                await self._close()
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

    async def _close(self) -> None:
        conn, self._conn, self._writer = self._conn, None, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(psycopg.Error):
                await conn.close()

    async def _upkeep(self) -> None:
        """Partitions, rollups and this worker's status row, on their own connection."""
        next_maintenance = next_status = next_sweep = 0.0
        while True:
            try:
                conn = await connect_async(self.config.database_url)
                await conn.set_autocommit(True)
                async with conn:
                    while True:
                        now = time.monotonic()
                        if now >= next_maintenance:
                            await asyncio.to_thread(self._maintain)
                            next_maintenance = now + MAINTENANCE_INTERVAL_S
                        if self.layout == "partitioned":
                            while await rollups.refresh(conn) >= 5000:
                                pass
                        if self.rules is not None and now >= next_sweep:
                            changed = await offline.sweep(conn, self.rules)
                            self.counters["offline_alarm_changes"] += changed
                            next_sweep = now + self.config.offline_sweep_s
                        if now >= next_status:
                            await self._report(conn)
                            next_status = now + STATUS_INTERVAL_S
                        await asyncio.sleep(min(ROLLUP_INTERVAL_S, self.config.offline_sweep_s))
            except (psycopg.OperationalError, StoreUnavailable) as err:
                log.warning("upkeep: store unavailable (%s); retrying in 10 s", err)
                await asyncio.sleep(10)

    async def _final_report(self) -> None:
        """The counters at a clean stop, so they are not up to 30 s old."""
        try:
            conn = await connect_async(self.config.database_url, timeout_s=3)
            await conn.set_autocommit(True)
            async with conn:
                await self._report(conn)
        except (psycopg.Error, StoreUnavailable) as err:
            log.warning("could not record the final counters: %s", err)

    def _maintain(self) -> None:
        """Day partitions (plain PostgreSQL) and dead-letter retention, hourly."""
        with connect(self.config.database_url, autocommit=True) as conn:
            if self.layout == "partitioned":
                partitions.maintain(
                    conn,
                    ahead_days=self.config.partitions_ahead_days,
                    retention_days=self.config.retention_days,
                )
            pruned = retention.prune_dead_letters(conn, self.config.retention_days)
            if pruned:
                log.info("deleted %d dead letters past retention", pruned)
            pruned = retention.prune_notifications(conn, self.config.retention_days)
            if pruned:
                log.info("deleted %d webhook deliveries past retention", pruned)

    async def _report(self, conn: psycopg.AsyncConnection) -> None:
        counters = dict(self.counters)
        if self.consumer is not None:
            counters.update({f"mqtt_{k}": v for k, v in self.consumer.counters.items()})
        counters.update({f"dispatch_{k}": v for k, v in self.dispatcher.counters.items()})
        if self.rules is not None:
            counters.update({f"rules_{k}": v for k, v in self.rules.counters.items()})
        counters.update({f"notify_{k}": v for k, v in self.notifier.counters.items()})
        counters["dispatch_leader"] = int(self.dispatcher.leader)
        await conn.execute(
            """INSERT INTO worker_status AS w (client_id, hostname, pid, started_at, updated_at,
                                               shared_subscription, counters)
               VALUES (%s, %s, %s, %s, now(), %s, %s)
               ON CONFLICT (client_id) DO UPDATE SET hostname = EXCLUDED.hostname,
                   pid = EXCLUDED.pid, started_at = EXCLUDED.started_at,
                   updated_at = now(), shared_subscription = EXCLUDED.shared_subscription,
                   counters = EXCLUDED.counters""",
            (
                self.config.mqtt.client_id,
                socket.gethostname(),
                os.getpid(),
                self._started_at,
                bool(self.consumer and self.consumer.shared),
                json.dumps(counters),
            ),
        )
        log.info("counters: %s", " ".join(f"{k}={v}" for k, v in sorted(counters.items())))


async def supervise(
    name: str,
    run: Callable[[], Awaitable[None]],
    counters: Counter[str],
    *,
    first_delay_s: float = 1.0,
) -> None:
    """Run one of the worker's jobs for ever: a defect that escapes it (each handles the
    store's and the broker's outages itself) is logged with its traceback and counted as
    ``{name}_faults``, and the job starts again, instead of ending unseen while ingest goes
    on."""
    delay = first_delay_s
    while True:
        try:
            await run()
            return
        except Exception:
            counters[f"{name}_faults"] += 1
            log.exception("%s failed; starting it again in %.0f s", name, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)


def run_worker(config: CloudConfig, *, migrate_first: bool = True) -> int:
    """The `voltrent cloud worker` process: migrate (optional), then ingest until a signal."""
    if migrate_first:
        migrate(
            config.database_url,
            layout=config.store_layout,
            retention_days=config.retention_days,
            partitions_ahead_days=config.partitions_ahead_days,
        )
    asyncio.run(_run_until_signal(Worker(config)))
    return 0


async def _run_until_signal(worker: Worker) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await worker.run()
    log.info("worker stopped")
