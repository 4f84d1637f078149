"""``/api/tokens``: the caller's own API tokens, for scripts and integrations.

A token acts as its account, narrowed (if made so) to a list of permissions the maker
had; it has no second factor to owe and works until it expires or is revoked, which a
change or reset of the account's password or second factor does too. While the account's
operator requires a second factor the account lacks, its tokens are refused. Its secret
is shown once, in the answer that makes it. Tokens are made from a signed-in session only,
with the password (or a code of the second factor) again: a token that could make tokens
would outlive its own revocation, and one a stolen session made would outlive the session.
"""

from __future__ import annotations

from typing import Any

import psycopg
from flask import url_for
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.problems import fail, field_error
from cloud.http.schemas import Blueprint
from cloud.identity.guard import note, principal, signed_in
from cloud.identity.principal import issue
from cloud.identity.proof import prove
from cloud.identity.schemas.auth import TokenCreateSchema, TokenSchema, TokenWithSecretSchema
from cloud.identity.views.auth import needs_session, revoke_one

blp = Blueprint("tokens", __name__, url_prefix="/tokens", description="API tokens")

_COLUMNS = """
SELECT c.id, c.account_id, c.name, c.permissions, c.created_at, c.expires_at, c.last_used_at,
       c.last_ip
FROM credential c
"""
# Expired ones too (until revoked): their owner sees why a script stopped working.
LIST_TOKENS = (
    _COLUMNS + "WHERE c.account_id = %s AND c.kind = 'token' AND c.revoked_at IS NULL ORDER BY c.id"
)
GET_TOKEN = _COLUMNS + "WHERE c.id = %s"
GET_OWN_TOKEN = (
    _COLUMNS + "WHERE c.id = %s AND c.account_id = %s AND c.kind = 'token' AND c.revoked_at IS NULL"
)


def tokens_of(conn: psycopg.Connection, account_id: int) -> list[dict[str, Any]]:
    """The account's tokens not revoked (expired ones included), oldest first."""
    return conn.execute(LIST_TOKENS, (account_id,)).fetchall()


@blp.route("")
class Tokens(MethodView):
    @signed_in
    @blp.response(200, TokenSchema(many=True))
    def get(self):
        """List the caller's own API tokens (never their secrets)"""
        with connection() as conn:
            return tokens_of(conn, principal().account_id)

    @signed_in
    @blp.arguments(TokenCreateSchema)
    @blp.response(201, TokenWithSecretSchema, headers={"Location": {"schema": {"type": "string"}}})
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.alt_response(423, response="LOCKED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, body):
        """Make an API token acting as the caller

        Needs the account's `password` again (or a `code` of its second factor), so that a
        stolen session cannot leave a token behind. `permissions` narrows it to some of the
        caller's own (422 names any the caller does not have). The answer is the only one
        that shows the `secret`.
        """
        who = principal()
        needs_session(who, "Making an API token")
        wanted = body.get("permissions")
        if wanted is not None:
            beyond = [name for name in wanted if name not in who.permissions]
            field_error("permissions", [f"{n!r} is not one of your permissions" for n in beyond])
        prove(who, body, "make an API token")
        with connection() as conn:
            token_id, secret = issue(
                conn,
                who.account_id,
                "token",
                name=body["name"],
                expires_at=body.get("expires_at"),
                permissions=wanted,
            )
            created = {**conn.execute(GET_TOKEN, (token_id,)).fetchone(), "secret": secret}
        note(token_id=token_id)
        return created, 201, {"Location": url_for("tokens.Token", token_id=token_id)}


@blp.route("/<int:token_id>")
class Token(MethodView):
    @signed_in
    @blp.response(200, TokenSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, token_id):
        """Get one of the caller's own API tokens"""
        with connection() as conn:
            row = conn.execute(GET_OWN_TOKEN, (token_id, principal().account_id)).fetchone()
        if row is None:
            fail(404, f"no token {token_id}")
        return row

    @signed_in
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, token_id):
        """Revoke one of the caller's own API tokens"""
        who = principal()
        with connection() as conn:
            revoke_one(conn, who.account_id, "token", token_id)
