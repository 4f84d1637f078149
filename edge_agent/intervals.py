"""Sleeping on an interval that the cloud may change while the sleep lasts.

A plain ``asyncio.sleep(interval)`` keeps the interval it started with: a report interval
set to a day by mistake and lowered a minute later would still hold the loop for the rest
of the day. ``IntervalSleeper.sleep`` reads the interval again whenever ``changed()`` is
called and ends as soon as the new interval, counted from the same start, has passed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class IntervalSleeper:
    """``await sleeper.sleep(lambda: config.x)`` in each loop; ``sleeper.changed()`` wakes
    every one of them to measure again."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def changed(self) -> None:
        """The intervals changed: every sleep measures its interval again now."""
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def sleep(self, interval: Callable[[], float]) -> None:
        """Return once ``interval()`` seconds have passed since the call, ``interval()``
        read at the start and again after every ``changed()``."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while (remaining := started + interval() - loop.time()) > 0:
            waiter = loop.create_future()
            self._waiters.add(waiter)
            try:
                await asyncio.wait((waiter,), timeout=remaining)
            finally:
                self._waiters.discard(waiter)
                waiter.cancel()
