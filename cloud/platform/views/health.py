"""``/api/health``: whether the API can reach its store (for load balancers and doctors)."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.schemas import Blueprint
from cloud.identity.guard import public

blp = Blueprint("health", __name__, url_prefix="/health", description="Liveness")


class HealthSchema(ma.Schema):
    database = ma.fields.String(metadata={"example": "ok"})


@blp.route("")
class Health(MethodView):
    @public
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def get(self):
        """Check that the database answers (503 problem when it does not)"""
        with connection() as conn:
            conn.execute("SELECT 1").fetchone()
        return {"database": "ok"}
