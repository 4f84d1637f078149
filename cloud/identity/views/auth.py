"""``/api/auth``: signing in and out, the second factor (TOTP), the caller's own sessions and
password.

Signing in checks the password (argon2id), then the second factor: an account with TOTP
enabled, or of an operator that requires it, gets a session of stage ``totp`` (it must
confirm a code) or ``totp_enrol`` (it must first set one up) unless a valid code came with
the password. Such a session can only finish that step, sign out and ask ``/me``. Every
answer to a failed attempt is the same 401, whether the login exists, the password is
wrong or the account is disabled; repeated failures are slowed and locked out by
``cloud.identity.throttle`` before the password is even checked.

Changing the password (and turning the second factor off, ``auth_totp``) ends every other
session and every API token of the account: whoever stole one of them loses it with the old
password. The session making the change carries on, as on most sites that sign the other
devices out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import flask_smorest
import psycopg
from flask import current_app, request
from flask.views import MethodView

from cloud.config import CloudConfig
from cloud.http.db import connection, database
from cloud.http.problems import fail, field_error
from cloud.http.schemas import Blueprint
from cloud.identity import passwords, throttle, totp
from cloud.identity.guard import note, principal, public, second_factor, signed_in
from cloud.identity.principal import EFFECTIVE_STAGE, Principal, issue
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

WRONG = "login or password is wrong"
WRONG_CODE = "the code is wrong or was used already"
# Where create_app() may put its CloudConfig; the session lifetimes come from it.
CONFIG_KEY = "CLOUD_CONFIG"

_ACCOUNT = """
SELECT a.id, a.login, a.name, a.operator_id, a.store_id, a.password_hash, a.totp_secret,
       a.totp_enabled, a.totp_last_step, a.totp_pending_secret,
       a.totp_pending_secret IS NOT NULL AS totp_pending, a.disabled_at, o.mfa_required
FROM account a JOIN operator o ON o.id = a.operator_id
WHERE a.{key} = %s
"""
ACCOUNT_BY_LOGIN = _ACCOUNT.format(key="login")
ACCOUNT_BY_ID = _ACCOUNT.format(key="id")
SIGNED_IN = "UPDATE account SET last_sign_in_at = now() WHERE id = %s"
REHASH = "UPDATE account SET password_hash = %s WHERE id = %s"

# A credential that still works (principal.authenticate() applies the same rules).
ACTIVE = """
c.revoked_at IS NULL
AND (c.expires_at IS NULL OR c.expires_at > now())
AND (c.idle_timeout_s IS NULL
     OR coalesce(c.last_used_at, c.created_at) + make_interval(secs => c.idle_timeout_s) > now())
"""
LIST_SESSIONS = f"""
SELECT c.id, c.account_id, c.name, {EFFECTIVE_STAGE} AS stage, c.created_at, c.expires_at,
       c.idle_timeout_s, c.last_used_at, c.last_ip, c.id = %(current)s AS current
FROM credential c
JOIN account a ON a.id = c.account_id
JOIN operator o ON o.id = a.operator_id
WHERE c.account_id = %(account_id)s AND c.kind = 'session' AND {ACTIVE}
ORDER BY c.id
"""
# Revoke an account's credentials of the given kinds: one (id), or all but one (keep).
REVOKE = """
UPDATE credential SET revoked_at = now(), revoked_by = %(by)s
WHERE account_id = %(account_id)s AND kind = ANY (%(kinds)s) AND revoked_at IS NULL
  AND (%(id)s::bigint IS NULL OR id = %(id)s::bigint)
  AND (%(keep)s::bigint IS NULL OR id <> %(keep)s::bigint)
RETURNING id
"""

ME = """
SELECT a.id, a.login, a.name, a.operator_id, a.store_id, a.totp_enabled,
       a.totp_pending_secret IS NOT NULL AS totp_pending,
       o.name AS operator_name, o.flags, o.mfa_required, s.name AS store_name
FROM account a
JOIN operator o ON o.id = a.operator_id
LEFT JOIN store s ON s.id = a.store_id
WHERE a.id = %s
"""


def revoke(
    conn: psycopg.Connection,
    account_id: int,
    *,
    kinds: tuple[str, ...] = ("session",),
    credential_id: int | None = None,
    keep: int | None = None,
) -> int:
    """Revoke ``account_id``'s live credentials of ``kinds`` (only ``credential_id``, or all
    but ``keep``), in the caller's name; returns how many."""
    params = {"by": principal().actor, "account_id": account_id, "kinds": list(kinds),
              "id": credential_id, "keep": keep}  # fmt: skip
    return len(conn.execute(REVOKE, params).fetchall())


def revoke_all(conn: psycopg.Connection, account_id: int, *, keep: int | None = None) -> int:
    """End every session and API token of ``account_id`` but ``keep`` (the caller's own
    session, where it survives its own change); the audit row and the answer say how many."""
    revoked = revoke(conn, account_id, kinds=("session", "token"), keep=keep)
    note(revoked=revoked)
    return revoked


def needs_session(who: Principal, what: str) -> None:
    """403 unless the caller is a signed-in session: an API token, made for a script, does
    not change the credentials of its account."""
    if who.via != "session":
        fail(403, f"{what} needs a signed-in session, not an API token")


def revoke_one(conn: psycopg.Connection, account_id: int, kind: str, credential_id: int) -> None:
    """Revoke one live ``kind`` ('session' or 'token') of ``account_id``; 404 if it has none
    of that id."""
    if not revoke(conn, account_id, kinds=(kind,), credential_id=credential_id):
        fail(404, f"no {kind} {credential_id} of account {account_id}")


def sessions_of(conn: psycopg.Connection, account_id: int) -> list[dict[str, Any]]:
    """The account's sessions that still work, oldest first."""
    params = {"account_id": account_id, "current": principal().credential_id}
    return conn.execute(LIST_SESSIONS, params).fetchall()


def brief(account: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "login", "name", "operator_id", "store_id", "totp_enabled", "totp_pending")
    return {key: account[key] for key in keys}


def _config() -> CloudConfig:
    return current_app.config.get(CONFIG_KEY) or CloudConfig()


def refuse(refusal: throttle.Refusal) -> NoReturn:
    note(refused=refusal.detail)
    flask_smorest.abort(
        refusal.status,
        message=refusal.detail,
        headers={"Retry-After": str(refusal.retry_after_s)},
    )


def _password_matches(account: dict[str, Any] | None, password: str) -> bool:
    if account is None or account["password_hash"] is None:
        return passwords.verify_nothing(password)
    return passwords.verify(account["password_hash"], password)


def _sign_in(
    conn: psycopg.Connection, login: str, password: str, code: str | None
) -> dict[str, Any] | throttle.Refusal | str:
    """The new session, a refusal, or the 401's detail. Runs in one transaction that the
    caller commits before answering, so failures count even though the answer is an error."""
    address = request.remote_addr
    throttle.hold(conn, login)
    refusal = throttle.refusal(conn, login, address)
    if refusal is not None:
        return refusal
    account = conn.execute(ACCOUNT_BY_LOGIN, (login,)).fetchone()
    if account is not None:
        note(account_id=account["id"], operator_id=account["operator_id"])
    matches = _password_matches(account, password)
    if not matches or account["disabled_at"] is not None:
        why = (
            "unknown login" if account is None else "wrong password" if not matches else "disabled"
        )
        note(failed=why, failures=throttle.failed(conn, login, address))
        return WRONG
    if passwords.needs_rehash(account["password_hash"]):
        conn.execute(REHASH, (passwords.hash_password(password), account["id"]))
    stage = "full"
    if account["totp_enabled"]:
        if code is None:
            stage = "totp"
        elif not totp.consume(
            conn, account["id"], account["totp_secret"], code, account["totp_last_step"]
        ):
            note(failed="wrong TOTP code", failures=throttle.failed(conn, login, address))
            return f"totp: {WRONG_CODE}"
    elif account["mfa_required"]:
        stage = "totp_enrol"
    if stage != "totp":  # a password alone is not a success while a code is owed
        throttle.succeeded(conn, login)
    conn.execute(SIGNED_IN, (account["id"],))
    config = _config()
    expires_at = datetime.now(UTC) + timedelta(hours=config.session_hours)
    _, secret = issue(
        conn,
        account["id"],
        "session",
        name=request.user_agent.string[:200],
        stage=stage,
        expires_at=expires_at,
        idle_timeout_s=config.session_idle_minutes * 60,
        ip=address,
    )
    note(stage=stage)
    return {"token": secret, "expires_at": expires_at, "stage": stage, "account": brief(account)}


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
            outcome = _sign_in(conn, body["login"], body["password"], body.get("totp"))
        if isinstance(outcome, throttle.Refusal):
            refuse(outcome)
        if isinstance(outcome, str):
            flask_smorest.abort(
                401, message=outcome, headers={"WWW-Authenticate": 'Bearer realm="voltrent"'}
            )
        return outcome


def check_password(who: Principal, password: str, field: str) -> None:
    """422 naming ``field`` unless ``password`` is the caller's; counted like a sign-in."""
    matches = False
    with database().connection(scoped=False) as conn:
        throttle.hold(conn, who.login)
        refusal = throttle.refusal(conn, who.login, request.remote_addr)
        if refusal is None:
            account = conn.execute(ACCOUNT_BY_ID, (who.account_id,)).fetchone()
            matches = _password_matches(account, password)
            if not matches:
                throttle.failed(conn, who.login, request.remote_addr)
    if refusal is not None:
        refuse(refusal)
    if not matches:
        field_error(field, ["is not the account's password"])


@blp.route("/sign-out")
class SignOut(MethodView):
    @second_factor
    @blp.response(204)
    @blp.alt_response(409, response="CONFLICT")
    def post(self):
        """Sign out: the calling session stops working"""
        who = principal()
        if who.via != "session":
            fail(409, "an API token is not signed in: revoke it with DELETE /api/tokens/{id}")
        with connection() as conn:
            revoke(conn, who.account_id, credential_id=who.credential_id)


@blp.route("/me")
class Me(MethodView):
    @second_factor
    @blp.response(200, MeSchema)
    def get(self):
        """Who is asking: account, operator, store, permissions and the session's stage"""
        who = principal()
        with connection() as conn:
            row = conn.execute(ME, (who.account_id,)).fetchone()
        store = None
        if row["store_id"] is not None:
            store = {"id": row["store_id"], "name": row["store_name"]}
        return {
            "account": brief(row),
            "operator": {"id": row["operator_id"], "name": row["operator_name"],
                         "flags": row["flags"], "mfa_required": row["mfa_required"]},
            "store": store,
            "permissions": sorted(who.permissions) if who.stage == "full" else [],
            "stage": who.stage,
            "via": who.via,
        }  # fmt: skip


@blp.route("/sessions")
class Sessions(MethodView):
    @signed_in
    @blp.response(200, SessionSchema(many=True))
    def get(self):
        """List the caller's own sessions that still work (`current`: this one)"""
        with connection() as conn:
            return sessions_of(conn, principal().account_id)


@blp.route("/sessions/<int:session_id>")
class OwnSession(MethodView):
    @signed_in
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, session_id):
        """Revoke one of the caller's own sessions (a lost phone, a stolen session)"""
        who = principal()
        with connection() as conn:
            revoke_one(conn, who.account_id, "session", session_id)


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
        who = principal()
        needs_session(who, "Changing the password")
        field_error("new", passwords.policy_problems(body["new"], who.login))
        check_password(who, body["current"], "current")
        with connection() as conn:
            conn.execute(
                """
                UPDATE account SET password_hash = %s, password_changed_at = now(),
                                   updated_at = now()
                WHERE id = %s
                """,
                (passwords.hash_password(body["new"]), who.account_id),
            )
            return {"revoked": revoke_all(conn, who.account_id, keep=who.credential_id)}
