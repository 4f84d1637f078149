"""Schemas of signing in, sessions, the second factor and API tokens: bodies and answers.

A login is compared in lower case (the store keeps it so); passwords are write-only and
never appear in an answer, a bearer secret only in the one answer that makes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma

from cloud.http.schemas import Timestamp
from cloud.identity.passwords import MAX_LENGTH
from cloud.identity.principal import SESSION_PREFIX, TOKEN_PREFIX
from cloud.identity.totp import DIGITS

_STAGE_HELP = (
    "full; totp: the session must confirm a TOTP code (POST /api/auth/totp/verify) before it"
    " can do anything else; totp_enrol: the operator requires a second factor the account has"
    " not set up yet (POST /api/auth/totp/enrol, then /totp/confirm)"
)


def _password(*, required: bool = True, **metadata: Any) -> ma.fields.String:
    return ma.fields.String(
        required=required,
        load_only=True,
        validate=ma.validate.Length(min=1, max=MAX_LENGTH),
        metadata=metadata,
    )


def _code(
    *, required: bool = True, description: str = "the code the authenticator app shows now"
) -> ma.fields.String:
    return ma.fields.String(
        required=required,
        validate=ma.validate.Regexp(rf"^\d{{{DIGITS}}}$", error=f"must be {DIGITS} digits"),
        metadata={"description": description},
    )


class SignInSchema(ma.Schema):
    """The body of POST /api/auth/sign-in."""

    login = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    password = _password()
    totp = _code(required=False, description="the TOTP code, for an account with a second factor")
    cookie = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "true (the console): keep the session's secret in an HttpOnly"
            " cookie, with a CSRF token in the vr_csrf cookie to send back as X-CSRF-Token;"
            " the answer then has no `token`"
        },
    )

    @ma.post_load
    def _lower(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["login"] = data["login"].strip().lower()
        return data


class AccountBriefSchema(ma.Schema):
    id = ma.fields.Integer()
    login = ma.fields.String()
    name = ma.fields.String()
    operator_id = ma.fields.Integer()
    store_id = ma.fields.Integer(allow_none=True)
    totp_enabled = ma.fields.Boolean(metadata={"description": "a second factor is in force"})
    totp_pending = ma.fields.Boolean(
        metadata={"description": "a new one is enrolled and waits to be confirmed"}
    )


class SessionStateSchema(ma.Schema):
    """Where a session stands."""

    stage = ma.fields.String(metadata={"description": _STAGE_HELP})
    expires_at = Timestamp()
    account = ma.fields.Nested(AccountBriefSchema)


class SignedInSchema(SessionStateSchema):
    """A new session: its bearer secret is in this answer only."""

    token = ma.fields.String(
        metadata={"description": f"send as 'Authorization: Bearer {SESSION_PREFIX}...'"}
    )


class CodeSchema(ma.Schema):
    """A TOTP code."""

    code = _code()


class EnrolmentSchema(ma.Schema):
    """A new TOTP secret, to put into an authenticator app (in force once confirmed)."""

    secret = ma.fields.String(metadata={"description": "base32, for typing in"})
    otpauth_uri = ma.fields.String(metadata={"description": "otpauth://totp/..., for a QR code"})


class ProofSchema(ma.Schema):
    """The body of POST /api/auth/totp/enrol: the account's password, or a code of its second
    factor in force."""

    password = _password(required=False, description="the account's password")
    code = _code(required=False, description="or a code of the second factor in force")


class PasswordSchema(ma.Schema):
    """The account's password, asked again before a sensitive change."""

    password = _password()


class PasswordChangeSchema(ma.Schema):
    """The body of PUT /api/auth/password."""

    current = _password(description="the password now")
    new = _password(description="at least 12 characters, not the login, not a common one")


class OperatorBriefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    flags = ma.fields.List(ma.fields.String())
    mfa_required = ma.fields.Boolean()


class StoreBriefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class MeSchema(ma.Schema):
    """The caller: its account, operator, store, what it may do and how it signed in."""

    account = ma.fields.Nested(AccountBriefSchema)
    operator = ma.fields.Nested(OperatorBriefSchema)
    store = ma.fields.Nested(
        StoreBriefSchema, allow_none=True, metadata={"description": "null: not a store's"}
    )
    permissions = ma.fields.List(
        ma.fields.String(), metadata={"description": "what the caller may do now"}
    )
    stage = ma.fields.String(metadata={"description": _STAGE_HELP})
    via = ma.fields.String(metadata={"description": "session or token"})


class SessionSchema(ma.Schema):
    """A signed-in session (never its secret)."""

    id = ma.fields.Integer()
    account_id = ma.fields.Integer()
    name = ma.fields.String(metadata={"description": "the user agent that signed in"})
    stage = ma.fields.String()
    created_at = Timestamp()
    expires_at = Timestamp(allow_none=True)
    idle_timeout_s = ma.fields.Integer(
        allow_none=True, metadata={"description": "ends after this long unused"}
    )
    last_used_at = Timestamp(allow_none=True)
    last_ip = ma.fields.String(allow_none=True)
    current = ma.fields.Boolean(metadata={"description": "the session asking"})


class TokenCreateSchema(ProofSchema):
    """The body of POST /api/tokens (with the password, or a code of the second factor)."""

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    expires_at = Timestamp(
        allow_none=True, metadata={"description": "absent or null: until revoked"}
    )
    permissions = ma.fields.List(
        ma.fields.String(),
        allow_none=True,
        validate=ma.validate.Length(min=1, error="list at least one, or null for all yours"),
        metadata={
            "description": "narrow the token to these (each one you have); absent or null:"
            " whatever the account may do at the time"
        },
    )

    @ma.validates("expires_at")
    def _future(self, value: datetime | None, **kwargs: Any) -> None:
        if value is not None and value <= datetime.now(UTC):
            raise ma.ValidationError("must be in the future")

    @ma.post_load
    def _unique(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("permissions"):
            data["permissions"] = sorted(set(data["permissions"]))
        return data


class TokenSchema(ma.Schema):
    """An API token (never its secret)."""

    id = ma.fields.Integer()
    account_id = ma.fields.Integer()
    name = ma.fields.String()
    permissions = ma.fields.List(
        ma.fields.String(), allow_none=True, metadata={"description": "null: not narrowed"}
    )
    created_at = Timestamp()
    expires_at = Timestamp(allow_none=True)
    last_used_at = Timestamp(allow_none=True)
    last_ip = ma.fields.String(allow_none=True)


class TokenWithSecretSchema(TokenSchema):
    """A new token with its secret: in the answer to POST /api/tokens only."""

    secret = ma.fields.String(
        metadata={"description": f"'{TOKEN_PREFIX}...': keep it, it is not shown again"}
    )
