"""The dispatcher's own MQTT client: publishes QoS 1 and lets asyncio await each PUBACK.

Separate from the ingest consumer on purpose: the consumer holds a persistent session with
manual acknowledgement, and a downlink publish must not wait behind uplink backpressure.
paho runs its network loop in its own thread; PUBACKs cross into asyncio at one seam,
``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence

import paho.mqtt.client as mqtt

from cloud.commands.errors import PublishError
from cloud.config import MqttSettings
from cloud.errors import ConfigError
from cloud.mqtt_client import new_client

log = logging.getLogger(__name__)

KEEPALIVE_S = 30
START_TIMEOUT_S = 10.0
PUBACK_TIMEOUT_S = 5.0


class Publisher:
    """``async with Publisher(settings) as publisher: await publisher.publish([...])``."""

    def __init__(self, settings: MqttSettings, client_id: str) -> None:
        self.settings = settings
        self.client_id = client_id
        scheme = "mqtts" if settings.tls else "mqtt"
        self._where = f"{scheme}://{settings.host}:{settings.port}"  # no password in logs
        self._client: mqtt.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected = threading.Event()
        # Registered by publish() before it yields to the loop, so a PUBACK (which reaches
        # the loop through call_soon_threadsafe) always finds its future.
        self._acks: dict[int, asyncio.Future[None]] = {}

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the current connection."""
        return self._connected.is_set()

    async def __aenter__(self) -> Publisher:
        """Connect; PublishError says why when the broker is not usable."""
        self._loop = asyncio.get_running_loop()
        try:
            client = new_client(self.settings, self.client_id, persistent=False)
        except ConfigError as err:
            raise PublishError(str(err)) from err
        # publish() refuses while disconnected: the command row stays queued in the store
        # instead, which survives a restart; what paho holds in flight is bounded by a sweep.
        client.max_inflight_messages_set(1000)
        client.reconnect_delay_set(0.5, 2)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        try:
            await asyncio.to_thread(client.connect, self.settings.host, self.settings.port,
                                    KEEPALIVE_S)  # fmt: skip
        except OSError as err:
            raise PublishError(f"MQTT broker at {self._where}: cannot connect: {err}") from err
        client.loop_start()
        self._client = client
        if not await asyncio.to_thread(self._connected.wait, START_TIMEOUT_S):
            await self.__aexit__()
            raise PublishError(f"MQTT broker at {self._where}: no CONNACK in {START_TIMEOUT_S} s")
        return self

    async def __aexit__(self, *exc: object) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        client.disconnect()
        await asyncio.to_thread(client.loop_stop)
        self._connected.clear()
        for future in self._acks.values():
            if not future.done():
                future.set_exception(PublishError("publisher stopped before the PUBACK"))
        self._acks.clear()

    async def publish(self, messages: Sequence[tuple[str, bytes, bool]]) -> None:
        """Publish ``(topic, payload, retain)`` in order, QoS 1; return once every one is
        acknowledged by the broker. PublishError when not connected or not acknowledged."""
        client = self._client
        if client is None or not self._connected.is_set():
            raise PublishError(f"MQTT broker at {self._where}: not connected")
        assert self._loop is not None
        futures = []
        for topic, payload, retain in messages:
            info = client.publish(topic, payload, qos=1, retain=retain)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise PublishError(f"publish to {topic}: {mqtt.error_string(info.rc)}")
            future = self._loop.create_future()
            self._acks[info.mid] = future
            futures.append(future)
        try:
            async with asyncio.timeout(PUBACK_TIMEOUT_S):
                await asyncio.gather(*futures)
        except TimeoutError as err:
            raise PublishError(
                f"MQTT broker at {self._where}: no PUBACK within {PUBACK_TIMEOUT_S} s"
            ) from err
        finally:
            for mid in [mid for mid, f in self._acks.items() if f in futures]:
                del self._acks[mid]

    # -- paho's thread -----------------------------------------------------------------------
    def _to_loop(self, callback, *args) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: we are exiting
                self._loop.call_soon_threadsafe(callback, *args)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("dispatcher: MQTT broker at %s refused us: %s", self._where, reason_code)
            return
        log.info("dispatcher: MQTT connected to %s as %s", self._where, self.client_id)
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        if self._client is not None:
            log.warning("dispatcher: MQTT connection lost (%s); reconnecting", reason_code)
        # paho forgets in-flight messages of a clean session: fail their waiters now
        self._to_loop(self._fail_pending)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        # Never take a lock here: paho calls this holding its own outgoing-message lock.
        self._to_loop(self._acked, mid, reason_code.is_failure, str(reason_code))

    # -- the event loop's side ---------------------------------------------------------------
    def _acked(self, mid: int, failed: bool, reason: str) -> None:
        future = self._acks.pop(mid, None)
        if future is None or future.done():
            return  # a PUBACK for a publish whose waiter gave up already
        if failed:
            future.set_exception(PublishError(f"the broker refused a publish: {reason}"))
        else:
            future.set_result(None)

    def _fail_pending(self) -> None:
        for future in self._acks.values():
            if not future.done():
                future.set_exception(PublishError("MQTT connection lost before the PUBACK"))
        self._acks.clear()
