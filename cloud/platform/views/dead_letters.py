"""``/api/dead-letters``: payloads the ingest worker could not store, and why
(``cloud.platform.dead_letters``).

The platform's alone (``platform.dead_letters``): a rejected payload may name no device, or
one that is not registered.
"""

from __future__ import annotations

from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires
from cloud.platform import dead_letters
from cloud.platform.schemas import DeadLetterArgs, DeadLetterSchema

blp = Blueprint(
    "dead-letters",
    __name__,
    url_prefix="/dead-letters",
    description="Messages the cloud rejected, kept with the reason",
)


@blp.route("")
class DeadLetters(MethodView):
    @requires("platform.dead_letters")
    @blp.arguments(DeadLetterArgs, location="query")
    @blp.response(200, DeadLetterSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=100)
    def get(self, args, pagination_parameters):
        """List rejected messages, newest first"""
        with connection() as conn:
            return dead_letters.page(conn, args, pagination_parameters)
