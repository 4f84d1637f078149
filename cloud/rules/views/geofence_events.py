"""``/api/geofence-events``: fence crossings as the worker confirmed them.

A crossing is recorded once its dwell time has passed (the worker's hysteresis), with whether
it broke the fence (``breach``: out of a keep-in, into a keep-out), the position that
confirmed it and the command the fence's action issued, if any. A fence deleted later keeps
its crossings: ``geofence_id`` becomes null, ``geofence_name`` stays.
"""

from __future__ import annotations

from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE, fetch_page
from cloud.http.schemas import Blueprint
from cloud.identity import scope
from cloud.identity.guard import requires
from cloud.rules.schemas.alarms import GeofenceEventArgs, GeofenceEventSchema

blp = Blueprint("geofence_events", __name__, description="Fence crossings")

# Crossings from before the device came to the caller's subtree stay its old owner's.
# Every filter is optional: a NULL parameter switches its condition off.
_FILTER = f"""
WHERE {scope.held("geofence_event.device_id", "geofence_event.time")}
  AND (%(device_id)s::text IS NULL OR device_id = %(device_id)s)
  AND (%(geofence_id)s::bigint IS NULL OR geofence_id = %(geofence_id)s)
  AND (%(type)s::text IS NULL OR type = %(type)s)
  AND (%(breach)s::boolean IS NULL OR breach = %(breach)s)
  AND (%(start)s::timestamptz IS NULL OR time >= %(start)s)
  AND (%(end)s::timestamptz IS NULL OR time < %(end)s)
"""
LIST_EVENTS = (
    "SELECT * FROM geofence_event"
    + _FILTER
    + "ORDER BY time DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s"
)
COUNT_EVENTS = "SELECT count(*) AS n FROM geofence_event" + _FILTER


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
        wanted = ("device_id", "geofence_id", "type", "breach", "start", "end")
        params = scope.params(**{key: args.get(key) for key in wanted})
        with connection() as conn:
            return fetch_page(conn, COUNT_EVENTS, LIST_EVENTS, params, pagination_parameters)
