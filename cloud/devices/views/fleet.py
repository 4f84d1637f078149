"""``/api/fleet/summary``: the caller's fleet in numbers (cloud.devices.fleet)."""

from __future__ import annotations

from flask.views import MethodView

from cloud.devices import fleet
from cloud.devices.schemas.fleet import FleetSummarySchema
from cloud.http.db import connection
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires

blp = Blueprint("fleet", __name__, url_prefix="/fleet", description="The fleet at a glance")


@blp.route("/summary")
class FleetSummary(MethodView):
    @requires("device.read")
    @blp.response(200, FleetSummarySchema)
    def get(self):
        """Count devices by connectivity, kind, charge state and SOC band

        Charge state and SOC are each device's latest reading, also for a device that
        is offline now.
        """
        with connection() as conn:
            return fleet.summary(conn)
