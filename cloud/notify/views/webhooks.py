"""``/api/webhooks``: where alarm notifications go, and how their deliveries went
(``cloud.notify.webhooks``)."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires
from cloud.notify import webhooks
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
        with connection() as conn:
            return webhooks.page(conn, args.get("enabled"), pagination_parameters)

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
        with connection() as conn:
            created = webhooks.create(conn, body)
        location = url_for("webhooks.Webhook", webhook_id=created["id"])
        return created, 201, {"Location": location}


@blp.route("/webhooks/<int:webhook_id>")
class Webhook(MethodView):
    @requires("webhook.read")
    @blp.response(200, WebhookSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, webhook_id):
        """Get a webhook"""
        with connection() as conn:
            return webhooks.get(conn, webhook_id)

    @requires("webhook.write")
    @blp.arguments(WebhookUpdateSchema)
    @blp.response(200, WebhookSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes, webhook_id):
        """Change a webhook's name, URL, types, minimum severity, operator or enabled

        `types: null` sends every type again; `operator: null` stops following an account's
        mutes. Deliveries still pending go to the new URL.
        """
        with connection() as conn:
            webhooks.change(conn, webhook_id, changes)
            return webhooks.get(conn, webhook_id)

    @requires("webhook.write")
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, webhook_id):
        """Delete a webhook and its deliveries, pending ones included"""
        with connection() as conn:
            webhooks.delete(conn, webhook_id)


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
        with connection() as conn:
            return webhooks.rotate_secret(conn, webhook_id, body.get("secret"))


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
        with connection() as conn:  # the guard has answered 404 for another's webhook
            return webhooks.deliveries(conn, webhook_id, args, pagination_parameters)


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
            return webhooks.retry(conn, webhook_id, delivery_id)


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
            return webhooks.send_test(conn, webhook_id, body.get("note"))
