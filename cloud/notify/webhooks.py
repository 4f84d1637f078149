"""Webhooks of the caller's subtree: where alarm notifications go, and how their deliveries
went.

The API only writes rows: a webhook, a test notification, a failed delivery put back in the
queue. The notifier in the workers (``cloud.notify.notifier``) delivers them; a NOTIFY on
``voltrent_notify`` wakes it at once. A webhook's secret is the key of the signature every
delivery carries; it is shown once, by create and rotate-secret, and after that only its
last four characters. A changed URL or secret applies to what is still pending, since the
notifier reads both when it sends.

A webhook belongs to an operator and is sent the alarms of that operator's devices and its
sub-operators' (the fan-out trigger in cloud/migrations/repeatable/notify.sql sees to it); a
caller sees and edits the webhooks of its own subtree; an account of a store sees none
(``webhook.read`` is operator-wide). Its ``operator`` is the login of an account of the
caller's subtree, not a store's, whose mutes the webhook follows (the column predates
accounts).
"""

from __future__ import annotations

import secrets
from typing import Any, NoReturn

import psycopg
from flask_smorest.pagination import PaginationParameters
from psycopg.rows import DictRow

from cloud.errors import Conflict, Invalid, not_found
from cloud.identity import scope
from cloud.identity.guard import principal
from cloud.notify.notifier import CHANNEL
from cloud.store.pages import fetch_page

_SELECT = """
SELECT w.id, w.operator_id, w.name, w.url, right(w.secret, 4) AS secret_hint, w.types,
       w.min_severity, w.operator, w.enabled,
       (SELECT count(*) FROM alarm_notification n
        WHERE n.webhook_id = w.id AND n.state = 'pending') AS pending,
       (SELECT count(*) FROM alarm_notification n
        WHERE n.webhook_id = w.id AND n.state = 'failed') AS failed,
       w.created_at, w.updated_at
FROM webhook w
"""
_LIST_WHERE = (
    f"WHERE {scope.owned('w.operator_id')}"
    " AND (%(enabled)s::boolean IS NULL OR w.enabled = %(enabled)s)"
)
LIST_WEBHOOKS = _SELECT + _LIST_WHERE + " ORDER BY w.id LIMIT %(limit)s OFFSET %(offset)s"
COUNT_WEBHOOKS = "SELECT count(*) AS n FROM webhook w " + _LIST_WHERE
_MINE = f"w.id = %(webhook_id)s AND {scope.owned('w.operator_id')}"
GET_WEBHOOK = _SELECT + "WHERE " + _MINE
# Nothing is inserted unless the operator is in the caller's subtree.
INSERT_WEBHOOK = f"""
INSERT INTO webhook (operator_id, name, url, secret, types, min_severity, operator, enabled)
SELECT %(operator_id)s, %(name)s, %(url)s, %(secret)s, %(types)s, %(min_severity)s,
       %(operator)s, %(enabled)s
WHERE {scope.owned("%(operator_id)s::bigint")}
RETURNING id
"""
# A login whose mutes a webhook may follow: an account of the caller's subtree that is not
# a store's (a store's staff must not silence other stores' alarms; the fan-out passes
# over such mutes too).
ACCOUNT_LOGIN = f"""
SELECT 1 FROM account a
WHERE a.login = %(login)s AND {scope.owned("a.operator_id")} AND a.store_id IS NULL
"""
LOCK_WEBHOOK = f"SELECT * FROM webhook w WHERE {_MINE} FOR UPDATE"
UPDATE_WEBHOOK = f"""
UPDATE webhook w SET
    name = %(name)s, url = %(url)s, types = %(types)s, min_severity = %(min_severity)s,
    operator = %(operator)s, enabled = %(enabled)s, updated_at = now()
WHERE {_MINE}
"""
ROTATE_SECRET = f"""
UPDATE webhook w SET secret = %(secret)s, updated_at = now() WHERE {_MINE} RETURNING id
"""
DELETE_WEBHOOK = f"DELETE FROM webhook w WHERE {_MINE} RETURNING id"
WEBHOOK_ENABLED = f"SELECT enabled FROM webhook w WHERE {_MINE}"
# Wake the notifiers (delivered at commit, like the trigger's).
WAKE = "SELECT pg_notify(%s, %s)"

_DELIVERY_COLUMNS = """
id, webhook_id, alarm_event_id, event, state, attempts, next_attempt_at, last_attempt_at,
last_status, last_error, delivered_at, retried_at, created_at, payload
"""
_OF_MINE = f"webhook_id = %(webhook_id)s AND EXISTS (SELECT 1 FROM webhook w WHERE {_MINE})"
_DELIVERY_WHERE = f"""
WHERE {_OF_MINE}
  AND (%(state)s::text IS NULL OR state = %(state)s)
  AND (%(event)s::text IS NULL OR event = %(event)s)
"""
LIST_DELIVERIES = (
    "SELECT" + _DELIVERY_COLUMNS + "FROM alarm_notification" + _DELIVERY_WHERE
    + "ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s"
)  # fmt: skip
COUNT_DELIVERIES = "SELECT count(*) AS n FROM alarm_notification" + _DELIVERY_WHERE
GET_DELIVERY = (
    "SELECT" + _DELIVERY_COLUMNS + f"FROM alarm_notification WHERE id = %(id)s AND {_OF_MINE}"
)
# Only a failed one: a pending one may be in flight right now, under a worker's lease.
RETRY_DELIVERY = (
    f"""
UPDATE alarm_notification
SET state = 'pending', attempts = 0, next_attempt_at = now(), retried_at = now(),
    claimed_by = NULL
WHERE id = %(id)s AND {_OF_MINE} AND state = 'failed'
RETURNING"""
    + _DELIVERY_COLUMNS
)
INSERT_TEST = (
    f"""
INSERT INTO alarm_notification (webhook_id, event, payload)
SELECT %(webhook_id)s, 'test', jsonb_build_object(
    'event', 'test', 'at', webhook_time(now()), 'time', NULL, 'alarm', NULL,
    'by', %(by)s::text, 'note', %(note)s::text, 'resent', false)
WHERE EXISTS (SELECT 1 FROM webhook w WHERE {_MINE})
RETURNING"""
    + _DELIVERY_COLUMNS
)
DEFAULT_TEST_NOTE = "a test notification from VoltRent"


def new_secret() -> str:
    """A random HMAC key: 32 bytes, URL-safe text."""
    return secrets.token_urlsafe(32)


def page(
    conn: psycopg.Connection[DictRow], enabled: bool | None, pagination: PaginationParameters
) -> list[dict[str, Any]]:
    """A page of the caller's webhooks, by id; ``enabled`` filters them."""
    params = scope.params(enabled=enabled)
    return fetch_page(conn, COUNT_WEBHOOKS, LIST_WEBHOOKS, params, pagination)


def get(conn: psycopg.Connection[DictRow], webhook_id: int) -> dict[str, Any]:
    """One of the caller's webhooks, with its pending and failed counts; a 404 for any
    other id."""
    row = conn.execute(GET_WEBHOOK, scope.params(webhook_id=webhook_id)).fetchone()
    if row is None:
        not_found("webhook", webhook_id)
    return row


def create(conn: psycopg.Connection[DictRow], body: dict[str, Any]) -> dict[str, Any]:
    """Make a webhook of the caller's operator or of ``operator_id`` (404 unless it is in
    the caller's subtree); the webhook with its secret, shown this once."""
    params = {
        "operator_id": body.get("operator_id") or principal().operator_id,
        "name": body["name"],
        "url": body["url"],
        "secret": body.get("secret") or new_secret(),
        "types": body.get("types"),
        "min_severity": body["min_severity"],
        "operator": body.get("operator"),
        "enabled": body["enabled"],
    }
    _check_login(conn, params["operator"])
    row = conn.execute(INSERT_WEBHOOK, scope.params(**params)).fetchone()
    if row is None:
        not_found("operator", params["operator_id"])
    return {**get(conn, row["id"]), "secret": params["secret"]}


def change(conn: psycopg.Connection[DictRow], webhook_id: int, changes: dict[str, Any]) -> None:
    """Change a webhook; enabling it wakes the notifiers for what waited meanwhile."""
    with conn.transaction():
        current = conn.execute(LOCK_WEBHOOK, scope.params(webhook_id=webhook_id)).fetchone()
        if current is None:
            not_found("webhook", webhook_id)
        if "operator" in changes:
            _check_login(conn, changes["operator"])
        if changes:
            params = scope.params(**{**current, **changes}, webhook_id=webhook_id)
            conn.execute(UPDATE_WEBHOOK, params)
        if changes.get("enabled"):
            _wake(conn, webhook_id)  # what waited while it was disabled can go now


def delete(conn: psycopg.Connection[DictRow], webhook_id: int) -> None:
    """Delete a webhook and its deliveries, pending ones included."""
    if conn.execute(DELETE_WEBHOOK, scope.params(webhook_id=webhook_id)).fetchone() is None:
        not_found("webhook", webhook_id)


def rotate_secret(
    conn: psycopg.Connection[DictRow], webhook_id: int, secret: str | None
) -> dict[str, Any]:
    """Replace a webhook's secret with ``secret`` or a new one; the webhook with it."""
    secret = secret or new_secret()
    params = scope.params(webhook_id=webhook_id, secret=secret)
    if conn.execute(ROTATE_SECRET, params).fetchone() is None:
        not_found("webhook", webhook_id)
    return {**get(conn, webhook_id), "secret": secret}


def deliveries(
    conn: psycopg.Connection[DictRow],
    webhook_id: int,
    args: dict[str, Any],
    pagination: PaginationParameters,
) -> list[dict[str, Any]]:
    """A page of a webhook's deliveries, newest first, by ``state`` and ``event`` (the
    guard has answered 404 for another's webhook)."""
    params = scope.params(webhook_id=webhook_id, state=args.get("state"), event=args.get("event"))
    return fetch_page(conn, COUNT_DELIVERIES, LIST_DELIVERIES, params, pagination)


def retry(conn: psycopg.Connection[DictRow], webhook_id: int, delivery_id: int) -> dict[str, Any]:
    """Put a failed delivery back in the queue, due now; a 409 for one that is not failed."""
    params = scope.params(id=delivery_id, webhook_id=webhook_id)
    row = conn.execute(RETRY_DELIVERY, params).fetchone()
    if row is None:
        _refuse_retry(conn, webhook_id, delivery_id)
    _wake(conn, webhook_id)
    return row


def send_test(
    conn: psycopg.Connection[DictRow], webhook_id: int, note: str | None
) -> dict[str, Any] | None:
    """Queue a test notification by the caller; a 409 if the webhook is disabled (None:
    it was deleted meanwhile)."""
    if not _enabled(conn, webhook_id):
        raise Conflict(f"webhook {webhook_id} is disabled: enable it to test it")
    params = scope.params(webhook_id=webhook_id, by=principal().login,
                          note=note or DEFAULT_TEST_NOTE)  # fmt: skip
    row = conn.execute(INSERT_TEST, params).fetchone()
    _wake(conn, webhook_id)
    return row


def _enabled(conn: psycopg.Connection[DictRow], webhook_id: int) -> bool:
    """Whether the webhook is enabled; a 404 if there is none."""
    row = conn.execute(WEBHOOK_ENABLED, scope.params(webhook_id=webhook_id)).fetchone()
    if row is None:
        not_found("webhook", webhook_id)
    return row["enabled"]


def _check_login(conn: psycopg.Connection[DictRow], login: str | None) -> None:
    """A 422 unless ``login`` (whose mutes a webhook follows) is None or an account of the
    caller's subtree that is not a store's."""
    if login is None or conn.execute(ACCOUNT_LOGIN, scope.params(login=login)).fetchone():
        return
    reason = (
        f"no account {login!r} among the caller's operator and its sub-operators"
        " (an account of a store cannot mute a webhook's alarms: they are every store's)"
    )
    raise Invalid(
        f"operator: {reason}", errors=[{"field": "operator", "in": "body", "reason": reason}]
    )


def _wake(conn: psycopg.Connection[DictRow], webhook_id: int) -> None:
    conn.execute(WAKE, (CHANNEL, str(webhook_id)))


def _refuse_retry(conn: psycopg.Connection[DictRow], webhook_id: int, delivery_id: int) -> NoReturn:
    _enabled(conn, webhook_id)
    params = scope.params(id=delivery_id, webhook_id=webhook_id)
    row = conn.execute(GET_DELIVERY, params).fetchone()
    if row is None:
        not_found("delivery", delivery_id)
    if row["state"] == "delivered":
        raise Conflict(f"delivery {delivery_id} was delivered already; nothing to retry")
    raise Conflict(f"delivery {delivery_id} is still pending (attempt {row['attempts']} so far);"
              " it is retried by itself")  # fmt: skip
