"""Request and response schemas of health, dead letters and the broker endpoints."""

from __future__ import annotations

import marshmallow as ma

from cloud.http.paging import PagedQueryArgs
from cloud.http.schemas import Timestamp
from cloud.platform.dead_letters import PREVIEW_CHARS


class HealthSchema(ma.Schema):
    database = ma.fields.String(metadata={"example": "ok"})


class DeadLetterArgs(PagedQueryArgs):
    device_id = ma.fields.String()
    reason = ma.fields.String(metadata={"description": "substring of the reason (any case)"})
    since = Timestamp(metadata={"description": "received at or after (ISO 8601, timezone)"})


class DeadLetterSchema(ma.Schema):
    id = ma.fields.Integer()
    received_at = Timestamp()
    topic = ma.fields.String()
    device_id = ma.fields.String(allow_none=True)
    reason = ma.fields.String()
    payload_base64 = ma.fields.String(metadata={"description": "the payload as stored"})
    payload_preview = ma.fields.String(
        allow_none=True,
        metadata={"description": f"the first {PREVIEW_CHARS} characters, when UTF-8 text"},
    )
    payload_bytes = ma.fields.Integer(metadata={"description": "size that arrived"})
    truncated = ma.fields.Boolean(metadata={"description": "only the first 64 KiB were kept"})


class _BrokerBody(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # a broker may be set up to send more (clientid, peerhost, ...)


class AuthnSchema(_BrokerBody):
    username = ma.fields.String(required=True, validate=ma.validate.Length(max=200))
    password = ma.fields.String(required=True, validate=ma.validate.Length(max=1000))


class AuthzSchema(_BrokerBody):
    username = ma.fields.String(required=True, validate=ma.validate.Length(max=200))
    topic = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=65535))
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(["publish", "subscribe"]))


class ResultSchema(ma.Schema):
    result = ma.fields.String(metadata={"description": "allow or deny"})
    is_superuser = ma.fields.Boolean()


class CredentialsSchema(ma.Schema):
    username = ma.fields.String()
    password = ma.fields.String(metadata={"description": "only in the answer to POST"})
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    rotated_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)
