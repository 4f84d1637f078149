"""The ``offline`` alarm: nothing heard from a device for longer than its threshold.

Silence cannot be seen on ingest, so a sweep looks for it: every ``offline_sweep_s`` one
worker (a transaction advisory try-lock; the others skip that round) compares each
device's ``last_seen_at`` with its model's threshold. A device never heard from at all is
not deployed yet and raises nothing. The alarm clears (and, by default, resolves) at the
first sweep after the device is heard from again. Its machine is a ``rule_state`` row like
the others, so an alarm resolved by hand while the device is still silent is not raised
again until the device has come back and gone silent once more.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from cloud.rules import lifecycle
from cloud.rules.catalogue import Spec
from cloud.rules.engine import RuleEngine
from cloud.rules.hysteresis import OUTSIDE
from cloud.rules.machines import ms

SWEEP_LOCK = 0x7672736F  # "vrso": one sweeping worker at a time
RULE = "alarm:offline"

CANDIDATES = """
SELECT s.device_id, d.model, s.last_seen_at, r.device_id IS NOT NULL AS raised, now() AS now
FROM device_state s JOIN device d ON d.id = s.device_id
LEFT JOIN rule_state r ON r.device_id = s.device_id AND r.rule = 'alarm:offline'
                          AND r.subject = '' AND NOT r.resting
WHERE s.last_seen_at < now() - make_interval(secs => %s) OR r.device_id IS NOT NULL
ORDER BY s.device_id"""
SAVE = "INSERT INTO rule_state (device_id, rule, subject, state) VALUES (%s, %s, '', %s)"
DROP = "DELETE FROM rule_state WHERE device_id = %s AND rule = %s AND subject = ''"


async def sweep(conn: psycopg.AsyncConnection, engine: RuleEngine) -> int:
    """One round on an autocommit connection; how many alarms it raised or cleared."""
    async with conn.transaction():
        cur = await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (SWEEP_LOCK,))
        if not (await cur.fetchone())[0]:  # type: ignore[index]
            return 0
        await engine.refresh(conn)
        cur = await conn.execute(CANDIDATES, (engine.shortest_offline_s(),))
        transitions = []
        async with conn.cursor() as write:
            for device_id, model, last_seen, raised, now in await cur.fetchall():
                spec = engine.settings(model).specs["offline"]
                assert spec.raise_ is not None
                silent_s = (now - last_seen).total_seconds() if last_seen is not None else 0.0
                silent = last_seen is not None and silent_s > spec.raise_
                if not raised and silent and spec.enabled:
                    since = last_seen + timedelta(seconds=spec.raise_)
                    transitions.append(_transition(device_id, spec, lifecycle.RAISED, since,
                                                   silent_s, last_seen))  # fmt: skip
                    state = {"state": OUTSIDE, "since_ms": ms(since), "pending_since_ms": None,
                             "last_ms": ms(now)}  # fmt: skip
                    await write.execute(SAVE, (device_id, RULE, Jsonb(state)))
                elif raised and not silent:
                    transitions.append(_transition(device_id, spec, lifecycle.CLEARED, last_seen,
                                                   silent_s, last_seen))  # fmt: skip
                    await write.execute(DROP, (device_id, RULE))
        return await lifecycle.apply(conn, transitions)


def _transition(
    device_id: str, spec: Spec, kind: str, time: datetime, silent_s: float, last_seen: datetime
) -> lifecycle.Transition:
    if kind == lifecycle.RAISED:
        message = f"nothing heard for {silent_s:.0f} s (more than {spec.raise_:.0f} s)"
    else:
        message = "heard from again"
    return lifecycle.Transition(
        device_id=device_id, spec=spec, subject="", kind=kind, time=time,
        value=round(silent_s, 1), threshold=spec.raise_, message=message,
        sample={"last_seen_at": last_seen.isoformat()},
    )  # fmt: skip
