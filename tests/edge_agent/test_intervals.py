"""A sleep on a reporting interval measures again when the interval changes."""

from __future__ import annotations

import asyncio

from edge_agent.intervals import IntervalSleeper

DEADLINE_S = 10.0  # only what a failing test waits for: a sleep that never ends


def test_a_lowered_interval_ends_the_sleep_at_once():
    async def scenario() -> None:
        sleeper = IntervalSleeper()
        interval = {"s": 86_400.0}
        sleeps = [asyncio.create_task(sleeper.sleep(lambda: interval["s"])) for _ in range(3)]
        await asyncio.sleep(0.05)
        sleeper.changed()  # nothing changed: every one sleeps on
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in sleeps)
        interval["s"] = 0.01  # long passed since the sleeps began
        sleeper.changed()
        await asyncio.wait_for(asyncio.gather(*sleeps), DEADLINE_S)

    asyncio.run(scenario())


def test_a_raised_interval_keeps_the_sleep_going():
    async def scenario() -> None:
        sleeper = IntervalSleeper()
        interval = {"s": 0.2}
        task = asyncio.create_task(sleeper.sleep(lambda: interval["s"]))
        await asyncio.sleep(0.05)
        interval["s"] = 86_400.0
        sleeper.changed()
        await asyncio.sleep(0.4)  # past the old interval
        assert not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
