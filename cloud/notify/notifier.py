"""The notifier: alarm_notification rows -> signed HTTP POSTs to webhooks, in every worker.

Every worker runs one; they share the work through the outbox's claims (outbox.py), so no
leader is needed and a dead worker only delays the deliveries it had claimed until their
lease runs out. It wakes on ``LISTEN voltrent_notify`` (``alarm_event_notify`` says
which webhook has something new), when one of its deliveries finishes (the next in that
webhook's queue may go), when the earliest backoff ends, and on a sweep every few seconds
that catches a notification lost with a connection.

HTTP runs in a thread pool of its own, ``concurrency`` wide: the event loop never waits on a
receiver, a receiver that hangs holds one thread until the timeout, and at most
``concurrency`` requests are open at once. A failed attempt (anything but a 2xx, or no
answer) is tried again after an exponential backoff with jitter, until ``max_attempts`` or
``give_up_after_s``; then the row is ``failed`` with its last error, and the queue behind
it moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg

from cloud.allow_list import AllowList
from cloud.errors import StoreUnavailable
from cloud.notify import outbox, sender
from cloud.notify.outbox import Job
from cloud.notify.signing import sign
from cloud.store.db import connect_async

log = logging.getLogger(__name__)

CHANNEL = "voltrent_notify"
# Never poll faster than this, even when a head is due but another worker holds its lock.
MIN_WAIT_S = 0.05


def backoff(attempts: int, *, base_s: float, max_s: float, rng: random.Random) -> float:
    """Seconds before the attempt after ``attempts`` failed ones: ``base_s`` doubling up to
    ``max_s``, then drawn from its upper half, so receivers coming back are not hit by every
    retry at once."""
    delay = min(max_s, base_s * 2 ** min(max(attempts - 1, 0), 40))
    return rng.uniform(delay / 2, delay)


def body_of(job: Job) -> bytes:
    """The bytes sent (and signed): the payload as stored, so the same on every retry."""
    return json.dumps(job.payload, ensure_ascii=False, separators=(",", ":")).encode()


def headers_of(job: Job, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-VoltRent-Delivery": str(job.id),
        "X-VoltRent-Event": job.event,
        "X-VoltRent-Timestamp": str(timestamp),
        "X-VoltRent-Signature": sign(job.secret, timestamp, body),
    }


class Notifier:
    """Run with ``await Notifier(url, worker_id=...).run()``; cancel to stop.

    Timings are arguments so tests can make them small; the defaults suit production.
    ``lease_s`` must outlast a request (connect + answer within ``timeout_s`` each).
    ``allow`` names the receivers on private networks it may reach (destinations.py).
    """

    def __init__(
        self,
        database_url: str,
        *,
        worker_id: str,
        concurrency: int = 8,
        timeout_s: float = 5.0,
        lease_s: float = 60.0,
        sweep_s: float = 5.0,
        backoff_s: float = 5.0,
        max_backoff_s: float = 600.0,
        give_up_after_s: float = 86_400.0,
        max_attempts: int = 200,
        restart_s: float = 5.0,
        allow: AllowList | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if lease_s < 3 * timeout_s:
            raise ValueError(f"lease_s ({lease_s}) must be at least 3 x timeout_s ({timeout_s})")
        self.database_url = database_url
        self.worker_id = worker_id
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.lease_s = lease_s
        self.sweep_s = sweep_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.give_up_after_s = give_up_after_s
        self.max_attempts = max_attempts
        self.restart_s = restart_s
        self.allow = allow or AllowList()
        self.counters: Counter[str] = Counter()
        self._rng = random.Random()

    async def run(self) -> None:
        """Deliver until cancelled; start over after any store failure."""
        executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="notify")
        try:
            while True:
                try:
                    await self._run_once(executor)
                except (psycopg.Error, StoreUnavailable) as err:
                    self.counters["restarts"] += 1
                    log.warning("notifier: %s; starting over in %.0f s", err, self.restart_s)
                    await asyncio.sleep(self.restart_s)
        finally:
            # a thread stuck on a receiver ends at its timeout; nobody waits for it
            executor.shutdown(wait=False, cancel_futures=True)

    async def _run_once(self, executor: ThreadPoolExecutor) -> None:
        listen = await connect_async(self.database_url)
        await listen.set_autocommit(True)
        async with listen:
            await listen.execute(f"LISTEN {CHANNEL}")
            work = await connect_async(self.database_url)
            await work.set_autocommit(True)
            async with work:
                wake = asyncio.Event()
                listener = asyncio.create_task(self._listen(listen, wake), name="notify-listen")
                in_flight: set[asyncio.Task[None]] = set()
                try:
                    await self._loop(work, executor, wake, listener, in_flight)
                finally:
                    listener.cancel()
                    await self._drain(in_flight)
                    with contextlib.suppress(asyncio.CancelledError, psycopg.Error):
                        await listener

    async def _listen(self, listen: psycopg.AsyncConnection, wake: asyncio.Event) -> None:
        try:
            async for _ in listen.notifies():
                wake.set()
        finally:
            wake.set()  # a lost connection wakes the loop, which then sees the error

    async def _loop(
        self,
        work: psycopg.AsyncConnection,
        executor: ThreadPoolExecutor,
        wake: asyncio.Event,
        listener: asyncio.Task[None],
        in_flight: set[asyncio.Task[None]],
    ) -> None:
        while True:
            wake.clear()
            if listener.done():
                listener.result()  # raises what ended it
                raise StoreUnavailable("the LISTEN connection closed")
            for task in [t for t in in_flight if t.done()]:
                in_flight.discard(task)
                task.result()  # a delivery that could not record its result: start over
            free = self.concurrency - len(in_flight)
            if free > 0:
                jobs = await outbox.claim(
                    work, worker_id=self.worker_id, limit=free, lease_s=float(self.lease_s)
                )
                self.counters["claimed"] += len(jobs)
                for job in jobs:
                    task = asyncio.create_task(self._deliver(work, executor, job))
                    task.add_done_callback(lambda _: wake.set())
                    in_flight.add(task)
                free -= len(jobs)
            wait_s = self.sweep_s
            if free > 0:
                due = await outbox.next_due(work)
                if due is not None:
                    wait_s = min(max(due, MIN_WAIT_S), self.sweep_s)
            # asyncio.timeout, not wait_for: 3.11's wait_for can drop a cancellation
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s):
                    await wake.wait()

    async def _deliver(
        self, work: psycopg.AsyncConnection, executor: ThreadPoolExecutor, job: Job
    ) -> None:
        body = body_of(job)
        headers = headers_of(job, body, int(time.time()))
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(
            executor, sender.post, job.url, body, headers, self.timeout_s, self.allow
        )
        if outcome.status is not None and outcome.delivered:
            recorded = await outbox.mark_delivered(work, job, outcome.status)
            state = "delivered" if recorded else None
        else:
            delay_s = backoff(job.attempts, base_s=self.backoff_s, max_s=self.max_backoff_s,
                              rng=self._rng)  # fmt: skip
            state = await outbox.mark_not_delivered(
                work, job, status=outcome.status, error=outcome.error, delay_s=delay_s,
                max_attempts=self.max_attempts, give_up_s=float(self.give_up_after_s),
            )  # fmt: skip
        self._count(job, state, outcome)

    def _count(self, job: Job, state: str | None, outcome: sender.Outcome) -> None:
        if state is None:
            # the lease ran out and another claim took the row: its result stands
            self.counters["lost_claims"] += 1
            log.warning("notifier: delivery %d outlived its lease of %.0f s", job.id,
                        self.lease_s)  # fmt: skip
        elif state == "delivered":
            self.counters["delivered"] += 1
        elif state == "pending":
            self.counters["retried"] += 1
            log.info("notifier: delivery %d to webhook %d, attempt %d: %s; will retry",
                     job.id, job.webhook_id, job.attempts, outcome.error)  # fmt: skip
        else:
            self.counters["failed"] += 1
            log.warning("notifier: delivery %d to webhook %d failed for good after %d"
                        " attempt(s): %s", job.id, job.webhook_id, job.attempts,
                        outcome.error)  # fmt: skip

    async def _drain(self, in_flight: set[asyncio.Task[None]]) -> None:
        """Let deliveries under way record their result (a POST already answered would
        otherwise go out again after its lease), then cancel what is left."""
        if in_flight:
            await asyncio.wait(in_flight, timeout=self.timeout_s + 1)
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)
        in_flight.clear()
