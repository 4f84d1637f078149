"""``/api/accounts``: the people (and integrations) of an operator's subtree, their roles,
sessions and tokens.

A caller may only give roles within what it may do itself, and may only change an account
that cannot do more than it can (so nobody takes over a stronger account by resetting its
password). Its own account it may rename, nothing more: its roles, store, password and
lock-out change through someone else (or PUT /api/auth/password). Disabling an account,
revoking its sessions, resetting its password or its second factor ends every session and
token it has at once: whoever held one with the old password or factor is shut out.
"""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE
from cloud.http.schemas import Blueprint
from cloud.identity import accounts, credentials, powers
from cloud.identity.guard import requires
from cloud.identity.schemas.accounts import (
    AccountCreateSchema,
    AccountListArgs,
    AccountSchema,
    AccountUpdateSchema,
    AccountWithPasswordSchema,
    RevokedSchema,
)
from cloud.identity.schemas.auth import SessionSchema, TokenSchema

blp = Blueprint("accounts", __name__, url_prefix="/accounts", description="Accounts")


@blp.route("")
class Accounts(MethodView):
    @requires("account.read")
    @blp.arguments(AccountListArgs, location="query")
    @blp.response(200, AccountSchema(many=True))
    @blp.paginate(page_size=PAGE_SIZE, max_page_size=500)
    def get(self, args, pagination_parameters):
        """List accounts of the caller's subtree, ordered by id

        Filter by `operator_id` (with its sub-operators), `store_id` and `q` (part of the
        login or name).
        """
        with connection() as conn:
            return accounts.page(conn, args, pagination_parameters)

    @requires("account.write")
    @blp.arguments(AccountCreateSchema)
    @blp.response(
        201, AccountWithPasswordSchema, headers={"Location": {"schema": {"type": "string"}}}
    )
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body):
        """Create an account

        Without a `password` one is generated and shown once in the answer. Roles must be
        the operator's own and within what the caller may do.
        """
        with connection() as conn:
            created = accounts.add(conn, body)
        return created, 201, {"Location": url_for("accounts.Account", account_id=created["id"])}


@blp.route("/<int:account_id>")
class Account(MethodView):
    @requires("account.read")
    @blp.response(200, AccountSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, account_id):
        """Get an account"""
        with connection() as conn:
            return accounts.get(conn, account_id)

    @requires("account.write")
    @blp.arguments(AccountUpdateSchema)
    @blp.response(200, AccountWithPasswordSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, changes, account_id):
        """Change an account's name, store or roles; disable or enable it; reset its password
        or its second factor

        `disabled: true` ends its sessions and tokens; `reset_password: true` answers with a
        new password (shown once), ends its sessions and tokens and lifts a lock-out;
        `reset_totp: true` removes its TOTP second factor (a lost phone) and ends its sessions
        and tokens: if its operator requires one, it enrols a new one at its next sign-in.
        `revoked` in the answer says how many sessions and tokens ended.
        """
        with connection() as conn:
            return accounts.change(conn, account_id, changes)


@blp.route("/<int:account_id>/sessions")
class AccountSessions(MethodView):
    @requires("account.read")
    @blp.response(200, SessionSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, account_id):
        """List an account's sessions that still work"""
        with connection() as conn:  # the guard has answered 404 for another's account
            return credentials.sessions_of(conn, account_id)


@blp.route("/<int:account_id>/sessions/<int:session_id>")
class AccountSession(MethodView):
    @requires("account.write")
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, account_id, session_id):
        """Revoke one session of an account"""
        with connection() as conn:
            powers.check_manageable(conn, account_id)
            credentials.revoke_one(conn, account_id, "session", session_id)


@blp.route("/<int:account_id>/revoke-sessions")
class AccountRevoke(MethodView):
    @requires("account.write")
    @blp.response(200, RevokedSchema)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def post(self, account_id):
        """Revoke every session and API token of an account (a stolen session, a lost phone)

        Each stops working on its next request. The account can sign in again.
        """
        with connection() as conn:
            powers.check_manageable(conn, account_id)
            return {"revoked": credentials.revoke_all(conn, account_id)}


@blp.route("/<int:account_id>/tokens")
class AccountTokens(MethodView):
    @requires("account.write")
    @blp.response(200, TokenSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, account_id):
        """List an account's API tokens (never their secrets)"""
        with connection() as conn:  # the guard has answered 404 for another's account
            return credentials.tokens_of(conn, account_id)


@blp.route("/<int:account_id>/tokens/<int:token_id>")
class AccountToken(MethodView):
    @requires("account.write")
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, account_id, token_id):
        """Revoke one API token of an account"""
        with connection() as conn:
            powers.check_manageable(conn, account_id)
            credentials.revoke_one(conn, account_id, "token", token_id)
