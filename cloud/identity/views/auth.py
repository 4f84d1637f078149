"""``/api/auth``: signing in and out, the caller's own sessions and password
(``cloud.identity.sign_in``, ``credentials``, ``self_service``); the second factor's steps
are ``auth_totp``."""

from __future__ import annotations

import flask_smorest
from flask import after_this_request, current_app, request
from flask.views import MethodView

from cloud.config import CloudConfig
from cloud.http.db import connection, database
from cloud.http.schemas import Blueprint
from cloud.identity import browser, credentials, self_service, sign_in, throttle
from cloud.identity.guard import note, principal, public, second_factor, signed_in
from cloud.identity.schemas.accounts import RevokedSchema
from cloud.identity.schemas.auth import (
    MeSchema,
    PasswordChangeSchema,
    SessionSchema,
    SignedInSchema,
    SignInSchema,
)

blp = Blueprint(
    "auth", __name__, url_prefix="/auth", description="Signing in, sessions, second factor"
)

# Where create_app() may put its CloudConfig; the session lifetimes come from it.
CONFIG_KEY = "CLOUD_CONFIG"


def _config() -> CloudConfig:
    return current_app.config.get(CONFIG_KEY) or CloudConfig()


@blp.route("/sign-in")
class SignIn(MethodView):
    @public
    @blp.arguments(SignInSchema)
    @blp.response(200, SignedInSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(423, response="LOCKED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, body):
        """Sign in with a login and password (and a TOTP code)

        The answer's `token` is the session's bearer secret. A wrong password, an unknown
        login and a disabled account all get the same 401. After 3 failures for a login each
        next attempt must wait 1, 2, 4... s (429 with Retry-After); after 10 the login is
        locked for 15 minutes (423). Many failures from one address block it (429).
        """
        note(actor=body["login"])
        with database().connection(scoped=False) as conn:
            outcome = sign_in.sign_in(
                conn, body["login"], body["password"], body.get("totp"),
                address=request.remote_addr, user_agent=request.user_agent.string,
                config=_config(),
            )  # fmt: skip
        if isinstance(outcome, throttle.Refusal):
            throttle.refuse(outcome)
        if isinstance(outcome, str):
            flask_smorest.abort(
                401, message=outcome, headers={"WWW-Authenticate": 'Bearer realm="voltrent"'}
            )
        if body["cookie"]:
            secret = outcome.pop("token")
            after_this_request(lambda answer: browser.keep(answer, secret, outcome["expires_at"]))
        return outcome


@blp.route("/sign-out")
class SignOut(MethodView):
    @second_factor
    @blp.response(204)
    @blp.alt_response(409, response="CONFLICT")
    def post(self):
        """Sign out: the calling session stops working (and its cookies are deleted)"""
        self_service.sign_out(database(), principal())
        after_this_request(browser.forget)


@blp.route("/me")
class Me(MethodView):
    @second_factor
    @blp.response(200, MeSchema)
    def get(self):
        """Who is asking: account, operator, store, permissions and the session's stage"""
        with connection() as conn:
            return sign_in.me(conn, principal())


@blp.route("/sessions")
class Sessions(MethodView):
    @signed_in
    @blp.response(200, SessionSchema(many=True))
    def get(self):
        """List the caller's own sessions that still work (`current`: this one)"""
        with connection() as conn:
            return credentials.sessions_of(conn, principal().account_id)


@blp.route("/sessions/<int:session_id>")
class OwnSession(MethodView):
    @signed_in
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, session_id):
        """Revoke one of the caller's own sessions (a lost phone, a stolen session)"""
        with connection() as conn:
            credentials.revoke_one(conn, principal().account_id, "session", session_id)


@blp.route("/password")
class Password(MethodView):
    @signed_in
    @blp.arguments(PasswordChangeSchema)
    @blp.response(200, RevokedSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def put(self, body):
        """Change the caller's password; every other session and every API token of the
        account end (`revoked`: how many)"""
        return {
            "revoked": self_service.change_password(
                database(), principal(), body["current"], body["new"]
            )
        }
