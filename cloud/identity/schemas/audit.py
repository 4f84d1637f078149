"""Request and response schemas of the audit log."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from cloud.http.paging import PagedQueryArgs
from cloud.http.schemas import Timestamp


class AuditListArgs(PagedQueryArgs):
    start = Timestamp(
        data_key="from", metadata={"description": "ISO 8601 with a timezone; inclusive"}
    )
    end = Timestamp(data_key="to", metadata={"description": "ISO 8601 with a timezone; excluded"})
    operator_id = ma.fields.Integer(metadata={"description": "rows of this operator's actors"})
    actor = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "the login (or 'anonymous', 'system') exactly"},
    )
    action = ma.fields.String(
        validate=ma.validate.Length(min=1, max=300),
        metadata={"description": "prefix: `POST /api/devices`, `command.`"},
    )
    status = ma.fields.Integer(
        validate=ma.validate.Range(min=100, max=599), metadata={"description": "HTTP status"}
    )
    target = ma.fields.String(
        validate=ma.validate.Length(min=1, max=500),
        metadata={"description": "prefix of the request path or the object"},
    )

    @ma.validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "start" in data and "end" in data and data["end"] <= data["start"]:
            raise ma.ValidationError("Must be later than `from`.", "to")


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    at = Timestamp()
    operator_id = ma.fields.Integer(allow_none=True)
    account_id = ma.fields.Integer(allow_none=True)
    actor = ma.fields.String()
    via = ma.fields.String(metadata={"description": "session, token, anonymous or system"})
    action = ma.fields.String(
        metadata={"description": "'METHOD /route' of a request, or e.g. 'command.issue'"}
    )
    target = ma.fields.String(allow_none=True)
    status = ma.fields.Integer(allow_none=True, metadata={"description": "null: not a request"})
    ip = ma.fields.String(allow_none=True)
    user_agent = ma.fields.String(allow_none=True)
    detail = ma.fields.Dict(allow_none=True)
