"""The dispatcher: one leader across all workers publishes commands and lease terms.

Leadership is a PostgreSQL session advisory lock on the dispatcher's listening connection:
the worker that holds it dispatches, the others try again every few seconds, and a leader
that dies (its connection closes) frees the lock for the next. The leader LISTENs for the
triggers of migration 0006 (a command queued, a device online, a lease term changed) and
acts on them at once; a periodic sweep expires old commands and catches anything missed
(a notification lost with a connection, the broker down during a pass). On becoming leader
it sweeps first, so whatever was queued while no leader ran goes out.

With a master key (``VOLTRENT_COMMAND_KEY``) every command and lease term is signed with
its device's key (cloud.commands.keys); without one they go out unsigned, which
gateways refuse unless set to allow it, and the dispatcher says so once at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

import psycopg

from cloud.commands import outbox
from cloud.commands.errors import DispatchError, PublishError
from cloud.commands.keys import Signer
from cloud.commands.publisher import Publisher
from cloud.config import CloudConfig
from cloud.errors import StoreUnavailable
from cloud.store.db import connect_async

log = logging.getLogger(__name__)

CHANNEL = "voltrent_dispatch"
LOCK_KEY = 0x76726470  # "vrdp": the dispatcher leader, one per database
PUBLISH_RETRY_S = 1.0


class Dispatcher:
    """Run with ``await Dispatcher(config).run()``; cancel to stop."""

    def __init__(self, config: CloudConfig) -> None:
        self.config = config
        self.counters: Counter[str] = Counter()
        self.leader = False
        self.signer = Signer(config.command_key) if config.command_key else None

    async def run(self) -> None:
        """Stand by, lead when the lock is free, and start over after any store failure."""
        if self.signer is None:
            log.warning(
                "dispatcher: no VOLTRENT_COMMAND_KEY: commands and lease terms go out"
                " unsigned, and gateways refuse them unless they allow unsigned ones"
            )
        else:
            log.info("dispatcher: signing commands (key fingerprint %s)", self.signer.fingerprint)
        while True:
            try:
                await self._run_once()
            except (psycopg.Error, StoreUnavailable, DispatchError) as err:
                self.leader = False
                self.counters["restarts"] += 1
                log.warning("dispatcher: %s; starting over in %.0f s", err,
                            self.config.dispatch_standby_retry_s)  # fmt: skip
                await asyncio.sleep(self.config.dispatch_standby_retry_s)

    async def _run_once(self) -> None:
        listen = await connect_async(self.config.database_url)
        await listen.set_autocommit(True)
        async with listen:
            await self._wait_for_leadership(listen)
            await listen.execute(f"LISTEN {CHANNEL}")
            work = await connect_async(self.config.database_url)
            await work.set_autocommit(True)
            client_id = f"{self.config.mqtt.client_id}-dispatch"
            async with work, Publisher(self.config.mqtt.for_dispatcher(), client_id) as publisher:
                self.leader = True
                self.counters["leader_terms"] += 1
                log.info("dispatcher: leader (publishing as %s)", client_id)
                try:
                    await self._lead(listen, work, publisher)
                finally:
                    self.leader = False

    async def _wait_for_leadership(self, listen: psycopg.AsyncConnection) -> None:
        announced = False
        while True:
            cur = await listen.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
            row = await cur.fetchone()
            if row and row[0]:
                return
            if not announced:
                log.info("dispatcher: standing by (another worker leads)")
                announced = True
            await asyncio.sleep(self.config.dispatch_standby_retry_s)

    async def _lead(
        self, listen: psycopg.AsyncConnection, work: psycopg.AsyncConnection, publisher: Publisher
    ) -> None:
        loop = asyncio.get_running_loop()
        sweep_s = self.config.dispatch_sweep_s
        next_sweep = loop.time()  # the first pass is a full sweep: catch up
        pending = outbox.Wakes.empty()
        retry_at = None  # set while the broker refuses: pending wakes wait until then
        while True:
            if loop.time() >= next_sweep:
                if await self._pass(self._sweep, work, publisher):
                    next_sweep = loop.time() + sweep_s
                else:
                    next_sweep = loop.time() + PUBLISH_RETRY_S
            timeout = max(0.0, next_sweep - loop.time())
            if retry_at is not None:
                timeout = min(timeout, max(0.0, retry_at - loop.time()))
            await self._collect(listen, pending, timeout, block=retry_at is not None)
            if not pending or (retry_at is not None and loop.time() < retry_at):
                continue
            if await self._pass(self._wakes, work, publisher, pending):
                pending, retry_at = outbox.Wakes.empty(), None
            else:
                retry_at = loop.time() + PUBLISH_RETRY_S

    async def _collect(
        self, listen: psycopg.AsyncConnection, wakes: outbox.Wakes, timeout: float,
        *, block: bool = False,
    ) -> None:  # fmt: skip
        """Wait up to ``timeout`` for a notification (also with wakes in hand when ``block``:
        the broker refused them, so they wait for the retry), then take every one here."""
        if not wakes or block:
            async for notify in listen.notifies(timeout=timeout, stop_after=1):
                wakes.add(notify.payload)
        if wakes:
            async for notify in listen.notifies(timeout=0):
                wakes.add(notify.payload)

    async def _pass(self, action, *args) -> bool:
        """Run one pass; a broker that does not take the publishes is retried later (the
        rows stayed as they were), anything about the store ends this leadership."""
        try:
            await action(*args)
            return True
        except PublishError as err:
            self.counters["publish_failures"] += 1
            log.warning("dispatcher: %s; retrying in %.0f s", err, PUBLISH_RETRY_S)
            return False

    async def _sweep(self, work: psycopg.AsyncConnection, publisher: Publisher) -> None:
        counts = await outbox.dispatch_commands(
            work, publisher, signer=self.signer, stale_s=self.config.resend_unacked_after_s
        )
        counts["leases_published"] = await outbox.publish_leases(
            work, publisher, signer=self.signer
        )
        self._count(counts)

    async def _wakes(
        self, work: psycopg.AsyncConnection, publisher: Publisher, wakes: outbox.Wakes
    ) -> None:
        counts: Counter[str] = Counter()
        devices = wakes.commands | wakes.online
        if devices:
            counts = await outbox.dispatch_commands(
                work, publisher, signer=self.signer, devices=devices, resend=wakes.online
            )
        if wakes.leases:
            counts["leases_published"] = await outbox.publish_leases(
                work, publisher, signer=self.signer, devices=wakes.leases
            )
        self._count(counts)

    def _count(self, counts: Counter[str]) -> None:
        self.counters.update({k: v for k, v in counts.items() if v})
        if counts["published"] or counts["expired"] or counts["leases_published"]:
            log.debug(
                "dispatcher: %d command(s) published, %d expired, %d lease term(s) published",
                counts["published"],
                counts["expired"],
                counts["leases_published"],
            )


async def run_dispatcher(config: CloudConfig) -> None:
    """The dispatcher until cancelled (for the worker's task group)."""
    dispatcher = Dispatcher(config)
    with contextlib.suppress(asyncio.CancelledError):
        await dispatcher.run()
