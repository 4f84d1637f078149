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

from typing import Any

import psycopg
from flask import url_for
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.paging import PAGE_SIZE, fetch_page
from cloud.http.problems import fail, field_error
from cloud.http.schemas import Blueprint
from cloud.identity import accounts, passwords, scope, throttle, totp
from cloud.identity.guard import note, principal, requires
from cloud.identity.permissions import effective
from cloud.identity.schemas.accounts import (
    AccountCreateSchema,
    AccountListArgs,
    AccountSchema,
    AccountUpdateSchema,
    AccountWithPasswordSchema,
    RevokedSchema,
)
from cloud.identity.schemas.auth import SessionSchema, TokenSchema
from cloud.identity.views.auth import revoke_all, revoke_one, sessions_of
from cloud.identity.views.roles import beyond_caller, target_operator
from cloud.identity.views.tokens import tokens_of

blp = Blueprint("accounts", __name__, url_prefix="/accounts", description="Accounts")

_SELECT = """
SELECT a.id, a.login, a.name, a.operator_id, a.store_id,
       coalesce((SELECT jsonb_agg(jsonb_build_object('id', r.id, 'name', r.name) ORDER BY r.id)
                 FROM account_role ar JOIN role r ON r.id = ar.role_id
                 WHERE ar.account_id = a.id), '[]') AS roles,
       a.totp_enabled, a.totp_pending_secret IS NOT NULL AS totp_pending,
       a.disabled_at IS NOT NULL AS disabled, a.disabled_at, a.locked_until,
       a.failed_sign_ins, a.last_sign_in_at, a.password_changed_at, a.created_at, a.updated_at
FROM account a
"""
_IN_SCOPE = f"""
{scope.owned("a.operator_id")} AND (%(store)s::bigint IS NULL OR a.store_id = %(store)s::bigint)
"""
_FILTER = f"""
WHERE {_IN_SCOPE}
  AND (%(operator_id)s::bigint IS NULL
       OR a.operator_id IN (SELECT id FROM operator WHERE path @> ARRAY[%(operator_id)s::bigint]))
  AND (%(store_id)s::bigint IS NULL OR a.store_id = %(store_id)s)
  AND (%(q)s::text IS NULL
       OR strpos(a.login, lower(%(q)s)) > 0 OR strpos(lower(a.name), lower(%(q)s)) > 0)
"""
LIST_ACCOUNTS = _SELECT + _FILTER + "ORDER BY a.id LIMIT %(limit)s OFFSET %(offset)s"
COUNT_ACCOUNTS = "SELECT count(*) AS n FROM account a" + _FILTER
GET_ACCOUNT = _SELECT + f"WHERE a.id = %(id)s AND {_IN_SCOPE}"
# What the account may do (its roles cut by its operator's flags), to compare with the caller.
POWERS = """
SELECT o.flags, o.parent_id IS NULL AS platform,
       ARRAY(SELECT DISTINCT p FROM account_role ar JOIN role r ON r.id = ar.role_id,
                   unnest(r.permissions) p
             WHERE ar.account_id = a.id) AS granted
FROM account a JOIN operator o ON o.id = a.operator_id
WHERE a.id = %s
"""
STORE_OF = "SELECT 1 FROM store WHERE id = %s AND operator_id = %s"
ROLES_OF = "SELECT id, permissions FROM role WHERE id = ANY (%s) AND operator_id = %s"
UPDATE_ACCOUNT = """
UPDATE account SET name = %(name)s, store_id = %(store_id)s,
       disabled_at = CASE WHEN %(disabled)s THEN coalesce(disabled_at, now()) END,
       updated_at = now()
WHERE id = %(id)s
"""
RESET_PASSWORD = """
UPDATE account SET password_hash = %s, password_changed_at = now(), updated_at = now()
WHERE id = %s
"""


def _fetch(conn: psycopg.Connection, account_id: int) -> dict[str, Any]:
    row = conn.execute(GET_ACCOUNT, scope.params(id=account_id)).fetchone()
    if row is None:
        fail(404, f"no account {account_id}")
    return row


def _check_store(conn: psycopg.Connection, operator_id: int, store_id: int | None) -> None:
    """``store_id`` is a store of ``operator_id`` and, for a store's caller, its own store."""
    own = principal().store_id
    if own is not None and store_id != own:
        field_error("store_id", [f"you work for store {own}: accounts you manage must too"])
    if store_id is not None and conn.execute(STORE_OF, (store_id, operator_id)).fetchone() is None:
        field_error("store_id", [f"no store {store_id} of operator {operator_id}"])


def _within_store() -> bool:
    """Whether the caller is an account of a store: the accounts it manages are of its store
    and stay there, so what they may do is compared without the operator-wide permissions,
    which neither side has. Anyone else compares everything a role holds: it could move the
    account out of its store."""
    return principal().store_id is not None


def _check_roles(conn: psycopg.Connection, operator: dict[str, Any], role_ids: list[int]) -> None:
    """Each role is the operator's, and grants nothing the caller does not have."""
    rows = {row["id"]: row for row in conn.execute(ROLES_OF, (role_ids, operator["id"]))}
    reasons = [f"no role {role_id} of operator {operator['id']}"
               for role_id in role_ids if role_id not in rows]  # fmt: skip
    for role_id in rows:
        granted = effective(rows[role_id]["permissions"], operator["flags"],
                            platform=operator["platform"], store=_within_store())  # fmt: skip
        beyond = beyond_caller(granted)
        if beyond:
            reasons.append(f"role {role_id} grants what you may not do: {', '.join(beyond)}")
    field_error("role_ids", reasons)


def _manageable(conn: psycopg.Connection, account_id: int) -> None:
    """403 unless the caller may do everything ``account_id`` may (its own: also fine); the
    guard has answered 404 for an account outside the caller's subtree."""
    if account_id == principal().account_id:
        return
    row = conn.execute(POWERS, (account_id,)).fetchone()
    powers = effective(
        row["granted"], row["flags"], platform=row["platform"], store=_within_store()
    )
    beyond = beyond_caller(powers)
    if beyond:
        fail(403, f"account {account_id} may do what you may not ({', '.join(beyond)}):"
                  " only someone who may do all of it can change it")  # fmt: skip


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
        params = scope.params(**{key: args.get(key) for key in ("operator_id", "store_id", "q")})
        with connection() as conn:
            return fetch_page(conn, COUNT_ACCOUNTS, LIST_ACCOUNTS, params, pagination_parameters)

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
        given = body.get("password")
        if given is not None:
            field_error("password", passwords.policy_problems(given, body["login"]))
        password = given or passwords.generate()
        with connection() as conn:
            operator = target_operator(conn, body.get("operator_id"))
            store_id = body.get("store_id", principal().store_id)
            _check_store(conn, operator["id"], store_id)
            _check_roles(conn, operator, body["role_ids"])
            try:
                with conn.transaction():
                    account_id = accounts.create(
                        conn, operator_id=operator["id"], store_id=store_id,
                        login=body["login"], name=body["name"], password=password,
                        role_ids=body["role_ids"],
                    )  # fmt: skip
            except psycopg.errors.UniqueViolation:
                fail(409, f"the login {body['login']!r} is taken")
            created = _fetch(conn, account_id)
        note(created_account_id=account_id, login=body["login"])
        if given is None:
            created = {**created, "password": password}
        return created, 201, {"Location": url_for("accounts.Account", account_id=account_id)}


@blp.route("/<int:account_id>")
class Account(MethodView):
    @requires("account.read")
    @blp.response(200, AccountSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, account_id):
        """Get an account"""
        with connection() as conn:
            return _fetch(conn, account_id)

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
        who = principal()
        own = sorted(set(changes) - {"name"}) if account_id == who.account_id else []
        if own:
            field_error(own[0], ["not on your own account: ask someone who manages it (your"
                                 " password: PUT /api/auth/password)"])  # fmt: skip
        password = revoked = None
        with connection() as conn:
            _manageable(conn, account_id)
            current = conn.execute(
                "SELECT * FROM account WHERE id = %s FOR UPDATE", (account_id,)
            ).fetchone()
            if "store_id" in changes:
                _check_store(conn, current["operator_id"], changes["store_id"])
            if "role_ids" in changes:
                operator = target_operator(conn, current["operator_id"])
                _check_roles(conn, operator, changes["role_ids"])
                conn.execute("DELETE FROM account_role WHERE account_id = %s", (account_id,))
                conn.execute(accounts.SET_ROLES, (account_id, changes["role_ids"]))
            disabled = changes.get("disabled", current["disabled_at"] is not None)
            conn.execute(UPDATE_ACCOUNT, {**current, **changes, "disabled": disabled})
            if changes.get("reset_password"):
                password = passwords.generate()
                conn.execute(RESET_PASSWORD, (passwords.hash_password(password), account_id))
                throttle.succeeded(conn, current["login"])
                note(reset_password=True)
            if changes.get("reset_totp"):
                totp.turn_off(conn, account_id)
                note(reset_totp=True)
            # one revocation, so the count is of all that ended
            if any(changes.get(key) for key in ("disabled", "reset_password", "reset_totp")):
                revoked = revoke_all(conn, account_id)
            updated = _fetch(conn, account_id)
        extra = {"password": password, "revoked": revoked}
        return {**updated, **{key: value for key, value in extra.items() if value is not None}}


@blp.route("/<int:account_id>/sessions")
class AccountSessions(MethodView):
    @requires("account.read")
    @blp.response(200, SessionSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, account_id):
        """List an account's sessions that still work"""
        with connection() as conn:  # the guard has answered 404 for another's account
            return sessions_of(conn, account_id)


@blp.route("/<int:account_id>/sessions/<int:session_id>")
class AccountSession(MethodView):
    @requires("account.write")
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, account_id, session_id):
        """Revoke one session of an account"""
        with connection() as conn:
            _manageable(conn, account_id)
            revoke_one(conn, account_id, "session", session_id)


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
            _manageable(conn, account_id)
            return {"revoked": revoke_all(conn, account_id)}


@blp.route("/<int:account_id>/tokens")
class AccountTokens(MethodView):
    @requires("account.write")
    @blp.response(200, TokenSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, account_id):
        """List an account's API tokens (never their secrets)"""
        with connection() as conn:  # the guard has answered 404 for another's account
            return tokens_of(conn, account_id)


@blp.route("/<int:account_id>/tokens/<int:token_id>")
class AccountToken(MethodView):
    @requires("account.write")
    @blp.response(204)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, account_id, token_id):
        """Revoke one API token of an account"""
        with connection() as conn:
            _manageable(conn, account_id)
            revoke_one(conn, account_id, "token", token_id)
