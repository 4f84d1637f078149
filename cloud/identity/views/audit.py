"""``/api/audit``: the audit log of the caller's subtree, newest first.

The guard writes a row for every state-changing request (who, what, the answer's status),
refused ones included, and the store writes one for every command (migration 0011). A row
belongs to the actor's operator; an account of a store reads only the rows of its store's
accounts. Rows of callers who were not signed in name no operator, so no tenant sees them.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE, PagedQueryArgs, fetch_page
from cloud.http.schemas import Blueprint, Timestamp
from cloud.identity import scope
from cloud.identity.guard import requires
from cloud.identity.principal import principal

blp = Blueprint("audit", __name__, url_prefix="/audit", description="The audit log")

# Every filter is optional: a NULL parameter switches its condition off.
_FILTER = f"""
WHERE ({scope.owned("l.operator_id")} OR (l.operator_id IS NULL AND %(platform)s::boolean))
  AND (%(store)s::bigint IS NULL
       OR l.account_id IN (SELECT a.id FROM account a WHERE a.store_id = %(store)s::bigint))
  AND (%(start)s::timestamptz IS NULL OR l.at >= %(start)s)
  AND (%(end)s::timestamptz IS NULL OR l.at < %(end)s)
  AND (%(operator_id)s::bigint IS NULL OR l.operator_id = %(operator_id)s)
  AND (%(actor)s::text IS NULL OR l.actor = %(actor)s)
  AND (%(action)s::text IS NULL OR starts_with(l.action, %(action)s))
  AND (%(status)s::integer IS NULL OR l.status = %(status)s)
  AND (%(target)s::text IS NULL OR starts_with(l.target, %(target)s))
"""
LIST_AUDIT = f"""
SELECT l.id, l.at, l.operator_id, l.account_id, l.actor, l.via, l.action, l.target, l.status,
       l.ip, l.user_agent, l.detail
FROM audit_log l
{_FILTER}
ORDER BY l.at DESC, l.id DESC LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT_AUDIT = "SELECT count(*) AS n FROM audit_log l" + _FILTER
_FILTERS = ("start", "end", "operator_id", "actor", "action", "status", "target")


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


@blp.route("")
class AuditLog(MethodView):
    @requires("audit.read")
    @blp.arguments(AuditListArgs, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List the audit log of the caller's subtree, newest first

        Filter by time (`from`, `to`), `operator_id`, `actor`, `status`, and by prefix of
        `action` or `target`. Pages of `page_size` (default 50, at most 500); the
        `X-Pagination` header gives the total.
        """
        params = scope.params(**{name: args.get(name) for name in _FILTERS})
        # rows of nobody's (a failed sign-in with an unknown login) are the platform's
        params["platform"] = principal().platform
        with connection() as conn:
            return fetch_page(conn, COUNT_AUDIT, LIST_AUDIT, params, pagination_parameters)
