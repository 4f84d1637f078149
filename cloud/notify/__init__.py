"""Alarm notifications to webhooks: signed HTTP POSTs, retried, never slowing ingest.

Ingest only inserts ``alarm_event`` rows; a trigger (``alarm_event_notify``,
cloud/migrations/repeatable/notify.sql) turns each into one ``alarm_notification`` row per
webhook that wants it, with the payload made then, in the same transaction. The
``Notifier`` (notifier.py), one per worker, delivers those rows: claims (outbox.py), HTTP in
threads (sender.py), and the signature a receiver checks (signing.py, whose docstring tells
a receiver how), where a webhook may send (destinations.py). The API side: webhooks and
their deliveries (webhooks.py), served by views/webhooks.py.
"""

from __future__ import annotations

from cloud.notify.notifier import CHANNEL, Notifier
from cloud.notify.signing import sign, verify

__all__ = ["CHANNEL", "Notifier", "sign", "verify"]
