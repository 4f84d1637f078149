"""Accounts: making one (the one INSERT the API, ``voltrent cloud account create`` and the demo
share), reading them within the caller's subtree, and an administrator's changes.

An account of a store sees and manages the accounts of its store only (``scope.account``).
Disabling an account, resetting its password or its second factor ends every session and
token it has at once (``credentials.revoke_all``).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import DictRow, tuple_row

from cloud.errors import Conflict, field_error
from cloud.identity import credentials, passwords, powers, scope, throttle, totp
from cloud.identity.guard import note
from cloud.identity.principal import principal
from cloud.store.pages import fetch_page

INSERT_ACCOUNT = """
INSERT INTO account (operator_id, store_id, login, name, password_hash, password_changed_at)
VALUES (%s, %s, %s, %s, %s, now())
RETURNING id
"""
SET_ROLES = "INSERT INTO account_role (account_id, role_id) SELECT %s, unnest(%s::bigint[])"
CLEAR_ROLES = "DELETE FROM account_role WHERE account_id = %s"

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
# Every filter is optional: a NULL parameter switches its condition off.
_FILTER = f"""
WHERE {scope.account("a")}
  AND (%(operator_id)s::bigint IS NULL OR {scope.under("a.operator_id", "%(operator_id)s")})
  AND (%(store_id)s::bigint IS NULL OR a.store_id = %(store_id)s)
  AND (%(q)s::text IS NULL
       OR strpos(a.login, lower(%(q)s)) > 0 OR strpos(lower(a.name), lower(%(q)s)) > 0)
"""
LIST_ACCOUNTS = _SELECT + _FILTER + "ORDER BY a.id LIMIT %(limit)s OFFSET %(offset)s"
COUNT_ACCOUNTS = "SELECT count(*) AS n FROM account a" + _FILTER
GET_ACCOUNT = _SELECT + f"WHERE a.id = %(id)s AND {scope.account('a')}"
FILTERS = ("operator_id", "store_id", "q")
STORE_OF = "SELECT 1 FROM store WHERE id = %s AND operator_id = %s"
LOCK_ACCOUNT = "SELECT * FROM account WHERE id = %s FOR UPDATE"
UPDATE_ACCOUNT = """
UPDATE account SET name = %(name)s, store_id = %(store_id)s,
       disabled_at = CASE WHEN %(disabled)s THEN coalesce(disabled_at, now()) END,
       updated_at = now()
WHERE id = %(id)s
"""
SET_PASSWORD = """
UPDATE account SET password_hash = %s, password_changed_at = now(), updated_at = now()
WHERE id = %s
"""
# The changes that end every session and token of the account.
ENDING = ("disabled", "reset_password", "reset_totp")


def create(
    conn: psycopg.Connection[Any],  # the API's (dict rows) or the CLI's (tuple rows)
    *,
    operator_id: int,
    login: str,
    name: str,
    password: str,
    role_ids: list[int],
    store_id: int | None = None,
) -> int:
    """The new account's id. psycopg's UniqueViolation: the login is taken; CheckViolation:
    it is not a valid login. The caller checks the roles and the password's policy."""
    with conn.cursor(row_factory=tuple_row) as cur:
        password_hash = passwords.hash_password(password)
        cur.execute(INSERT_ACCOUNT, (operator_id, store_id, login, name, password_hash))
        (account_id,) = cur.fetchone()  # type: ignore[misc]
        cur.execute(SET_ROLES, (account_id, role_ids))
    return account_id


def page(
    conn: psycopg.Connection[DictRow], filters: dict[str, Any], pagination: dict[str, Any]
) -> list[dict[str, Any]]:
    """One page of the caller's accounts matching ``filters`` (``FILTERS``), by id."""
    params = scope.params(**{key: filters.get(key) for key in FILTERS})
    return fetch_page(conn, COUNT_ACCOUNTS, LIST_ACCOUNTS, params, pagination)


def get(conn: psycopg.Connection[DictRow], account_id: int) -> dict[str, Any]:
    """The caller's account ``account_id``; 404 if it is not one."""
    return scope.one(conn, GET_ACCOUNT, "account", account_id)


def _check_store(conn: psycopg.Connection[DictRow], operator_id: int, store_id: int | None) -> None:
    """``store_id`` is a store of ``operator_id`` and, for a store's caller, its own store."""
    own = principal().store_id
    if own is not None and store_id != own:
        field_error("store_id", [f"you work for store {own}: accounts you manage must too"])
    if store_id is not None and conn.execute(STORE_OF, (store_id, operator_id)).fetchone() is None:
        field_error("store_id", [f"no store {store_id} of operator {operator_id}"])


def add(conn: psycopg.Connection[DictRow], wanted: dict[str, Any]) -> dict[str, Any]:
    """Make the account ``wanted`` (the API's body) for the caller: of an operator of its
    subtree, with roles within what it may do; without a ``password`` one is generated and
    returned in the row (its only showing). 409: the login is taken."""
    given = wanted.get("password")
    if given is not None:
        field_error("password", passwords.policy_problems(given, wanted["login"]))
    password = given or passwords.generate()
    operator = powers.target_operator(conn, wanted.get("operator_id"))
    store_id = wanted.get("store_id", principal().store_id)
    _check_store(conn, operator["id"], store_id)
    powers.check_roles(conn, operator, wanted["role_ids"])
    try:
        with conn.transaction():
            account_id = create(
                conn, operator_id=operator["id"], store_id=store_id, login=wanted["login"],
                name=wanted["name"], password=password, role_ids=wanted["role_ids"],
            )  # fmt: skip
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"the login {wanted['login']!r} is taken") from None
    created = get(conn, account_id)
    note(created_account_id=account_id, login=wanted["login"])
    return created if given is not None else {**created, "password": password}


def change(
    conn: psycopg.Connection[DictRow], account_id: int, changes: dict[str, Any]
) -> dict[str, Any]:
    """Apply an administrator's ``changes`` (the API's body) to ``account_id``, in one
    transaction; the row, with the new ``password`` of a reset and how many sessions and
    tokens ended (``revoked``) when one of ``ENDING`` was asked for. The caller may only
    rename its own account."""
    who = principal()
    own = sorted(set(changes) - {"name"}) if account_id == who.account_id else []
    if own:
        field_error(own[0], ["not on your own account: ask someone who manages it (your"
                             " password: PUT /api/auth/password)"])  # fmt: skip
    powers.check_manageable(conn, account_id)
    current = conn.execute(LOCK_ACCOUNT, (account_id,)).fetchone()
    assert current is not None  # the guard found it in the caller's subtree
    if "store_id" in changes:
        _check_store(conn, current["operator_id"], changes["store_id"])
    if "role_ids" in changes:
        operator = powers.target_operator(conn, current["operator_id"])
        powers.check_roles(conn, operator, changes["role_ids"])
        conn.execute(CLEAR_ROLES, (account_id,))
        conn.execute(SET_ROLES, (account_id, changes["role_ids"]))
    disabled = changes.get("disabled", current["disabled_at"] is not None)
    conn.execute(UPDATE_ACCOUNT, {**current, **changes, "disabled": disabled})
    extra: dict[str, Any] = {}
    if changes.get("reset_password"):
        extra["password"] = passwords.generate()
        set_password(conn, account_id, extra["password"])
        throttle.succeeded(conn, current["login"])
        note(reset_password=True)
    if changes.get("reset_totp"):
        totp.turn_off(conn, account_id)
        note(reset_totp=True)
    if any(changes.get(key) for key in ENDING):  # one revocation: the count is of all that ended
        extra["revoked"] = credentials.revoke_all(conn, account_id)
    return {**get(conn, account_id), **extra}


def set_password(conn: psycopg.Connection[DictRow], account_id: int, password: str) -> None:
    """Store ``password``'s hash as the account's (its policy already checked)."""
    conn.execute(SET_PASSWORD, (passwords.hash_password(password), account_id))
