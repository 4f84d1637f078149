"""``/api/webhooks``: where alarm notifications go, and how their deliveries went.

The API only writes rows: a webhook, a test notification, a failed delivery put back in the
queue. The notifier in the workers (``cloud.notify``) delivers them; a NOTIFY on
``voltrent_notify`` wakes it at once. A webhook's secret is the key of the signature every
delivery carries; it is shown once, by create and rotate-secret, and after that only its
last four characters. A changed URL or secret applies to what is still pending, since the
notifier reads both when it sends.

A webhook belongs to an operator and is sent the alarms of that operator's devices and its
sub-operators' (the fan-out trigger of migration 0011 sees to it); a caller sees and edits
the webhooks of its own subtree; an account of a store sees none (``webhook.read`` is
operator-wide). Its ``operator`` is the login of an account of the caller's subtree, not a
store's, whose mutes the webhook follows (the column predates accounts).
"""

from __future__ import annotations

import secrets
from typing import Any

import psycopg
from flask import url_for
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE, fetch_page
from cloud.http.problems import fail
from cloud.http.schemas import Blueprint
from cloud.identity import scope
from cloud.identity.guard import principal, requires
from cloud.notify import CHANNEL
from cloud.notify.schemas import (
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

blp = Blueprint("webhooks", __name__, description="Webhooks for alarm notifications")

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
# a store's (a store's staff must not silence other stores' alarms; the fan-out, migration
# 0014, passes over such mutes too).
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


def _fetch(conn: psycopg.Connection, webhook_id: int) -> dict[str, Any]:
    row = conn.execute(GET_WEBHOOK, scope.params(webhook_id=webhook_id)).fetchone()
    if row is None:
        fail(404, f"no webhook {webhook_id}")
    return row


def _enabled(conn: psycopg.Connection, webhook_id: int) -> bool:
    """Whether the webhook is enabled; a 404 if there is none."""
    row = conn.execute(WEBHOOK_ENABLED, scope.params(webhook_id=webhook_id)).fetchone()
    if row is None:
        fail(404, f"no webhook {webhook_id}")
    return row["enabled"]


def _check_login(conn: psycopg.Connection, login: str | None) -> None:
    """A 422 unless ``login`` (whose mutes a webhook follows) is None or an account of the
    caller's subtree that is not a store's."""
    if login is None or conn.execute(ACCOUNT_LOGIN, scope.params(login=login)).fetchone():
        return
    reason = (
        f"no account {login!r} among the caller's operator and its sub-operators"
        " (an account of a store cannot mute a webhook's alarms: they are every store's)"
    )
    fail(422, f"operator: {reason}", errors=[{"field": "operator", "in": "body", "reason": reason}])


def _wake(conn: psycopg.Connection, webhook_id: int) -> None:
    conn.execute(WAKE, (CHANNEL, str(webhook_id)))


@blp.route("/webhooks")
class Webhooks(MethodView):
    @requires("webhook.read")
    @blp.arguments(WebhookListArgs, location="query")
    @blp.response(200, WebhookSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List webhooks, ordered by id

        The webhooks of the caller's operator and its sub-operators. Filter by `enabled`.
        Each shows how many deliveries are `pending` and `failed`.
        """
        params = scope.params(enabled=args.get("enabled"))
        with connection() as conn:
            return fetch_page(conn, COUNT_WEBHOOKS, LIST_WEBHOOKS, params, pagination_parameters)

    @requires("webhook.write")
    @blp.arguments(WebhookCreateSchema)
    @blp.response(
        201, WebhookWithSecretSchema, headers={"Location": {"schema": {"type": "string"}}}
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body):
        """Create a webhook

        Every alarm event (raised, repeated, cleared, resolved) of the chosen `types` (null:
        all) at `min_severity` or above is POSTed to `url` as JSON, signed with the secret:
        `X-VoltRent-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`,
        with `X-VoltRent-Timestamp`, `X-VoltRent-Event` and `X-VoltRent-Delivery` (stable
        across retries). The answer is the only one that shows the `secret`. Only alarms of
        the devices of the webhook's operator (the caller's, or `operator_id`, one of its
        sub-operators) and its sub-operators are sent. `operator`, the login of an account of
        the caller's subtree, makes the webhook leave out the types that account muted.
        """
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
        with connection() as conn:
            _check_login(conn, params["operator"])
            row = conn.execute(INSERT_WEBHOOK, scope.params(**params)).fetchone()
            if row is None:
                fail(404, f"no operator {params['operator_id']}")
            webhook_id = row["id"]
            created = {**_fetch(conn, webhook_id), "secret": params["secret"]}
        return created, 201, {"Location": url_for("webhooks.Webhook", webhook_id=webhook_id)}


@blp.route("/webhooks/<int:webhook_id>")
class Webhook(MethodView):
    @requires("webhook.read")
    @blp.response(200, WebhookSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, webhook_id):
        """Get a webhook"""
        with connection() as conn:
            return _fetch(conn, webhook_id)

    @requires("webhook.write")
    @blp.arguments(WebhookUpdateSchema)
    @blp.response(200, WebhookSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes, webhook_id):
        """Change a webhook's name, URL, types, minimum severity, operator or enabled

        `types: null` sends every type again; `operator: null` stops following an account's
        mutes. Deliveries still pending go to the new URL.
        """
        with connection() as conn, conn.transaction():
            current = conn.execute(LOCK_WEBHOOK, scope.params(webhook_id=webhook_id)).fetchone()
            if current is None:
                fail(404, f"no webhook {webhook_id}")
            if "operator" in changes:
                _check_login(conn, changes["operator"])
            if changes:
                params = scope.params(**{**current, **changes}, webhook_id=webhook_id)
                conn.execute(UPDATE_WEBHOOK, params)
            if changes.get("enabled"):
                _wake(conn, webhook_id)  # what waited while it was disabled can go now
            return _fetch(conn, webhook_id)

    @requires("webhook.write")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, webhook_id):
        """Delete a webhook and its deliveries, pending ones included"""
        with connection() as conn:
            params = scope.params(webhook_id=webhook_id)
            if conn.execute(DELETE_WEBHOOK, params).fetchone() is None:
                fail(404, f"no webhook {webhook_id}")


@blp.route("/webhooks/<int:webhook_id>/rotate-secret")
class WebhookSecret(MethodView):
    @requires("webhook.write")
    @blp.arguments(RotateSecretSchema, required=False)
    @blp.response(200, WebhookWithSecretSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, body, webhook_id):
        """Replace a webhook's secret

        The answer shows the new `secret` (the given one, or a generated one) once. Every
        attempt from now on is signed with it, retries of older deliveries included.
        """
        secret = body.get("secret") or new_secret()
        with connection() as conn:
            params = scope.params(webhook_id=webhook_id, secret=secret)
            if conn.execute(ROTATE_SECRET, params).fetchone() is None:
                fail(404, f"no webhook {webhook_id}")
            return {**_fetch(conn, webhook_id), "secret": secret}


@blp.route("/webhooks/<int:webhook_id>/deliveries")
class WebhookDeliveries(MethodView):
    @requires("webhook.read")
    @blp.arguments(DeliveryListArgs, location="query")
    @blp.response(200, DeliverySchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, webhook_id, pagination_parameters):
        """List a webhook's deliveries, newest first

        Filter by `state` (pending, delivered, failed) and `event`. A failed one keeps its
        last HTTP status and error.
        """
        params = scope.params(webhook_id=webhook_id, state=args.get("state"),
                              event=args.get("event"))  # fmt: skip
        with connection() as conn:  # the guard has answered 404 for another's webhook
            return fetch_page(
                conn, COUNT_DELIVERIES, LIST_DELIVERIES, params, pagination_parameters
            )


@blp.route("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/retry")
class DeliveryRetry(MethodView):
    @requires("webhook.write")
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
            params = scope.params(id=delivery_id, webhook_id=webhook_id)
            row = conn.execute(RETRY_DELIVERY, params).fetchone()
            if row is None:
                _refuse_retry(conn, webhook_id, delivery_id)
            _wake(conn, webhook_id)
            return row


def _refuse_retry(conn: psycopg.Connection, webhook_id: int, delivery_id: int) -> None:
    _enabled(conn, webhook_id)
    params = scope.params(id=delivery_id, webhook_id=webhook_id)
    row = conn.execute(GET_DELIVERY, params).fetchone()
    if row is None:
        fail(404, f"webhook {webhook_id} has no delivery {delivery_id}")
    if row["state"] == "delivered":
        fail(409, f"delivery {delivery_id} was delivered already; nothing to retry")
    fail(409, f"delivery {delivery_id} is still pending (attempt {row['attempts']} so far);"
              " it is retried by itself")  # fmt: skip


@blp.route("/webhooks/<int:webhook_id>/test")
class WebhookTest(MethodView):
    @requires("webhook.write")
    @blp.arguments(TestNotificationSchema, required=False)
    @blp.response(202, DeliverySchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, webhook_id):
        """Send a test notification

        Queues a delivery with event `test` and `alarm: null` (signed like any other), to
        check the URL and the receiver's signature check; `by` is the caller's login. Follow
        it in the deliveries.
        """
        with connection() as conn:
            if not _enabled(conn, webhook_id):
                fail(409, f"webhook {webhook_id} is disabled: enable it to test it")
            params = scope.params(webhook_id=webhook_id, by=principal().login,
                                  note=body.get("note") or DEFAULT_TEST_NOTE)  # fmt: skip
            row = conn.execute(INSERT_TEST, params).fetchone()
            _wake(conn, webhook_id)
            return row
