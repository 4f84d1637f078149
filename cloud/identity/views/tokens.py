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

from flask import url_for
from flask.views import MethodView

from cloud.http.db import connection, database
from cloud.http.schemas import Blueprint
from cloud.identity import credentials, self_service
from cloud.identity.guard import principal, signed_in
from cloud.identity.schemas.auth import TokenCreateSchema, TokenSchema, TokenWithSecretSchema

blp = Blueprint("tokens", __name__, url_prefix="/tokens", description="API tokens")


@blp.route("")
class Tokens(MethodView):
    @signed_in
    @blp.response(200, TokenSchema(many=True))
    def get(self):
        """List the caller's own API tokens (never their secrets)"""
        with connection() as conn:
            return credentials.tokens_of(conn, principal().account_id)

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
        created = self_service.make_token(database(), principal(), body)
        return created, 201, {"Location": url_for("tokens.Token", token_id=created["id"])}


@blp.route("/<int:token_id>")
class Token(MethodView):
    @signed_in
    @blp.response(200, TokenSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, token_id):
        """Get one of the caller's own API tokens"""
        with connection() as conn:
            return credentials.own_token(conn, principal().account_id, token_id)

    @signed_in
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, token_id):
        """Revoke one of the caller's own API tokens"""
        with connection() as conn:
            credentials.revoke_one(conn, principal().account_id, "token", token_id)
