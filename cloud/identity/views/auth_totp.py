"""``/api/auth/totp``: the TOTP second factor (RFC 6238) of the caller's own account:
enrol, confirm, verify the code a session owes, turn it off. Wrong codes count as failed
sign-ins (``cloud.identity.throttle``).

Enrolling needs the password or a code of the factor in force, so a stolen session can
neither bind the account to a thief's phone nor take its factor off. The new secret waits
beside the factor in force, which keeps working (at sign-in too) until a code of the new one
confirms it. Turning the factor off ends every other session and every API token.
"""

from __future__ import annotations

from typing import Any

import psycopg
from flask.views import MethodView

from cloud.http.db import connection, database
from cloud.http.problems import fail, field_error
from cloud.http.schemas import Blueprint
from cloud.identity import throttle, totp
from cloud.identity.guard import note, principal, second_factor, signed_in
from cloud.identity.principal import Principal
from cloud.identity.proof import WRONG_TOTP, prove, take_code
from cloud.identity.schemas.accounts import RevokedSchema
from cloud.identity.schemas.auth import (
    CodeSchema,
    EnrolmentSchema,
    PasswordSchema,
    ProofSchema,
    SessionStateSchema,
)
from cloud.identity.views.auth import (
    ACCOUNT_BY_ID,
    WRONG_CODE,
    brief,
    check_password,
    needs_session,
    refuse,
    revoke_all,
)

blp = Blueprint("totp", __name__, url_prefix="/auth", description="The TOTP second factor")

SET_STAGE = "UPDATE credential SET stage = %s WHERE id = %s"
SESSION_EXPIRY = "SELECT expires_at FROM credential WHERE id = %s"


def _session_only(who: Principal, allowed: tuple[str, ...], what: str) -> None:
    needs_session(who, what)
    if who.stage not in allowed:
        fail(403, f"{what} is not for a session owing its TOTP code: verify it first")


def _state(conn: psycopg.Connection, who: Principal, stage: str) -> dict[str, Any]:
    account = conn.execute(ACCOUNT_BY_ID, (who.account_id,)).fetchone()
    expires_at = conn.execute(SESSION_EXPIRY, (who.credential_id,)).fetchone()["expires_at"]
    return {"stage": stage, "expires_at": expires_at, "account": brief(account)}


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
        who = principal()
        if who.stage != "totp":
            fail(409, f"this session owes no TOTP code (its stage is {who.stage})")
        state = None
        with database().connection(scoped=False) as conn:
            outcome = take_code(conn, who, body["code"])
            if outcome is True:
                throttle.succeeded(conn, who.login)
                conn.execute(SET_STAGE, ("full", who.credential_id))
                state = _state(conn, who, "full")
        if isinstance(outcome, throttle.Refusal):
            refuse(outcome)
        if state is None:
            field_error("code", [WRONG_CODE])
        return state


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
        who = principal()
        _session_only(who, ("full", "totp_enrol"), "Enrolling a second factor")
        in_force = prove(who, body, "enrol")["totp_enabled"]
        secret = totp.new_secret()
        with connection() as conn:
            totp.enrol(conn, who.account_id, secret)
        note(totp="enrol", replacing=in_force)
        return {"secret": secret, "otpauth_uri": totp.provisioning_uri(secret, who.login)}


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
        who = principal()
        _session_only(who, ("full", "totp_enrol"), "Confirming a second factor")
        with connection() as conn:
            account = conn.execute(ACCOUNT_BY_ID, (who.account_id,)).fetchone()
            pending = account["totp_pending_secret"]
            if pending is None:
                fail(409, "nothing to confirm: POST /api/auth/totp/enrol first")
            if not totp.confirm(conn, who.account_id, pending, body["code"]):
                note(failed=WRONG_TOTP)
                field_error("code", [WRONG_CODE])
            conn.execute(SET_STAGE, ("full", who.credential_id))
            note(totp="confirm", replaced=account["totp_enabled"])
            return _state(conn, who, "full")


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
        who = principal()
        needs_session(who, "Turning the second factor off")
        with connection() as conn:
            if conn.execute(ACCOUNT_BY_ID, (who.account_id,)).fetchone()["mfa_required"]:
                fail(409, "the operator requires a second factor: it cannot be turned off")
        check_password(who, body["password"], "password")
        with connection() as conn:
            totp.turn_off(conn, who.account_id)
            note(totp="off")
            return {"revoked": revoke_all(conn, who.account_id, keep=who.credential_id)}
