"""``/api/broker/authn`` and ``/api/broker/authz``: the broker accounts and their topic rules
for a broker cluster that asks over HTTP, in the shape EMQX 5's HTTP authentication and
authorisation expect (200 with ``{"result": "allow" | "deny"}``). The same accounts and rules
as the Mosquitto files of ``voltrent cloud broker-config`` (cloud/platform/broker_files.py).

The broker signs in like any client of the API: with an API token of a platform account
whose role holds ``platform.broker`` (best a token narrowed to just that permission), sent
as a bearer header on every call. In EMQX 5 (``emqx.conf``, or the same fields in the
dashboard)::

    authentication = [{
      mechanism = password_based, backend = http, method = post
      url = "https://api.example/api/broker/authn"
      headers { "content-type" = "application/json", "authorization" = "Bearer vrt_..." }
      body { username = "${username}", password = "${password}" }
    }]
    authorization {
      no_match = deny
      sources = [{
        type = http, method = post
        url = "https://api.example/api/broker/authz"
        headers { "content-type" = "application/json", "authorization" = "Bearer vrt_..." }
        body { username = "${username}", topic = "${topic}", action = "${action}" }
      }]
    }

A missing, expired or revoked token answers 401 and a token without the permission 403.
EMQX takes any answer but 200 (or 204) as "ignore" and falls through to the next
authenticator or source, and at the end to ``no_match``: keep that ``deny`` (EMQX's default
is ``allow``, which would open every topic while the token is wrong), and renew the token
before it expires.
"""

from __future__ import annotations

from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.schemas import Blueprint
from cloud.identity.guard import requires
from cloud.platform.broker_accounts import may, may_connect
from cloud.platform.schemas import AuthnSchema, AuthzSchema, ResultSchema

blp = Blueprint(
    "broker_auth", __name__, url_prefix="/broker",
    description="Broker authentication and authorisation over HTTP (EMQX 5 compatible)",
)  # fmt: skip


@blp.route("/authn")
class Authn(MethodView):
    @requires("platform.broker")
    @blp.arguments(AuthnSchema)
    @blp.response(200, ResultSchema)
    def post(self, body):
        """May this username and password connect"""
        with connection() as conn:
            ok = may_connect(conn, body["username"], body["password"])
        return {"result": "allow" if ok else "deny", "is_superuser": False}


@blp.route("/authz")
class Authz(MethodView):
    @requires("platform.broker")
    @blp.arguments(AuthzSchema)
    @blp.response(200, ResultSchema)
    def post(self, body):
        """May this account publish to, or subscribe to, this topic"""
        with connection() as conn:
            ok = may(conn, body["username"], body["action"], body["topic"])
        return {"result": "allow" if ok else "deny"}
