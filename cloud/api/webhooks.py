"""``/api/webhooks``: where alarm notifications go, and how their deliveries went.

The API only writes rows: a webhook, a test notification, a failed delivery put back in the
queue. The notifier in the workers (``cloud.notify``) delivers them; a NOTIFY on
``voltrent_notify`` wakes it at once. A webhook's secret is the key of the signature every
delivery carries; it is shown once, by create and rotate-secret, and after that only its
last four characters. A changed URL or secret applies to what is still pending, since the
notifier reads both when it sends.
"""

from __future__ import annotations

import secrets
from typing import Any

import psycopg
from flask import request, url_for
from flask.views import MethodView

from cloud.api.commands import OPERATOR_HEADER
from cloud.api.db import connection
from cloud.api.paging import PAGE_SIZE, fetch_page
from cloud.api.problems import fail
from cloud.api.schemas import Blueprint
from cloud.api.webhook_schemas import (
    DeliveryListArgs,
    DeliverySchema,
    RotateSecretSchema,
    TestNotificationSchema,
    WebhookCreateSchema,
    WebhookListArgs,
    WebhookSchema,
    WebhookUpdateSchema,
    WebhookWithSecretSchema,
)
from cloud.notify import CHANNEL

blp = Blueprint(
    "webhooks", __name__, url_prefix="/api", description="Webhooks for alarm notifications"
)

_SELECT = """
SELECT w.id, w.name, w.url, right(w.secret, 4) AS secret_hint, w.types, w.min_severity,
       w.operator, w.enabled,
       (SELECT count(*) FROM alarm_notification n
        WHERE n.webhook_id = w.id AND n.state = 'pending') AS pending,
       (SELECT count(*) FROM alarm_notification n
        WHERE n.webhook_id = w.id AND n.state = 'failed') AS failed,
       w.created_at, w.updated_at
FROM webhook w
"""
_LIST_WHERE = "WHERE (%(enabled)s::boolean IS NULL OR w.enabled = %(enabled)s)"
LIST_WEBHOOKS = _SELECT + _LIST_WHERE + " ORDER BY w.id LIMIT %(limit)s OFFSET %(offset)s"
COUNT_WEBHOOKS = "SELECT count(*) AS n FROM webhook w " + _LIST_WHERE
GET_WEBHOOK = _SELECT + "WHERE w.id = %s"
INSERT_WEBHOOK = """
INSERT INTO webhook (name, url, secret, types, min_severity, operator, enabled)
VALUES (%(name)s, %(url)s, %(secret)s, %(types)s, %(min_severity)s, %(operator)s, %(enabled)s)
RETURNING id
"""
LOCK_WEBHOOK = "SELECT * FROM webhook WHERE id = %s FOR UPDATE"
UPDATE_WEBHOOK = """
UPDATE webhook SET
    name = %(name)s, url = %(url)s, types = %(types)s, min_severity = %(min_severity)s,
    operator = %(operator)s, enabled = %(enabled)s, updated_at = now()
WHERE id = %(id)s
"""
ROTATE_SECRET = """
UPDATE webhook SET secret = %s, updated_at = now() WHERE id = %s RETURNING id
"""
DELETE_WEBHOOK = "DELETE FROM webhook WHERE id = %s RETURNING id"
WEBHOOK_ENABLED = "SELECT enabled FROM webhook WHERE id = %s"
# Wake the notifiers (delivered at commit, like the trigger's).
WAKE = "SELECT pg_notify(%s, %s)"

_DELIVERY_COLUMNS = """
id, webhook_id, alarm_event_id, event, state, attempts, next_attempt_at, last_attempt_at,
last_status, last_error, delivered_at, retried_at, created_at, payload
"""
_DELIVERY_WHERE = """
WHERE webhook_id = %(webhook_id)s
  AND (%(state)s::text IS NULL OR state = %(state)s)
  AND (%(event)s::text IS NULL OR event = %(event)s)
"""
LIST_DELIVERIES = (
    "SELECT" + _DELIVERY_COLUMNS + "FROM alarm_notification" + _DELIVERY_WHERE
    + "ORDER BY id DESC LIMIT %(limit)s OFFSET %(offset)s"
)  # fmt: skip
COUNT_DELIVERIES = "SELECT count(*) AS n FROM alarm_notification" + _DELIVERY_WHERE
GET_DELIVERY = (
    "SELECT" + _DELIVERY_COLUMNS + "FROM alarm_notification WHERE id = %s AND webhook_id = %s"
)
# Only a failed one: a pending one may be in flight right now, under a worker's lease.
RETRY_DELIVERY = (
    """
UPDATE alarm_notification
SET state = 'pending', attempts = 0, next_attempt_at = now(), retried_at = now(),
    claimed_by = NULL
WHERE id = %s AND webhook_id = %s AND state = 'failed'
RETURNING"""
    + _DELIVERY_COLUMNS
)
INSERT_TEST = (
    """
INSERT INTO alarm_notification (webhook_id, event, payload)
VALUES (%(webhook_id)s, 'test', jsonb_build_object(
    'event', 'test', 'at', webhook_time(now()), 'time', NULL, 'alarm', NULL,
    'by', %(by)s::text, 'note', %(note)s::text, 'resent', false))
RETURNING"""
    + _DELIVERY_COLUMNS
)
DEFAULT_TEST_NOTE = "a test notification from VoltRent"


def new_secret() -> str:
    """A random HMAC key: 32 bytes, URL-safe text."""
    return secrets.token_urlsafe(32)


def _fetch(conn: psycopg.Connection, webhook_id: int) -> dict[str, Any]:
    row = conn.execute(GET_WEBHOOK, (webhook_id,)).fetchone()
    if row is None:
        fail(404, f"no webhook {webhook_id}")
    return row


def _enabled(conn: psycopg.Connection, webhook_id: int) -> bool:
    """Whether the webhook is enabled; a 404 if there is none."""
    row = conn.execute(WEBHOOK_ENABLED, (webhook_id,)).fetchone()
    if row is None:
        fail(404, f"no webhook {webhook_id}")
    return row["enabled"]


def _wake(conn: psycopg.Connection, webhook_id: int) -> None:
    conn.execute(WAKE, (CHANNEL, str(webhook_id)))


@blp.route("/webhooks")
class Webhooks(MethodView):
    @blp.arguments(WebhookListArgs, location="query")
    @blp.response(200, WebhookSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List webhooks, ordered by id

        Filter by `enabled`. Each shows how many deliveries are `pending` and `failed`.
        """
        params = {"enabled": args.get("enabled")}
        with connection() as conn:
            return fetch_page(conn, COUNT_WEBHOOKS, LIST_WEBHOOKS, params, pagination_parameters)

    @blp.arguments(WebhookCreateSchema)
    @blp.response(
        201, WebhookWithSecretSchema, headers={"Location": {"schema": {"type": "string"}}}
    )
    def post(self, body):
        """Create a webhook

        Every alarm event (raised, repeated, cleared, resolved) of the chosen `types` (null:
        all) at `min_severity` or above is POSTed to `url` as JSON, signed with the secret:
        `X-VoltRent-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`,
        with `X-VoltRent-Timestamp`, `X-VoltRent-Event` and `X-VoltRent-Delivery` (stable
        across retries). The answer is the only one that shows the `secret`.
        """
        params = {
            "name": body["name"],
            "url": body["url"],
            "secret": body.get("secret") or new_secret(),
            "types": body.get("types"),
            "min_severity": body["min_severity"],
            "operator": body.get("operator"),
            "enabled": body["enabled"],
        }
        with connection() as conn:
            webhook_id = conn.execute(INSERT_WEBHOOK, params).fetchone()["id"]
            created = {**_fetch(conn, webhook_id), "secret": params["secret"]}
        return created, 201, {"Location": url_for("webhooks.Webhook", webhook_id=webhook_id)}


@blp.route("/webhooks/<int:webhook_id>")
class Webhook(MethodView):
    @blp.response(200, WebhookSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, webhook_id):
        """Get a webhook"""
        with connection() as conn:
            return _fetch(conn, webhook_id)

    @blp.arguments(WebhookUpdateSchema)
    @blp.response(200, WebhookSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes, webhook_id):
        """Change a webhook's name, URL, types, minimum severity, operator or enabled

        `types: null` sends every type again; `operator: null` stops following an operator's
        mutes. Deliveries still pending go to the new URL.
        """
        with connection() as conn, conn.transaction():
            current = conn.execute(LOCK_WEBHOOK, (webhook_id,)).fetchone()
            if current is None:
                fail(404, f"no webhook {webhook_id}")
            if changes:
                conn.execute(UPDATE_WEBHOOK, {**current, **changes})
            if changes.get("enabled"):
                _wake(conn, webhook_id)  # what waited while it was disabled can go now
            return _fetch(conn, webhook_id)

    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, webhook_id):
        """Delete a webhook and its deliveries, pending ones included"""
        with connection() as conn:
            if conn.execute(DELETE_WEBHOOK, (webhook_id,)).fetchone() is None:
                fail(404, f"no webhook {webhook_id}")


@blp.route("/webhooks/<int:webhook_id>/rotate-secret")
class WebhookSecret(MethodView):
    @blp.arguments(RotateSecretSchema)
    @blp.response(200, WebhookWithSecretSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body, webhook_id):
        """Replace a webhook's secret

        The answer shows the new `secret` (the given one, or a generated one) once. Every
        attempt from now on is signed with it, retries of older deliveries included.
        """
        secret = body.get("secret") or new_secret()
        with connection() as conn:
            if conn.execute(ROTATE_SECRET, (secret, webhook_id)).fetchone() is None:
                fail(404, f"no webhook {webhook_id}")
            return {**_fetch(conn, webhook_id), "secret": secret}


@blp.route("/webhooks/<int:webhook_id>/deliveries")
class WebhookDeliveries(MethodView):
    @blp.arguments(DeliveryListArgs, location="query")
    @blp.response(200, DeliverySchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, webhook_id, pagination_parameters):
        """List a webhook's deliveries, newest first

        Filter by `state` (pending, delivered, failed) and `event`. A failed one keeps its
        last HTTP status and error.
        """
        params = {"webhook_id": webhook_id, "state": args.get("state"),
                  "event": args.get("event")}  # fmt: skip
        with connection() as conn:
            _enabled(conn, webhook_id)
            return fetch_page(
                conn, COUNT_DELIVERIES, LIST_DELIVERIES, params, pagination_parameters
            )


@blp.route("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/retry")
class DeliveryRetry(MethodView):
    @blp.response(200, DeliverySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, webhook_id, delivery_id):
        """Send a failed delivery again

        It goes back to pending, due now, with its attempts and give-up time counted
        afresh; it goes out before anything newer in the webhook's queue. Only a failed
        delivery can be retried (409 otherwise).
        """
        with connection() as conn:
            row = conn.execute(RETRY_DELIVERY, (delivery_id, webhook_id)).fetchone()
            if row is None:
                _refuse_retry(conn, webhook_id, delivery_id)
            _wake(conn, webhook_id)
            return row


def _refuse_retry(conn: psycopg.Connection, webhook_id: int, delivery_id: int) -> None:
    _enabled(conn, webhook_id)
    row = conn.execute(GET_DELIVERY, (delivery_id, webhook_id)).fetchone()
    if row is None:
        fail(404, f"webhook {webhook_id} has no delivery {delivery_id}")
    if row["state"] == "delivered":
        fail(409, f"delivery {delivery_id} was delivered already; nothing to retry")
    fail(409, f"delivery {delivery_id} is still pending (attempt {row['attempts']} so far);"
              " it is retried by itself")  # fmt: skip


@blp.route("/webhooks/<int:webhook_id>/test")
class WebhookTest(MethodView):
    @blp.arguments(TestNotificationSchema)
    @blp.response(202, DeliverySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, webhook_id):
        """Send a test notification

        Queues a delivery with event `test` and `alarm: null` (signed like any other), to
        check the URL and the receiver's signature check. Follow it in the deliveries.
        """
        by = request.headers.get(OPERATOR_HEADER, "").strip()[:200] or None
        with connection() as conn:
            if not _enabled(conn, webhook_id):
                fail(409, f"webhook {webhook_id} is disabled: enable it to test it")
            params = {"webhook_id": webhook_id, "by": by,
                      "note": body.get("note") or DEFAULT_TEST_NOTE}  # fmt: skip
            row = conn.execute(INSERT_TEST, params).fetchone()
            _wake(conn, webhook_id)
            return row
