"""Waiting for a stop request with a deadline, without losing a cancellation."""

from __future__ import annotations

import asyncio


async def wait_for_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait until ``event`` is set (True) or ``timeout`` seconds pass (False).

    asyncio.timeout, not asyncio.wait_for: on Python 3.11, a cancellation that races with
    wait_for's own timeout can come out as TimeoutError, and a loop that treats a timeout as
    "carry on" then never stops (seen as a simulated fleet that would not shut down).
    """
    try:
        async with asyncio.timeout(max(timeout, 0.0)):
            await event.wait()
    except TimeoutError:
        return False
    return True
