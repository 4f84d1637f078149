"""``/api/auth/totp``: the TOTP second factor (RFC 6238) of the caller's own account:
enrol, confirm, verify the code a session owes, turn it off (``cloud.identity.self_service``).
Wrong codes count as failed sign-ins (``cloud.identity.throttle``)."""

from __future__ import annotations

from flask.views import MethodView

from cloud.http.db import database
from cloud.http.schemas import Blueprint
from cloud.identity import self_service
from cloud.identity.guard import principal, second_factor, signed_in
from cloud.identity.schemas.accounts import RevokedSchema
from cloud.identity.schemas.auth import (
    CodeSchema,
    EnrolmentSchema,
    PasswordSchema,
    ProofSchema,
    SessionStateSchema,
)

blp = Blueprint("totp", __name__, url_prefix="/auth", description="The TOTP second factor")


@blp.route("/totp/verify")
class TotpVerify(MethodView):
    @second_factor
    @blp.arguments(CodeSchema)
    @blp.response(200, SessionStateSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.alt_response(423, response="LOCKED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, body):
        """Confirm the TOTP code a session owes; the session can then do everything

        A wrong code counts as a failed sign-in (slowed down and locked out the same way).
        """
        return self_service.verify(database(), principal(), body["code"])


@blp.route("/totp/enrol")
class TotpEnrol(MethodView):
    @second_factor
    @blp.arguments(ProofSchema)
    @blp.response(200, EnrolmentSchema)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.alt_response(423, response="LOCKED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, body):
        """Start setting up a TOTP second factor: a new secret for an authenticator app

        Needs the account's `password`, or a `code` of its second factor in force. The new
        secret is in force once POST /api/auth/totp/confirm accepts a code of it; until then
        the factor in force (if any) keeps working, at sign-in too. A wrong password or code
        counts as a failed sign-in.
        """
        return self_service.enrol(database(), principal(), body)


@blp.route("/totp/confirm")
class TotpConfirm(MethodView):
    @second_factor
    @blp.arguments(CodeSchema)
    @blp.response(200, SessionStateSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body):
        """Put the enrolled TOTP secret in force with a code it makes (replacing the factor
        in force, if any); the session becomes full"""
        return self_service.confirm(database(), principal(), body["code"])


@blp.route("/totp")
class Totp(MethodView):
    @signed_in
    @blp.arguments(PasswordSchema)
    @blp.response(200, RevokedSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def delete(self, body):
        """Turn the TOTP second factor off (with the password again)

        Every other session and every API token of the account end (`revoked`: how many).
        Not possible when the operator requires a second factor (409).
        """
        return {"revoked": self_service.turn_off(database(), principal(), body["password"])}
