"""The ingest worker's MQTT consumer: QoS 1 with manual acknowledgement.

A message is acknowledged (PUBACK) only when the worker says its rows are committed, so a
worker killed between receive and commit loses nothing: the broker keeps the session and
redelivers every unacknowledged message on reconnect. paho-mqtt runs its network loop in
its own thread; messages cross into asyncio at one seam, ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from cloud.config import MqttSettings
from cloud.errors import CloudError
from cloud.mqtt_client import new_client
from protocols.contract.topics import UPLINK_FILTER

log = logging.getLogger(__name__)

# The broker keeps the session (subscription and queued messages) this long while no worker
# with this client id is connected.
SESSION_EXPIRY_S = 7 * 86_400
# MQTT 5 flow control: the broker sends at most this many unacknowledged messages at once.
# Not relied on: Mosquitto 2.0.11 keeps to it only until the first PUBACK (see _on_message).
RECEIVE_MAXIMUM = 1000
KEEPALIVE_S = 30
START_TIMEOUT_S = 10.0
# A worker is one of a handful of server-side clients, not one of thousands of devices:
# it reconnects quickly, because on a broker that loses subscriptions over a restart
# (Mosquitto 2.0 with MQTT 5 or shared subscriptions) nothing is queued for it until then.
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 2
_COUNTERS = (
    "received",
    "acked",
    "duplicates",
    "retained",
    "reconnects",
    "disconnects",
    "stale_acks",
    "stale_dropped",
    "backpressure_waits",
)


class ConsumerError(CloudError):
    """The broker cannot be reached, or refuses the worker's connection or subscription."""


@dataclass(frozen=True)
class Delivery:
    """One message from the broker, to be acknowledged with ``Consumer.ack`` once stored."""

    topic: str
    payload: bytes
    received_at: datetime  # UTC, when the worker got it
    mid: int  # the packet id to acknowledge; reused by the broker after the ack
    qos: int
    retain: bool
    duplicate: bool  # DUP flag: the broker sent it before (a redelivery)
    # The consumer's running count of messages: orders the PUBACKs, and tells a delivery of
    # an earlier connection (whose mid may now name another message) from a current one.
    arrival: int = 0


class Consumer:
    """Subscribe to the uplink, hand out batches, acknowledge what the worker stored.

    Use as ``async with Consumer(settings) as consumer``; reconnection is automatic.
    """

    def __init__(
        self,
        settings: MqttSettings,
        topic_filter: str = UPLINK_FILTER,
        *,
        max_pending: int = 10_000,
    ) -> None:
        if settings.protocol not in ("5", "3.1.1"):
            raise ConsumerError(f"MQTT protocol: expected 5 or 3.1.1, got {settings.protocol!r}")
        if max_pending < 1:
            raise ConsumerError(f"max_pending: must be at least 1, got {max_pending}")
        self.settings = settings
        self.topic_filter = topic_filter
        self.max_pending = max_pending
        self._shared = settings.protocol == "5"
        if self._shared and (not settings.group or any(c in settings.group for c in "/+#")):
            raise ConsumerError(
                f"worker group {settings.group!r}: expected a non-empty name without / + #"
            )
        self._subscription = (
            f"$share/{settings.group}/{topic_filter}" if self._shared else topic_filter
        )
        scheme = "mqtts" if settings.tls else "mqtt"
        self._where = f"{scheme}://{settings.host}:{settings.port}"  # no password in logs
        self._counters = dict.fromkeys(_COUNTERS, 0)
        self._pending: deque[Delivery] = deque()
        # Free places in the pending queue; paho's thread waits for one (see _on_message).
        self._space = threading.Semaphore(max_pending)
        self._stopping = False
        # Guards _connected, _unacked and the connection boundary between the paho thread
        # and ack(): a PUBACK must never reach a newer connection that reuses its mid.
        self._lock = threading.Lock()
        self._connected = False
        self._unacked: set[int] = set()  # arrivals of this connection not yet acknowledged
        self._arrivals = 0  # written by the paho thread only
        self._connects = 0
        self._client: mqtt.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived: asyncio.Event | None = None
        self._ready: asyncio.Future[None] | None = None

    # -- public --------------------------------------------------------------------------
    @property
    def counters(self) -> dict[str, int]:
        """A snapshot: received, acked, duplicates, reconnects, ... and pending (a gauge)."""
        return {**self._counters, "pending": len(self._pending)}

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the current connection."""
        return self._connected

    @property
    def shared(self) -> bool:
        """True when subscribed as ``$share/{group}/...`` (MQTT 5): workers split the load."""
        return self._shared

    async def __aenter__(self) -> Consumer:
        """Connect and subscribe; ConsumerError says why when the broker is not usable."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._space = threading.Semaphore(self.max_pending)
        self._arrived = asyncio.Event()
        self._ready = self._loop.create_future()
        try:
            client = self._make_client()
            await asyncio.to_thread(self._connect, client)
        except OSError as err:
            raise ConsumerError(f"MQTT broker at {self._where}: cannot connect: {err}") from err
        self._client = client
        client.loop_start()
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                await self._ready
        except TimeoutError as err:
            await self._stop()
            raise ConsumerError(
                f"MQTT broker at {self._where}: no CONNACK and SUBACK within {START_TIMEOUT_S} s"
            ) from err
        except ConsumerError:
            await self._stop()
            raise
        if not self._shared:
            log.warning(
                "MQTT 3.1.1 has no shared subscriptions: load cannot be split across "
                "workers, run only one (each would store every message)"
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stop()

    async def next_batch(
        self, max_messages: int, max_wait_s: float, idle_s: float = 0.005
    ) -> list[Delivery]:
        """Wait for at least one delivery, then gather more for up to ``max_wait_s``, but
        only while they keep coming: a gap of ``idle_s`` ends the batch. Under load batches
        fill up; a lone message (a command's ack) is not held back for the whole wait."""
        if self._arrived is None:
            raise ConsumerError("the consumer is not started: use `async with Consumer(...)`")
        if max_messages < 1:
            raise ValueError(f"max_messages: must be at least 1, got {max_messages}")
        loop = asyncio.get_running_loop()
        while True:
            while not self._pending:
                self._arrived.clear()
                await self._arrived.wait()
            deadline = loop.time() + max_wait_s
            while len(self._pending) < max_messages and (remaining := deadline - loop.time()) > 0:
                self._arrived.clear()
                try:
                    async with asyncio.timeout(min(remaining, idle_s)):
                        await self._arrived.wait()
                except TimeoutError:
                    break
            count = min(max_messages, len(self._pending))
            if count:  # else a reconnect dropped them all meanwhile: wait again
                self._space.release(count)
                return [self._pending.popleft() for _ in range(count)]

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """PUBACK each delivery, in receive order.

        A delivery of an earlier connection (or acknowledged already) is skipped and counted
        as ``stale_acks``: the broker redelivers it, and the worker's store dedupes.
        """
        client = self._client
        with self._lock:
            for delivery in sorted(deliveries, key=attrgetter("arrival")):
                if delivery.qos == 0:
                    continue  # nothing to acknowledge
                if client is None or not self._connected or delivery.arrival not in self._unacked:
                    self._counters["stale_acks"] += 1
                    continue
                self._unacked.discard(delivery.arrival)
                client.ack(delivery.mid, delivery.qos)
                self._counters["acked"] += 1

    # -- connection ------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        settings = self.settings
        client = new_client(settings, settings.client_id, persistent=True, manual_ack=True)
        # paho takes float seconds; its annotation says int
        client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)  # type: ignore[arg-type]
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _connect(self, client: mqtt.Client) -> None:
        if not self._shared:
            client.connect(self.settings.host, self.settings.port, KEEPALIVE_S)
            return
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        properties.ReceiveMaximum = min(RECEIVE_MAXIMUM, self.max_pending)
        client.connect(
            self.settings.host,
            self.settings.port,
            KEEPALIVE_S,
            clean_start=False,
            properties=properties,
        )

    async def _stop(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        self._stopping = True
        self._space.release(self.max_pending)  # paho's thread may be waiting for a place
        client.disconnect()
        await asyncio.to_thread(client.loop_stop)
        with self._lock:
            self._connected = False
            self._unacked.clear()
        # unacknowledged: the broker redelivers them to the next worker of this session
        self._pending.clear()
        log.info("MQTT consumer %s stopped", self.settings.client_id)

    # -- paho's thread -----------------------------------------------------------------------
    def _to_loop(self, callback: Callable[..., None], *args: Any) -> None:
        # the one seam between paho's thread and asyncio; a closed loop means we are exiting
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(callback, *args)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("MQTT broker at %s refused the connection: %s", self._where, reason_code)
            error = ConsumerError(f"MQTT broker at {self._where} refused us: {reason_code}")
            self._to_loop(self._settle, error)
            return
        with self._lock:
            self._connected = True
            self._unacked.clear()
            boundary = self._arrivals
            self._connects += 1
            first = self._connects == 1
        session = "kept" if flags.session_present else "new"
        log.info(
            "MQTT connected to %s as %s (session %s)", self._where, self.settings.client_id, session
        )
        if not first:
            self._counters["reconnects"] += 1
            if flags.session_present:
                self._to_loop(self._drop_stale, boundary)
            else:
                log.warning(
                    "MQTT broker at %s kept no session for %s: messages queued while away "
                    "are gone; subscribing again",
                    self._where,
                    self.settings.client_id,
                )
        if self._shared:
            # Every time, even with a kept session: Mosquitto 2.0.11 restores a session from
            # its persistence file without its shared subscriptions (and MQTT 5 sessions
            # without any subscription; only MQTT 3.1.1 plain subscriptions survive).
            # Retain handling 1: the retained messages come only when the subscription is new.
            client.subscribe(self._subscription, options=SubscribeOptions(qos=1, retainHandling=1))
        elif first or not flags.session_present:
            client.subscribe(self._subscription, qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            log.error("MQTT broker refused subscription %s: %s", self._subscription, refused[0])
            error = ConsumerError(
                f"MQTT broker at {self._where} refused subscription {self._subscription}: "
                f"{refused[0]}"
            )
            self._to_loop(self._settle, error)
            return
        log.info("MQTT subscribed to %s (QoS 1)", self._subscription)
        self._to_loop(self._settle, None)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._lock:
            was_connected, self._connected = self._connected, False
            self._unacked.clear()
        if was_connected:
            self._counters["disconnects"] += 1
        if self._client is None:
            log.info("MQTT disconnected from %s: %s", self._where, reason_code)
        else:
            log.warning(
                "MQTT connection to %s lost: %s; reconnecting (every %s-%s s)",
                self._where,
                reason_code,
                RECONNECT_MIN_S,
                RECONNECT_MAX_S,
            )

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        if not self._space.acquire(blocking=False):
            # The pending queue is full: hold paho's network thread, so the socket stops being
            # read and the broker keeps the rest (TCP backpressure). The broker's own flow
            # control is not enough: Mosquitto 2.0.11 sends its whole queue after one PUBACK.
            self._counters["backpressure_waits"] += 1
            self._space.acquire()
        if self._stopping:
            return  # unacknowledged: the broker redelivers it to this session's next worker
        self._arrivals += 1
        delivery = Delivery(
            topic=message.topic,
            payload=bytes(message.payload),  # paho's is bytes already: this copies nothing
            received_at=datetime.now(UTC),
            mid=message.mid,
            qos=message.qos,
            retain=bool(message.retain),
            duplicate=bool(message.dup),
            arrival=self._arrivals,
        )
        if delivery.qos > 0:
            with self._lock:
                self._unacked.add(delivery.arrival)
        self._counters["received"] += 1
        self._counters["duplicates"] += delivery.duplicate
        self._counters["retained"] += delivery.retain
        self._to_loop(self._push, delivery)

    # -- the event loop's side ---------------------------------------------------------------
    def _settle(self, error: ConsumerError | None) -> None:
        if self._ready is None or self._ready.done():
            return
        if error is None:
            self._ready.set_result(None)
        else:
            self._ready.set_exception(error)

    def _push(self, delivery: Delivery) -> None:
        self._pending.append(delivery)
        if self._arrived is not None:
            self._arrived.set()

    def _drop_stale(self, boundary: int) -> None:
        # the broker kept the session, so it resends these (DUP) on the new connection
        kept = deque(d for d in self._pending if d.arrival > boundary)
        dropped = len(self._pending) - len(kept)
        self._pending = kept
        if dropped:
            self._counters["stale_dropped"] += dropped
            self._space.release(dropped)
