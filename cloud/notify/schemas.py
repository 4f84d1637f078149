"""Schemas of webhooks and their deliveries: bodies, query arguments, responses.

A webhook's URL must be one the notifier can POST to (http or https, with a host) and may
POST to: not an address of the cloud's own network, unless the configuration's
``webhook_allow`` lists it (cloud/notify/destinations.py, which every delivery checks again);
its alarm types must be ones the rules raise (``cloud.rules.catalogue.TYPES``), so a typo is a
422 now rather than a webhook that silently never fires.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import marshmallow as ma
from flask import current_app

from cloud.http.paging import PagedQueryArgs
from cloud.http.schemas import Boolean, Timestamp
from cloud.notify.destinations import refusal
from cloud.rules.catalogue import SEVERITIES, TYPES
from cloud.rules.schemas.alarms import MAX_ID

STATES = ("pending", "delivered", "failed")
EVENTS = ("raised", "repeated", "cleared", "resolved", "test")
MAX_URL_LENGTH = 2000
SECRET_LENGTH = ma.validate.Length(min=16, max=200)
_SEVERITIES = ", ".join(SEVERITIES)


def check_url(value: str) -> None:
    """An absolute http(s) URL with a host, nothing a request line cannot carry, and no
    address of the cloud's own network."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        raise ma.ValidationError("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- parsing the port is what raises for a bad one
    except ValueError as err:
        raise ma.ValidationError(f"not a usable URL: {err}") from err
    if parts.scheme.lower() not in ("http", "https"):
        scheme = repr(parts.scheme) if parts.scheme else "none"
        raise ma.ValidationError(f"must be an http or https URL, got scheme {scheme}")
    if not parts.hostname:
        raise ma.ValidationError("must name a host: http(s)://host[:port]/path")
    why = refusal(value, current_app.config["CLOUD_CONFIG"].webhook_allow)
    if why is not None:
        raise ma.ValidationError(f"refused: {why}")


def _fields() -> dict[str, ma.fields.Field]:
    """The editable fields, without defaults (PATCH leaves absent ones alone)."""
    return {
        "name": ma.fields.String(validate=ma.validate.Length(min=1, max=200)),
        "url": ma.fields.String(
            validate=[ma.validate.Length(max=MAX_URL_LENGTH), check_url],
            metadata={"description": "where deliveries are POSTed: http or https"},
        ),
        "types": ma.fields.List(
            ma.fields.String(validate=ma.validate.OneOf(TYPES)),
            allow_none=True,
            validate=ma.validate.Length(min=1, error="list at least one type, or null for all"),
            metadata={"description": "alarm types to send; null (the default): every type"},
        ),
        "min_severity": ma.fields.String(
            validate=ma.validate.OneOf(SEVERITIES),
            metadata={"description": f"send alarms of this severity and above: {_SEVERITIES}"},
        ),
        "operator": ma.fields.String(
            allow_none=True,
            validate=ma.validate.Length(min=1, max=200),
            metadata={
                "description": "the login of an account of the caller's subtree: if set, the"
                " types that account muted are not sent"
            },
        ),
        "enabled": Boolean(
            metadata={
                "description": "a disabled webhook gets no new notifications, and what"
                " it has pending waits until it is enabled again"
            },
        ),
    }


def _unique_types(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("types"):
        data["types"] = list(dict.fromkeys(data["types"]))
    return data


class WebhookCreateSchema(ma.Schema.from_dict(_fields())):  # type: ignore[misc]
    """The body of POST /api/webhooks."""

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    url = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(max=MAX_URL_LENGTH), check_url],
        metadata={"description": "where deliveries are POSTed: http or https"},
    )
    secret = ma.fields.String(
        validate=SECRET_LENGTH,
        metadata={"description": "the HMAC key (16..200 characters); generated when absent"},
    )
    min_severity = ma.fields.String(
        load_default="info", validate=ma.validate.OneOf(SEVERITIES),
        metadata={"description": f"send alarms of this severity and above: {_SEVERITIES}"},
    )  # fmt: skip
    enabled = Boolean(load_default=True)
    operator_id = ma.fields.Integer(
        strict=True,
        validate=ma.validate.Range(min=1, max=MAX_ID),
        metadata={"description": "the owner: a sub-operator (default: the caller's operator)"},
    )

    @ma.post_load
    def _unique(self, data, **kwargs):
        return _unique_types(data)


class WebhookUpdateSchema(ma.Schema.from_dict(_fields())):  # type: ignore[misc]
    """The fields to change (PATCH); the secret changes only through rotate-secret."""

    @ma.post_load
    def _unique(self, data, **kwargs):
        return _unique_types(data)


class RotateSecretSchema(ma.Schema):
    """The body of POST /api/webhooks/{id}/rotate-secret (may be empty)."""

    secret = ma.fields.String(
        validate=SECRET_LENGTH,
        metadata={"description": "the new HMAC key; generated when absent"},
    )


class TestNotificationSchema(ma.Schema):
    """The body of POST /api/webhooks/{id}/test (may be empty)."""

    note = ma.fields.String(
        validate=ma.validate.Length(max=500), metadata={"description": "sent as `note`"}
    )


class WebhookSchema(ma.Schema):
    """A webhook as the API shows it: never its secret, only the end of it."""

    id = ma.fields.Integer()
    operator_id = ma.fields.Integer(
        metadata={"description": "the operator it belongs to: its subtree's alarms are sent"}
    )
    name = ma.fields.String()
    url = ma.fields.String()
    secret_hint = ma.fields.String(metadata={"description": "the secret's last 4 characters"})
    types = ma.fields.List(ma.fields.String(), allow_none=True)
    min_severity = ma.fields.String()
    operator = ma.fields.String(allow_none=True)
    enabled = ma.fields.Boolean()
    pending = ma.fields.Integer(metadata={"description": "deliveries waiting to go out"})
    failed = ma.fields.Integer(metadata={"description": "deliveries given up on"})
    created_at = Timestamp()
    updated_at = Timestamp()


class WebhookWithSecretSchema(WebhookSchema):
    """A webhook with its secret: only in the answers to create and rotate-secret."""

    secret = ma.fields.String(metadata={"description": "keep it: it is not shown again"})


class WebhookListArgs(PagedQueryArgs):
    enabled = Boolean()


class DeliveryListArgs(PagedQueryArgs):
    state = ma.fields.String(validate=ma.validate.OneOf(STATES))
    event = ma.fields.String(validate=ma.validate.OneOf(EVENTS))


class DeliverySchema(ma.Schema):
    """One notification to one webhook, and how its delivery went."""

    id = ma.fields.Integer(metadata={"description": "also X-VoltRent-Delivery"})
    webhook_id = ma.fields.Integer()
    alarm_event_id = ma.fields.Integer(allow_none=True, metadata={"description": "null: a test"})
    event = ma.fields.String(metadata={"description": ", ".join(EVENTS)})
    state = ma.fields.String(metadata={"description": ", ".join(STATES)})
    attempts = ma.fields.Integer()
    next_attempt_at = Timestamp(metadata={"description": "pending: when it is tried next"})
    last_attempt_at = Timestamp(allow_none=True)
    last_status = ma.fields.Integer(
        allow_none=True, metadata={"description": "the receiver's HTTP status; null: no answer"}
    )
    last_error = ma.fields.String(allow_none=True)
    delivered_at = Timestamp(allow_none=True)
    retried_at = Timestamp(allow_none=True, metadata={"description": "sent again by a person"})
    created_at = Timestamp()
    payload = ma.fields.Dict(metadata={"description": "the JSON body POSTed"})
