"""A cancellation that arrives as wait_for's future completes still stops the task."""

import asyncio
import sys

from edge_agent.cancellation import keep_cancellation


async def _cancelled_as_the_reply_arrives(guarded: bool) -> list[str]:
    reply = asyncio.get_running_loop().create_future()
    steps: list[str] = []

    async def publish() -> None:
        if guarded:
            with keep_cancellation():
                await asyncio.wait_for(reply, 10)
        else:
            await asyncio.wait_for(reply, 10)
        steps.append("carried on")

    task = asyncio.create_task(publish())
    await asyncio.sleep(0)  # the task now waits for the reply
    reply.set_result(None)  # the PUBACK, and the stop request in the same loop turn
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        steps.append("cancelled")
    return steps


def test_a_cancellation_met_by_the_reply_is_kept():
    if sys.version_info < (3, 12):
        # the race is real here: unguarded, the task carries on after its cancel
        assert asyncio.run(_cancelled_as_the_reply_arrives(guarded=False)) == ["carried on"]
    assert asyncio.run(_cancelled_as_the_reply_arrives(guarded=True)) == ["cancelled"]
