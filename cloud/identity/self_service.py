"""What a signed-in caller changes of its own account: signing out, its password, its API
tokens, and its TOTP second factor (enrol, confirm, turn off, and confirming the code a
session owes).

Making a token needs a session and the password (or a code of the second factor) again: a
token that could make tokens would outlive its own revocation, and one a stolen session made
would outlive the session.

Enrolling needs the password or a code of the factor in force, so a stolen session can
neither bind the account to a thief's phone nor take its factor off. The new secret waits
beside the factor in force, which keeps working (at sign-in too) until a code of the new one
confirms it. Changing the password and turning the factor off end every other session and
every API token of the account (``credentials.revoke_all``): the session making the change
carries on, as on most sites that sign the other devices out.
"""

from __future__ import annotations

from typing import Any

from cloud.errors import Conflict, Forbidden, field_error
from cloud.identity import accounts, credentials, passwords, proof, sign_in, throttle, totp
from cloud.identity.guard import note
from cloud.identity.principal import Principal, issue
from cloud.store.db import Connections

# The stages of a session that may change its second factor (not one owing its code).
MAY_ENROL = ("full", "totp_enrol")


def sign_out(db: Connections, who: Principal) -> None:
    """The caller's session stops working (409 for an API token: revoke it instead)."""
    if who.via != "session":
        raise Conflict("an API token is not signed in: revoke it with DELETE /api/tokens/{id}")
    with db.connection() as conn:
        credentials.revoke(conn, who.account_id, credential_id=who.credential_id)


def change_password(db: Connections, who: Principal, current: str, new: str) -> int:
    """Make ``new`` the caller's password once ``current`` proves it is the owner; returns
    how many other sessions and tokens ended."""
    proof.needs_session(who, "Changing the password")
    field_error("new", passwords.policy_problems(new, who.login))
    proof.check_password(db, who, current, "current")
    with db.connection() as conn:
        accounts.set_password(conn, who.account_id, new)
        return credentials.revoke_all(conn, who.account_id, keep=who.credential_id)


def make_token(db: Connections, who: Principal, wanted: dict[str, Any]) -> dict[str, Any]:
    """A new API token acting as the caller (``wanted``: the API's body), narrowed to
    ``permissions`` the caller has; its row with the ``secret``, shown this once."""
    proof.needs_session(who, "Making an API token")
    narrowed = wanted.get("permissions")
    if narrowed is not None:
        beyond = [name for name in narrowed if name not in who.permissions]
        field_error("permissions", [f"{n!r} is not one of your permissions" for n in beyond])
    proof.prove(db, who, wanted, "make an API token")
    with db.connection() as conn:
        token_id, secret = issue(
            conn,
            who.account_id,
            "token",
            name=wanted["name"],
            expires_at=wanted.get("expires_at"),
            permissions=narrowed,
        )
        created = {**credentials.token(conn, token_id), "secret": secret}
    note(token_id=token_id)
    return created


def _state(account: dict[str, Any], expires_at: Any) -> dict[str, Any]:
    """The answer for a session that owes no second factor any more."""
    return {"stage": "full", "expires_at": expires_at, "account": sign_in.brief(account)}


def verify(db: Connections, who: Principal, code: str) -> dict[str, Any]:
    """The session owing its TOTP code becomes full once ``code`` is right (counted like a
    sign-in)."""
    if who.stage != "totp":
        raise Conflict(f"this session owes no TOTP code (its stage is {who.stage})")
    with db.connection(scoped=False) as conn:
        account = proof.held_account(conn, who)
        outcome = proof.by_code(conn, who, account, code)
        if outcome is True:
            throttle.succeeded(conn, who.login)
            expires_at = credentials.second_factor_done(conn, who.credential_id)
    proof.settle(outcome, "code", sign_in.WRONG_CODE)
    return _state(account, expires_at)


def _may_enrol(who: Principal, what: str) -> None:
    proof.needs_session(who, what)
    if who.stage not in MAY_ENROL:
        raise Forbidden(f"{what} is not for a session owing its TOTP code: verify it first")


def enrol(db: Connections, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """A new secret for an authenticator app, pending until ``confirm``, once ``body``
    proves the caller is the owner (``proof.prove``)."""
    _may_enrol(who, "Enrolling a second factor")
    in_force = proof.prove(db, who, body, "enrol")["totp_enabled"]
    secret = totp.new_secret()
    with db.connection() as conn:
        totp.enrol(conn, who.account_id, secret)
    note(totp="enrol", replacing=in_force)
    return {"secret": secret, "otpauth_uri": totp.provisioning_uri(secret, who.login)}


def confirm(db: Connections, who: Principal, code: str) -> dict[str, Any]:
    """Put the pending secret in force with ``code`` (replacing the factor in force, if
    any); the session becomes full."""
    _may_enrol(who, "Confirming a second factor")
    with db.connection() as conn:
        account = sign_in.account(conn, who.account_id)
        pending = account["totp_pending_secret"]
        if pending is None:
            raise Conflict("nothing to confirm: POST /api/auth/totp/enrol first")
        if not totp.confirm(conn, who.account_id, pending, code):
            note(failed=proof.WRONG_TOTP)
            field_error("code", [sign_in.WRONG_CODE])
        expires_at = credentials.second_factor_done(conn, who.credential_id)
        note(totp="confirm", replaced=account["totp_enabled"])
        return _state(sign_in.account(conn, who.account_id), expires_at)  # now in force


def turn_off(db: Connections, who: Principal, password: str) -> int:
    """Take the caller's second factor off once ``password`` proves it is the owner (409
    while its operator requires one); returns how many other sessions and tokens ended."""
    proof.needs_session(who, "Turning the second factor off")
    with db.connection() as conn:
        if sign_in.account(conn, who.account_id)["mfa_required"]:
            raise Conflict("the operator requires a second factor: it cannot be turned off")
    proof.check_password(db, who, password, "password")
    with db.connection() as conn:
        totp.turn_off(conn, who.account_id)
        note(totp="off")
        return credentials.revoke_all(conn, who.account_id, keep=who.credential_id)
