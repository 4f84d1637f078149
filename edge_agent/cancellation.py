"""Keeping a cancellation that Python 3.11 drops.

On Python 3.11, ``asyncio.wait_for`` returns the result and forgets the cancellation when a
task is cancelled just as the future it waits for completes (3.12 fixed it). aiomqtt waits
for every CONNACK, SUBACK and PUBACK with ``wait_for``, so a gateway told to stop the moment
a PUBACK arrives would carry on publishing, and the next ``asyncio.timeout`` it enters takes
the still-counted cancellation for its own timeout: the agent never stops (seen as an edge
test's teardown hanging once in a few runs).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def keep_cancellation() -> Iterator[None]:
    """Raise CancelledError after the block when this task was cancelled during it and the
    block still finished normally: the cancellation was dropped on the way."""
    task = asyncio.current_task()
    requested = task.cancelling() if task is not None else 0
    yield
    if task is not None and task.cancelling() > requested:
        raise asyncio.CancelledError
