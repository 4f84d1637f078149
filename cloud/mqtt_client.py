"""The cloud's paho-mqtt clients (ingest consumer, dispatcher publisher, doctor) are made
here, so credentials, TLS and the protocol version are applied one way."""

from __future__ import annotations

import paho.mqtt.client as mqtt

from cloud.config import MqttSettings
from cloud.errors import ConfigError


def new_client(
    settings: MqttSettings, client_id: str, *, persistent: bool, manual_ack: bool = False
) -> mqtt.Client:
    """A paho client for ``settings``, not connected. ``persistent``: the broker keeps the
    session while the client is away (MQTT 3.1.1 clean_session=False; with MQTT 5 the caller
    says clean_start=False and a session expiry at connect)."""
    v5 = settings.protocol == "5"
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        clean_session=None if v5 else not persistent,
        manual_ack=manual_ack,
    )
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.password)
    if settings.tls:
        try:
            client.tls_set(ca_certs=settings.ca_file)
        except OSError as err:
            raise ConfigError(f"MQTT_CA_FILE {settings.ca_file!r}: {err}") from err
    return client
