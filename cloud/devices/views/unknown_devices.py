"""``/api/unknown-devices``: devices that publish without being registered.

A list of its own, not under /api/devices, so that no device id can collide with it. The
platform's alone (``platform.unknown_devices``): an unknown device belongs to no operator.
"""

from __future__ import annotations

from flask.views import MethodView

from cloud.devices import unknown
from cloud.devices.schemas.devices import UnknownDeviceSchema
from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE, PagedQueryArgs
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires

blp = Blueprint(
    "unknown-devices",
    __name__,
    url_prefix="/unknown-devices",
    description="Devices that publish without being registered",
)


@blp.route("")
class UnknownDevices(MethodView):
    @requires("platform.unknown_devices")
    @blp.arguments(PagedQueryArgs, location="query")
    @blp.response(200, UnknownDeviceSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List devices that publish without being registered

        Most recently seen first. Registering one (POST /api/devices) removes it from
        this list; its earlier messages stay in the dead letters. A deleted device whose
        gateway still publishes shows up here too; its id stays reserved for the operator
        that held it (and those above), who may register it again.
        """
        with connection() as conn:
            return unknown.page(conn, pagination_parameters)
