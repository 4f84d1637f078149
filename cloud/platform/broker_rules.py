"""Who may publish or subscribe where: the same rules as the ACL file, as a function, for
brokers that ask over HTTP (EMQX's HTTP authorisation) instead of reading a file.

- a device (its username is its id) may publish to topics under ``vr/v1/{id}/up/`` and
  subscribe to filters under ``vr/v1/{id}/down/``; nothing else, not even reading ``#``;
- a service account may publish and subscribe under ``vr/v1/`` (a shared subscription
  ``$share/<group>/`` prefix is looked through) and subscribe to ``$SYS/``.
"""

from __future__ import annotations

PUBLISH = "publish"
SUBSCRIBE = "subscribe"


def allowed(kind: str, username: str, action: str, topic: str) -> bool:
    """Whether the account may ``action`` (publish | subscribe) ``topic`` (a filter when
    subscribing)."""
    if action not in (PUBLISH, SUBSCRIBE) or not topic:
        return False
    if topic.startswith("$share/"):
        if action != SUBSCRIBE:
            return False
        parts = topic.split("/", 2)
        if len(parts) < 3 or not parts[1]:
            return False
        topic = parts[2]
    levels = topic.split("/")
    if kind == "service":
        if levels[:2] == ["vr", "v1"]:
            return True
        return action == SUBSCRIBE and levels[0] == "$SYS"
    if kind != "device":
        return False
    side = "up" if action == PUBLISH else "down"
    prefix = ["vr", "v1", username, side]
    if levels[:4] != prefix or len(levels) < 5:
        return False
    # no wildcard may widen the prefix (a device id cannot hold + or #: see device_id_format)
    return action == SUBSCRIBE or not any(level in ("+", "#") for level in levels)
