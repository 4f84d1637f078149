"""``/api/auth/totp``: the TOTP second factor (RFC 6238) of the caller's own account:
enrol, confirm, verify the code a session owes, turn it off. Wrong codes count as failed
sign-ins (``cloud.access.throttle``)."""

from __future__ import annotations

from typing import Any

import psycopg
from flask import request
from flask.views import MethodView

from cloud.access import throttle, totp
from cloud.access.guard import note, principal, second_factor, signed_in
from cloud.access.principal import Principal
from cloud.api.auth import ACCOUNT_BY_ID, WRONG_CODE, brief, check_password, refuse
from cloud.api.auth_schemas import CodeSchema, EnrolmentSchema, PasswordSchema, SessionStateSchema
from cloud.api.db import connection, database
from cloud.api.problems import fail, field_error
from cloud.api.schemas import Blueprint

blp = Blueprint("totp", __name__, url_prefix="/api/auth", description="The TOTP second factor")

SET_STAGE = "UPDATE credential SET stage = %s WHERE id = %s"
SESSION_EXPIRY = "SELECT expires_at FROM credential WHERE id = %s"


def _session_only(who: Principal, allowed: tuple[str, ...], what: str) -> None:
    if who.via != "session":
        fail(403, f"{what} needs a signed-in session, not an API token")
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
        with database().connection(scoped=False) as conn:
            outcome = _verify(conn, who, body["code"])
        if isinstance(outcome, throttle.Refusal):
            refuse(outcome)
        if outcome is None:
            field_error("code", [WRONG_CODE])
        return outcome


def _verify(
    conn: psycopg.Connection, who: Principal, code: str
) -> dict[str, Any] | throttle.Refusal | None:
    address = request.remote_addr
    throttle.hold(conn, who.login)
    refusal = throttle.refusal(conn, who.login, address)
    if refusal is not None:
        return refusal
    account = conn.execute(ACCOUNT_BY_ID, (who.account_id,)).fetchone()
    if not totp.consume(conn, who.account_id, account["totp_secret"], code,
                        account["totp_last_step"]):  # fmt: skip
        note(failed="wrong TOTP code", failures=throttle.failed(conn, who.login, address))
        return None
    throttle.succeeded(conn, who.login)
    conn.execute(SET_STAGE, ("full", who.credential_id))
    return _state(conn, who, "full")


@blp.route("/totp/enrol")
class TotpEnrol(MethodView):
    @second_factor
    @blp.response(200, EnrolmentSchema)
    def post(self):
        """Start setting up a TOTP second factor: a new secret for an authenticator app

        It is in force once POST /api/auth/totp/confirm accepts a code of it. Enrolling again
        replaces the factor: the old one stops working now, the new one once confirmed.
        """
        who = principal()
        _session_only(who, ("full", "totp_enrol"), "Enrolling a second factor")
        secret = totp.new_secret()
        with connection() as conn:
            conn.execute(
                """
                UPDATE account SET totp_secret = %s, totp_enabled = false, totp_last_step = NULL,
                                   updated_at = now()
                WHERE id = %s
                """,
                (secret, who.account_id),
            )
        note(totp="enrol")
        return {"secret": secret, "otpauth_uri": totp.provisioning_uri(secret, who.login)}


@blp.route("/totp/confirm")
class TotpConfirm(MethodView):
    @second_factor
    @blp.arguments(CodeSchema)
    @blp.response(200, SessionStateSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body):
        """Turn the enrolled TOTP secret on, with a code it makes; the session becomes full"""
        who = principal()
        _session_only(who, ("full", "totp_enrol"), "Confirming a second factor")
        with connection() as conn:
            account = conn.execute(ACCOUNT_BY_ID, (who.account_id,)).fetchone()
            if account["totp_secret"] is None or account["totp_enabled"]:
                fail(409, "nothing to confirm: POST /api/auth/totp/enrol first")
            if not totp.consume(conn, who.account_id, account["totp_secret"], body["code"],
                                account["totp_last_step"]):  # fmt: skip
                field_error("code", [WRONG_CODE])
            conn.execute(
                "UPDATE account SET totp_enabled = true, updated_at = now() WHERE id = %s",
                (who.account_id,),
            )
            conn.execute(SET_STAGE, ("full", who.credential_id))
            return _state(conn, who, "full")


@blp.route("/totp")
class Totp(MethodView):
    @signed_in
    @blp.arguments(PasswordSchema)
    @blp.response(204)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def delete(self, body):
        """Turn the TOTP second factor off (with the password again)

        Not possible when the operator requires a second factor (409).
        """
        who = principal()
        with connection() as conn:
            if conn.execute(ACCOUNT_BY_ID, (who.account_id,)).fetchone()["mfa_required"]:
                fail(409, "the operator requires a second factor: it cannot be turned off")
        check_password(who, body["password"], "password")
        with connection() as conn:
            totp.turn_off(conn, who.account_id)
