"""``/api/health``: whether the API can reach its store (``cloud.platform.health``)."""

from __future__ import annotations

from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.schemas import Blueprint
from cloud.identity.guard import public
from cloud.platform.health import database_answers
from cloud.platform.schemas import HealthSchema

blp = Blueprint("health", __name__, url_prefix="/health", description="Liveness")


@blp.route("")
class Health(MethodView):
    @public
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self):
        """Check that the database answers (503 problem when it does not)"""
        with connection() as conn:
            return {"database": database_answers(conn)}
