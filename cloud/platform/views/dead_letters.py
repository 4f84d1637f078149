"""``/api/dead-letters``: payloads the ingest worker could not store, and why.

The platform's alone (``platform.dead_letters``): a rejected payload may name no device, or
one that is not registered.
"""

from __future__ import annotations

import base64
from typing import Any

import marshmallow as ma
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE, PagedQueryArgs, fetch_page
from cloud.http.schemas import Blueprint, Timestamp
from cloud.identity.guard import requires

blp = Blueprint(
    "dead-letters",
    __name__,
    url_prefix="/dead-letters",
    description="Messages the cloud rejected, kept with the reason",
)

_FILTER = """
WHERE (%(device_id)s::text IS NULL OR device_id = %(device_id)s)
  AND (%(reason)s::text IS NULL OR strpos(lower(reason), lower(%(reason)s)) > 0)
  AND (%(since)s::timestamptz IS NULL OR received_at >= %(since)s)
"""
LIST_DEAD_LETTERS = (
    "SELECT id, received_at, topic, device_id, reason, payload, payload_bytes FROM dead_letter"
    + _FILTER
    + "ORDER BY received_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s"
)
COUNT_DEAD_LETTERS = "SELECT count(*) AS n FROM dead_letter" + _FILTER
PREVIEW_CHARS = 4096


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


def _dead_letter(row: dict[str, Any]) -> dict[str, Any]:
    payload = bytes(row.pop("payload"))
    try:
        preview = payload.decode("utf-8")[:PREVIEW_CHARS]
    except UnicodeDecodeError:
        preview = None  # compressed telemetry, or bytes that were never text
    return {
        **row,
        "payload_base64": base64.b64encode(payload).decode("ascii"),
        "payload_preview": preview,
        "truncated": len(payload) < row["payload_bytes"],
    }


@blp.route("")
class DeadLetters(MethodView):
    @requires("platform.dead_letters")
    @blp.arguments(DeadLetterArgs, location="query")
    @blp.response(200, DeadLetterSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=100)
    def get(self, args, pagination_parameters):
        """List rejected messages, newest first"""
        params = {key: args.get(key) for key in ("device_id", "reason", "since")}
        with connection() as conn:
            rows = fetch_page(
                conn, COUNT_DEAD_LETTERS, LIST_DEAD_LETTERS, params, pagination_parameters
            )
        return [_dead_letter(row) for row in rows]
