"""The broker accounts and topic rules for amqtt, as Mosquitto gets them from its password
file and ACL: the demo's fallback broker is no more open than its Mosquitto.

``PasswordFileAuth`` checks each CONNECT against the password file `voltrent cloud
broker-config` writes (Mosquitto's ``$7$`` lines, read again at every connection, so a
rewritten file applies to the next one) and refuses anonymous clients. ``TopicRules`` asks
``cloud.platform.broker_rules`` (the rules the ACL file and EMQX's HTTP authorisation follow) before
every subscription, publication and delivery; a name starting with ``_`` is a service
account, any other a device whose username is its id. amqtt runs a client's will without a
topic check, so a will the account could not publish itself refuses the connection.

amqtt 0.12 also sends retained messages without asking the topic plugins: at every
connection, those matching any filter anyone subscribed to (another device's status, its
retained lease terms). ``CheckedBroker`` sends a retained message only where a delivery
would go.

amqtt 0.12 walks its subscription table with awaits inside the loop, at every connection
and every delivery. Another client's subscribe or disconnect meanwhile raised "dictionary
changed size during iteration", which killed the connecting client's session: it never got
a SUBACK. A disconnect during a delivery could also make it skip a subscriber. So
``CheckedBroker``'s table hands out copies to walk (``SubscriptionTable``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

from cloud.platform.broker_accounts import SERVICE_PREFIX, verify_password
from cloud.platform.broker_rules import PUBLISH, SUBSCRIBE, allowed


def kind_of(username: str) -> str:
    """``service`` or ``device``, as ``voltrent cloud broker-account`` names them."""
    return "service" if username.startswith(SERVICE_PREFIX) else "device"


def read_password_file(path: Path) -> dict[str, str]:
    """username -> ``$7$`` hash, from a Mosquitto password file."""
    hashes = {}
    for line in path.read_text().splitlines():
        username, colon, stored = line.partition(":")
        if colon and username and not line.startswith("#"):
            hashes[username] = stored.strip()
    return hashes


class PasswordFileAuth(BaseAuthPlugin):
    """A client gets in with a username and password of the password file, and a will (if
    any) on a topic it may publish to; never anonymously."""

    @dataclass
    class Config:
        password_file: str = ""

    async def authenticate(self, *, session) -> bool:  # type: ignore[no-untyped-def]
        username, password = session.username, session.password
        if not username or password is None:
            return False
        stored = read_password_file(Path(self.config.password_file)).get(username)
        if stored is None or not verify_password(password, stored):
            return False
        if session.will_flag and session.will_topic:
            return allowed(kind_of(username), username, PUBLISH, session.will_topic)
        return True


class TopicRules(BaseTopicPlugin):
    """Subscribe, publish and receive only where ``cloud.platform.broker_rules`` allows the
    account."""

    @dataclass
    class Config:
        pass

    async def topic_filtering(self, *, session=None, topic=None, action=None) -> bool:  # type: ignore[no-untyped-def]
        username = session.username if session is not None else None
        if not username or not topic:
            return False
        # a delivery is a read: the subscription was checked, and a topic is its own filter
        what = PUBLISH if action == Action.PUBLISH else SUBSCRIBE
        return allowed(kind_of(username), username, what, topic)


class SubscriptionTable(dict[str, Any]):
    """amqtt's table of topic filter -> [(session, qos)], whose walks go over a copy: the
    keys, and for ``items()`` each filter's list too, so a walk that awaits sees the table
    as it was when it began. Lookups and changes go to the table itself."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(super().keys()))

    def keys(self):  # type: ignore[no-untyped-def,override]
        return list(super().keys())

    def values(self):  # type: ignore[no-untyped-def,override]
        return [list(v) for v in super().values()]

    def items(self):  # type: ignore[no-untyped-def,override]
        return [(k, list(v)) for k, v in super().items()]


class CheckedBroker(Broker):
    """amqtt's broker, sending a retained message to a client only if the topic plugins
    let it receive that topic, and walking a copy of its subscription table."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._subscriptions = SubscriptionTable()

    async def _publish_retained_messages_for_subscription(self, subscription, session):  # type: ignore[no-untyped-def]
        topic_filter, qos = subscription
        handler = self._get_handler(session)
        if handler is None:
            return
        sends = [
            handler.mqtt_publish(topic, retained.data, min(qos, retained.qos or qos), retain=True)
            for topic, retained in list(self._retained_messages.items())
            if self._matches(topic, topic_filter)
            and await self._topic_filtering(session, topic, Action.RECEIVE)
        ]
        await asyncio.gather(*sends)
