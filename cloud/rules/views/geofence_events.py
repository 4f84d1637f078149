"""``/api/geofence-events``: fence crossings as the worker confirmed them
(``cloud.rules.crossings``)."""

from __future__ import annotations

from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires
from cloud.rules import crossings
from cloud.rules.schemas.alarms import GeofenceEventArgs, GeofenceEventSchema

blp = Blueprint("geofence_events", __name__, description="Fence crossings")


@blp.route("/geofence-events")
class GeofenceEvents(MethodView):
    @requires("geofence.read")
    @blp.arguments(GeofenceEventArgs, location="query")
    @blp.response(200, GeofenceEventSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List fence crossings, newest first

        The crossings of the caller's devices, whoever's fence it was. Filter by `device_id`,
        `geofence_id`, `type` (left or reentered), `breach` (the crossing broke the fence:
        left a keep-in or entered a keep-out) and by device time, `from` <= time < `to`.
        Pages of `page_size` (default 50, at most 500); the `X-Pagination` header gives the
        total.
        """
        with connection() as conn:
            return crossings.page(conn, args, pagination_parameters)
