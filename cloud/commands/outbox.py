"""The dispatcher's side of the outbox: which rows are due, and marking them published.

Each pass is one transaction that locks the rows it publishes (FOR UPDATE) until the broker
has acknowledged them, then marks them. So a cancel or an ack arriving meanwhile waits a
few milliseconds and then sees the true state, and a dispatcher killed mid-pass leaves the
rows as they were: the next leader publishes them again and the device dedupes by cmd_id.
The rows carry their device's key generation, so each message is signed with the key that
device holds (cloud.commands.keys).
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import psycopg
from psycopg.rows import dict_row

from cloud.commands import states
from cloud.commands.keys import Signer
from cloud.commands.states import State
from protocols.contract import payloads
from protocols.contract.codec import encode
from protocols.contract.topics import Channel, Topic
from protocols.errors import PayloadError

# One full sweep publishes at most this many commands per transaction, then goes on.
SWEEP_CHUNK = 2000

# Queued commands of online devices, and those sent without an ack to devices that just
# came online or, in a full sweep, longer than ``stale_s`` ago (the publish may have been
# lost: a broker restart without persistence, a device that reconnected without the cloud
# seeing it offline; the device runs each cmd_id once), in the order each device must
# receive them.
DUE = f"""
SELECT c.cmd_id, c.device_id, c.type, c.args, c.created_at, c.expires_at,
       d.command_key_generation
FROM command c JOIN device_state s ON s.device_id = c.device_id
JOIN device d ON d.id = c.device_id
WHERE s.online AND c.expires_at > now()
  AND (c.state = '{State.QUEUED}'
       OR (c.state = '{State.SENT}' AND c.device_id = ANY(%(resend)s))
       OR (c.state = '{State.SENT}' AND %(stale_s)s::float8 IS NOT NULL
           AND c.sent_at < now() - make_interval(secs => %(stale_s)s::float8)))
  AND (%(devices)s::text[] IS NULL OR c.device_id = ANY(%(devices)s))
ORDER BY c.device_id, c.created_at, c.cmd_id
LIMIT %(limit)s
FOR UPDATE OF c
"""
UNPUBLISHED_LEASES = """
SELECT l.device_id, l.version, l.leased, l.leased_until, l.grace_s, l.cutoff_when_not_leased,
       l.lease_id, d.command_key_generation
FROM lease_term l JOIN device d ON d.id = l.device_id
WHERE l.version > l.published_version
  AND (%(devices)s::text[] IS NULL OR l.device_id = ANY(%(devices)s))
ORDER BY l.device_id
FOR UPDATE OF l
"""
MARK_LEASE_PUBLISHED = """
UPDATE lease_term SET published_version = %s, published_at = now() WHERE device_id = %s
"""


class Sink(Protocol):
    """Where messages go: the Publisher, or anything that publishes in order."""

    async def publish(self, messages: list[tuple[str, bytes, bool]]) -> None: ...


def new_id(prefix: str) -> str:
    """A readable, roughly time-ordered id: ``c-18f3a2b4c5d-9f1e2a3b4c5d``."""
    return f"{prefix}-{time.time_ns() // 1_000_000:x}-{secrets.token_hex(6)}"


def epoch_ms(moment: datetime) -> int:
    """A stored time as wire time (Unix epoch milliseconds)."""
    return int(moment.timestamp() * 1000)


def command_message(row: dict[str, Any], signer: Signer | None) -> tuple[str, bytes, bool]:
    """The ``down/cmd`` publish of one command row (QoS 1, not retained), signed with the
    device's key of the row's ``command_key_generation`` when there is a ``signer``."""
    command = payloads.Command(
        cmd_id=row["cmd_id"],
        type=row["type"],
        args=row["args"],
        issued_at=epoch_ms(row["created_at"]),
        expires_at=epoch_ms(row["expires_at"]),
    )
    topic = str(Topic(row["device_id"], Channel.CMD))  # a bad device id fails here first
    if signer is not None:
        command = signer.sign(command, row["device_id"], row["command_key_generation"])
    return topic, encode(command), False


def lease_message(row: dict[str, Any], signer: Signer | None) -> tuple[str, bytes, bool]:
    """The retained ``down/lease`` publish of one lease_term row, issued now (and signed
    as commands are)."""
    term = payloads.LeaseTerm(
        version=row["version"],
        leased=row["leased"],
        cutoff_when_not_leased=row["cutoff_when_not_leased"],
        issued_at=int(time.time() * 1000),
        leased_until=epoch_ms(row["leased_until"]) if row["leased_until"] else None,
        grace_s=row["grace_s"],
        lease_id=row["lease_id"],
    )
    topic = str(Topic(row["device_id"], Channel.LEASE))
    if signer is not None:
        term = signer.sign(term, row["device_id"], row["command_key_generation"])
    return topic, encode(term), True


async def dispatch_commands(
    conn: psycopg.AsyncConnection,
    sink: Sink,
    *,
    signer: Signer | None = None,
    devices: Collection[str] | None = None,
    resend: Collection[str] = (),
    stale_s: float | None = None,
) -> Counter[str]:
    """Expire what is past its expiry, then publish what is due; None = every device.

    ``resend``: devices that just came online, whose sent-but-unacknowledged commands go
    out again; ``stale_s``: also those sent longer ago than this without an ack. Returns
    counts: expired, published.
    """
    counts: Counter[str] = Counter()
    device_list = sorted(devices) if devices is not None else None
    params = {
        "devices": device_list,
        "resend": sorted(resend),
        "limit": SWEEP_CHUNK,
        "stale_s": stale_s,
    }
    async with conn.transaction():
        cur = await conn.execute(states.EXPIRE, params)
        counts["expired"] += cur.rowcount
    while True:
        async with conn.transaction():
            async with conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(DUE, params)
                rows = await cur.fetchall()
            messages, sent = [], []
            for row in rows:
                try:
                    messages.append(command_message(row, signer))
                    sent.append(row["cmd_id"])
                except PayloadError as err:  # a schema violation or a bad topic
                    reason = f"the cloud cannot publish this command: {err}"
                    await conn.execute(states.UNSENDABLE, (reason[:500], row["cmd_id"]))
                    counts["unsendable"] += 1
            if messages:
                await sink.publish(messages)
                await conn.execute(states.SEND, (sent,))
        counts["published"] += len(sent)
        # Chunks only happen in full sweeps (resend is empty there), so a second query
        # never picks up what the first just sent.
        if len(rows) < SWEEP_CHUNK or resend:
            return counts


async def publish_leases(
    conn: psycopg.AsyncConnection,
    sink: Sink,
    *,
    signer: Signer | None = None,
    devices: Collection[str] | None = None,
) -> int:
    """Publish every lease term newer than what was published (retained); how many."""
    params = {"devices": sorted(devices) if devices is not None else None}
    async with conn.transaction():
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(UNPUBLISHED_LEASES, params)
            rows = await cur.fetchall()
        if rows:
            await sink.publish([lease_message(row, signer) for row in rows])
            async with conn.cursor() as cur:
                await cur.executemany(
                    MARK_LEASE_PUBLISHED, [(row["version"], row["device_id"]) for row in rows]
                )
    return len(rows)


@dataclass
class Wakes:
    """What notifications asked for since the last pass, by device."""

    commands: set[str]
    online: set[str]
    leases: set[str]

    @classmethod
    def empty(cls) -> Wakes:
        return cls(set(), set(), set())

    def add(self, payload: str) -> None:
        """Take one ``'<what>:<device_id>'`` notification payload; ignore unknown kinds."""
        kind, _, device_id = payload.partition(":")
        target = {"cmd": self.commands, "online": self.online, "lease": self.leases}.get(kind)
        if target is not None and device_id:
            target.add(device_id)

    def __bool__(self) -> bool:
        return bool(self.commands or self.online or self.leases)
