"""``/api/audit``: the audit log of the caller's subtree, newest first
(``cloud.identity.audit``)."""

from __future__ import annotations

from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE
from cloud.http.schemas import Blueprint
from cloud.identity import audit
from cloud.identity.guard import requires
from cloud.identity.schemas.audit import AuditEntrySchema, AuditListArgs

blp = Blueprint("audit", __name__, url_prefix="/audit", description="The audit log")


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
        with connection() as conn:
            return audit.page(conn, args, pagination_parameters)
