"""The MQTT uplink: drains the outbox in batches, keeps the retained status, takes downlink.

A batch leaves the outbox only after the broker's PUBACK (QoS 1), so a connection lost
mid-publish costs a redelivery, never a sample; the cloud dedupes on (device_id, seq).
Events go first and at once; telemetry goes every upload interval, all of the backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt

from edge_agent.cancellation import keep_cancellation
from edge_agent.config import AgentConfig
from edge_agent.health import Health, SourceState
from edge_agent.intervals import IntervalSleeper
from edge_agent.outbox import Outbox, OutboxRecord, RecordKind
from edge_agent.sources.base import Backoff
from edge_agent.state_store import StateStore
from protocols.contract import Channel, Status, Topic, device_downlink_filter, encode, validate
from protocols.contract.codec import PayloadTooLarge, encode_document
from protocols.errors import PayloadError

log = logging.getLogger(__name__)

MAX_QUEUED_DOWNLINK = 1000
PUBACK_TIMEOUT_S = 30.0
_CHANNELS = {
    RecordKind.TELEMETRY: (Channel.TELEMETRY, "samples"),
    RecordKind.EVENT: (Channel.EVENT, "events"),
}
DownlinkHandler = Callable[[Topic, bytes], Awaitable[None] | None]


class Uplink:
    """One MQTT connection for one device, reconnecting with backoff and jitter."""

    def __init__(
        self,
        config: AgentConfig,
        outbox: Outbox,
        status: Callable[[bool], Status],
        on_downlink: DownlinkHandler | None = None,
        acks: StateStore | None = None,
        intervals: IntervalSleeper | None = None,
    ) -> None:
        self.config = config
        self.outbox = outbox
        self.acks = acks  # command acks wait there (see edge_agent.state_store)
        # woken by whoever replaces ``config`` with other intervals
        self.intervals = intervals or IntervalSleeper()
        self._status = status
        self._on_downlink = on_downlink
        self.health = Health(f"{config.device_id}/uplink", log)
        self.counters = {
            "messages_published": 0,
            "samples_published": 0,
            "events_published": 0,
            "acks_published": 0,
            "payload_bytes_published": 0,
            "connects": 0,
            "downlink_messages": 0,
            "downlink_errors": 0,
        }
        self.connected = asyncio.Event()
        self._urgent = asyncio.Event()

    # -- called by the recorder ------------------------------------------------------
    def wake(self, urgent: bool) -> None:
        """New records: events are sent at once, telemetry at the next upload time."""
        if urgent or self.config.reporting.upload_interval_s <= 0:
            self._urgent.set()

    # -- connection ------------------------------------------------------------------
    def _client(self) -> aiomqtt.Client:
        mqtt = self.config.mqtt
        password = mqtt.password
        if mqtt.password_file is not None:
            password = mqtt.password_file.read_text().strip()
        tls_context = None
        if mqtt.use_tls:
            tls_context = ssl.create_default_context(
                cafile=str(mqtt.tls.ca_file) if mqtt.tls.ca_file else None
            )
            if mqtt.tls.cert_file:
                tls_context.load_cert_chain(
                    str(mqtt.tls.cert_file), str(mqtt.tls.key_file) if mqtt.tls.key_file else None
                )
            if mqtt.tls.insecure:
                tls_context.check_hostname = False
        will_topic = str(Topic(self.config.device_id, Channel.STATUS))
        return aiomqtt.Client(
            mqtt.host,
            mqtt.port,
            username=mqtt.username,
            password=password,
            identifier=mqtt.client_id or self.config.device_id,
            clean_session=False,  # the broker keeps downlink commands while we are away
            keepalive=mqtt.keepalive_s,
            will=aiomqtt.Will(will_topic, encode(Status(online=False)), qos=1, retain=True),
            tls_context=tls_context,
            timeout=PUBACK_TIMEOUT_S,
            # an ack right after the PUBACK of the command it answers would otherwise wait
            # ~40 ms (Nagle's algorithm against the broker's delayed ACK); measured with the
            # command round-trip benchmark
            socket_options=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),),
            # A flood on the downlink must not grow the box's memory without end: past this
            # aiomqtt drops messages (logged); a dropped command is sent again by the cloud,
            # which resends what stays unacknowledged.
            max_queued_incoming_messages=MAX_QUEUED_DOWNLINK,
        )

    async def run(self) -> None:
        """Stay connected forever; every failure is counted and retried with backoff."""
        backoff = Backoff(first=1.0, cap=60.0)
        while True:
            try:
                async with contextlib.AsyncExitStack() as stack:
                    with keep_cancellation():
                        client = await stack.enter_async_context(self._client())
                    self.counters["connects"] += 1
                    self.health.set_state(SourceState.OK)
                    backoff.reset()
                    self.connected.set()
                    await self._session(client)
            except* (aiomqtt.MqttError, OSError, TimeoutError) as group:
                # the session's task group wraps the error that ended the connection
                self.health.error(group.exceptions[0], "disconnect")
            finally:
                self.connected.clear()
            self.health.set_state(SourceState.RECONNECTING)
            await asyncio.sleep(backoff.next())

    async def _session(self, client: aiomqtt.Client) -> None:
        # subscribe before saying "online": the cloud sends queued commands the moment it
        # sees a device come online, and a first session has no subscription kept yet
        with keep_cancellation():
            await client.subscribe(device_downlink_filter(self.config.device_id), qos=1)
        await self.publish_status(client, online=True)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._drain_loop(client))
                group.create_task(self._status_loop(client))
                group.create_task(self._receive_loop(client))
        except asyncio.CancelledError:
            # a clean DISCONNECT does not fire the will: say goodbye ourselves
            with contextlib.suppress(aiomqtt.MqttError, OSError, TimeoutError):
                async with asyncio.timeout(2.0):
                    await self.publish_status(client, online=False)
            raise

    async def publish_status(self, client: aiomqtt.Client, online: bool = True) -> None:
        topic = str(Topic(self.config.device_id, Channel.STATUS))
        await _publish(client, topic, encode(self._status(online)), retain=True, timeout=None)

    async def _status_loop(self, client: aiomqtt.Client) -> None:
        while True:
            await self.intervals.sleep(lambda: self.config.reporting.status_interval_s)
            await self.publish_status(client)

    async def _receive_loop(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            self.counters["downlink_messages"] += 1
            try:
                topic = Topic.parse(str(message.topic))
            except PayloadError as err:
                self.health.error(err, "downlink_topic")  # error_kind says "disconnect"
                continue
            if self._on_downlink is None:
                continue
            try:
                result = self._on_downlink(topic, bytes(message.payload or b""))
                if result is not None:
                    await result
            except Exception as err:
                # the handler refuses bad input itself; this is its own defect. Ending the
                # session would not help: a retained message comes back with the next
                # subscription and ends it again while the outbox grows
                self.counters["downlink_errors"] += 1
                if self.health.error(f"{topic}: {err!r}", "downlink_error"):
                    log.error("downlink handler failed on %s", topic, exc_info=err)

    # -- draining --------------------------------------------------------------------
    async def _drain_loop(self, client: aiomqtt.Client) -> None:
        # the backlog goes out as soon as we are connected
        while True:
            await self.drain(client)
            interval = self.config.reporting.upload_interval_s
            try:
                async with asyncio.timeout(interval if interval > 0 else None):
                    await self._urgent.wait()
            except TimeoutError:
                pass
            self._urgent.clear()

    async def drain(self, client: aiomqtt.Client) -> int:
        """Publish every waiting ack, then everything in the outbox, events first; returns
        acks and records sent."""
        sent = await self._drain_acks(client)
        for kind in (RecordKind.EVENT, RecordKind.TELEMETRY):
            while records := self.outbox.batch(self.config.reporting.batch_size, kind):
                await self._publish_batch(client, kind, records)
                sent += len(records)
        return sent

    async def _drain_acks(self, client: aiomqtt.Client) -> int:
        # one message per ack (the ack schema holds one); deleted only after its PUBACK
        if self.acks is None:
            return 0
        topic = str(Topic(self.config.device_id, Channel.ACK))
        sent = 0
        while pending := self.acks.acks(self.config.reporting.batch_size):
            for ack in pending:
                await _publish(client, topic, ack.payload)
                self.acks.ack_sent(ack)
                self.counters["acks_published"] += 1
                self.counters["messages_published"] += 1
                sent += 1
        return sent

    async def _publish_batch(
        self, client: aiomqtt.Client, kind: RecordKind, records: list[OutboxRecord]
    ) -> None:
        channel, key = _CHANNELS[kind]
        now_ns = time.monotonic_ns()
        items: dict[int, dict[str, Any]] = {}
        for record in records:
            try:
                items[record.seq] = self._wire_item(record, now_ns)
            except ValueError as err:  # a payload that is not JSON any more
                self._drop(record.seq, err)
        try:
            payload = self._encode(channel, key, items)
        except PayloadTooLarge as err:
            # valid records, too many bytes together: send them in halves
            sendable = [r for r in records if r.seq in items]
            if len(sendable) == 1:
                self._drop(sendable[0].seq, err)
                return
            half = len(sendable) // 2
            await self._publish_batch(client, kind, sendable[:half])
            await self._publish_batch(client, kind, sendable[half:])
            return
        except PayloadError:
            # the recorder checks every record, so this is a defect; find the bad records
            # and drop them, never let one block the queue
            for seq, item in list(items.items()):
                try:
                    validate(channel.schema_name, {key: [item]})
                except PayloadError as err:
                    self._drop(seq, err)
                    del items[seq]
            if not items:
                return
            payload = self._encode(channel, key, items)
        topic = str(Topic(self.config.device_id, channel))
        await _publish(client, topic, payload)
        self.outbox.ack(items)
        self.counters["messages_published"] += 1
        self.counters[f"{key}_published"] += len(items)
        self.counters["payload_bytes_published"] += len(payload)

    def _encode(self, channel: Channel, key: str, items: dict[int, dict[str, Any]]) -> bytes:
        compress = self.config.reporting.compress
        return encode_document(channel, {key: [*items.values()]}, compress=compress)

    def _wire_item(self, record: OutboxRecord, now_ns: int) -> dict[str, Any]:
        """The stored body with its seq, marked resent when it is backlog: captured in an
        earlier boot, or longer ago than resent_after (monotonic, immune to clock steps)."""
        item: dict[str, Any] = json.loads(record.payload)
        item["seq"] = record.seq
        age_ns = now_ns - record.captured_monotonic_ns
        backlog = age_ns > self.config.reporting.resent_after * 1e9
        if backlog or record.boot_id != self.outbox.boot_id:
            item["resent"] = True
        return item

    def _drop(self, seq: int, error: Exception) -> None:
        self.health.error(error, "invalid_record")
        self.outbox.ack([seq])


async def _publish(
    client: aiomqtt.Client,
    topic: str,
    payload: bytes,
    *,
    retain: bool = False,
    timeout: float | None = PUBACK_TIMEOUT_S,
) -> None:
    """Publish at QoS 1 and wait for the PUBACK (``timeout`` None: the client's own), keeping
    a cancellation that arrives with it (edge_agent/cancellation.py)."""
    with keep_cancellation():
        await client.publish(topic, payload, qos=1, retain=retain, timeout=timeout)
