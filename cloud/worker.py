"""``voltrent cloud worker``: the worker process, composed from the parts it starts.

- ingest (cloud/ingest/ingester.py): MQTT uplink -> the store, acknowledged after commit,
  with the rules (cloud/rules/engine.py) evaluating every stored batch in its transaction;
- the dispatcher (cloud/commands/dispatcher.py): commands and lease terms to the devices;
  every worker runs one, only the leader among them publishes;
- the notifier (cloud/notify/notifier.py): alarm notifications to webhooks, off the ingest
  path, in every worker;
- upkeep, on its own connection: day partitions and retention (hourly), the ``offline``
  sweep (cloud/rules/offline.py) and this worker's status row
  (``worker_status``, the counters of every part, read by ``voltrent cloud doctor``).

Each part but ingest runs supervised: a defect that escapes it is logged, counted and the
part started again, while ingest goes on.
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
from cloud.ingest.consumer import Consumer
from cloud.ingest.ingester import Ingester
from cloud.notify import Notifier
from cloud.rules import offline
from cloud.rules.engine import RuleEngine
from cloud.store import partitions, retention
from cloud.store.db import connect, connect_async, describe
from cloud.store.migrate import migrate
from protocols.contract.topics import UPLINK_FILTER

log = logging.getLogger(__name__)

MAINTENANCE_INTERVAL_S = 3600.0
UPKEEP_TICK_S = 10.0  # how often upkeep looks at what is due
STATUS_INTERVAL_S = 30.0


class Worker:
    """One worker process: ingest, the rules, the dispatcher, the notifier and upkeep."""

    def __init__(self, config: CloudConfig) -> None:
        self.config = config
        self.counters: Counter[str] = Counter()
        self._started_at = datetime.now(UTC)
        self.rules = RuleEngine() if config.rules else None
        self.ingest = Ingester(config, rules=self.rules, counters=self.counters)
        self.dispatcher = Dispatcher(config)
        self.notifier = Notifier(
            config.database_url, worker_id=config.mqtt.client_id, allow=config.webhook_allow
        )

    @property
    def layout(self) -> str:
        return self.ingest.layout

    @property
    def consumer(self) -> Consumer | None:
        return self.ingest.consumer

    async def run(self) -> None:
        """Ingest until cancelled, the other parts beside it."""
        await self.ingest.open()
        async with Consumer(self.config.mqtt, UPLINK_FILTER) as consumer:
            log.info(
                "ingesting %s from %s into %s (%s layout, %s subscription)",
                UPLINK_FILTER,
                self.config.mqtt.url.split("@")[-1],
                describe(self.config.database_url),
                self.layout,
                f"shared '{self.config.mqtt.group}'" if consumer.shared else "plain",
            )
            parts = [
                asyncio.create_task(supervise(name, run, self.counters), name=name)
                for name, run in (
                    ("upkeep", self._upkeep),
                    ("dispatcher", self.dispatcher.run),
                    ("notifier", self.notifier.run),
                )
            ]
            try:
                await self.ingest.consume(consumer)
            finally:
                for task in parts:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await self._final_report()
                await self.ingest.close()

    async def _upkeep(self) -> None:
        """Partitions, the offline sweep and this worker's status row, on their own
        connection."""
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
                        if self.rules is not None and now >= next_sweep:
                            changed = await offline.sweep(conn, self.rules)
                            self.counters["offline_alarm_changes"] += changed
                            next_sweep = now + self.config.offline_sweep_s
                        if now >= next_status:
                            await self._report(conn)
                            next_status = now + STATUS_INTERVAL_S
                        await asyncio.sleep(min(UPKEEP_TICK_S, self.config.offline_sweep_s))
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
