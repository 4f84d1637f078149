"""The one tenancy builder of the cloud's tests (no tests here).

Rows made with plain SQL, the way the API would leave them: operators, stores, roles,
accounts and bearer secrets (``make_operator`` ... ``token_for``); devices come from
api_support.add_device. ``build`` makes a whole tenancy from a ``Shape`` with them, and the
two shapes many tests share are built with it:

- ``siblings()``: sibling operators A and B under the platform, device ``pack-a`` of A and
  ``pack-b`` of B, and a token of each one's administrator (admin@a.test, admin@b.test).
- ``make_tenancy()``: under the platform, sibling operators A and B, A's sub-operator A1 and
  A's shop (a store). Devices: ``a-1`` (A, in the shop), ``a-2`` (A), ``a1-1`` (A1), ``b-1``
  (B), ``p-1`` (the platform's own); all of model M1. Accounts, by the key
  ``Tenancy.client()`` takes: ``root`` (the platform's administrator), ``a``, ``a1``, ``b``
  (each operator's administrator), ``shop`` (A's administrator role, but an account of the
  shop) and A's accounts holding one role each: ``viewer``, ``blind``, ``basic``, ``cutter``,
  ``leasing``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
import pytest
from flask.testing import FlaskClient

from cloud.identity import passwords
from cloud.identity.principal import issue

PLATFORM = 1  # the root operator migration 0011 makes

# The API's own filters and row-level security are two walls: tests of a subtree run both
# ways, the second with the API connecting as the store's owner (no SET ROLE, so no
# row-level security), so that the API's filters alone are seen to hold.
WALL_ROLES = {"both-walls": "voltrent_api", "api-filters-only": ""}
# the database roles alone, for tests parametrized by ``role``
WALLS = tuple(WALL_ROLES.values())
# for tests taking the ``api_db_role`` fixture (tests/cloud/conftest.py gives the default)
on_both_walls = pytest.mark.parametrize(
    "api_db_role", list(WALL_ROLES.values()), ids=list(WALL_ROLES)
)
ROOT_LOGIN = "root@platform.test"
PASSWORD = "correct horse battery"  # passes the password policy


@functools.cache
def _hashed(password: str) -> str:
    """One argon2 hash per password for the whole run (each costs about 0.1 s)."""
    return passwords.hash_password(password)


def make_operator(
    conn: psycopg.Connection,
    name: str,
    *,
    parent: int = PLATFORM,
    flags: Iterable[str] | None = None,
    mfa_required: bool = False,
) -> int:
    """A sub-operator of ``parent`` (default: with all of the parent's flags)."""
    row = conn.execute(
        """
        INSERT INTO operator (parent_id, name, flags, mfa_required)
        VALUES (%s, %s, coalesce(%s, (SELECT flags FROM operator WHERE id = %s)), %s)
        RETURNING id
        """,
        (parent, name, None if flags is None else list(flags), parent, mfa_required),
    ).fetchone()
    return row[0]


def make_store(conn: psycopg.Connection, operator_id: int, name: str) -> int:
    return conn.execute(
        "INSERT INTO store (operator_id, name) VALUES (%s, %s) RETURNING id", (operator_id, name)
    ).fetchone()[0]


def make_role(
    conn: psycopg.Connection, operator_id: int, name: str, permissions: Iterable[str]
) -> int:
    return conn.execute(
        "INSERT INTO role (operator_id, name, permissions) VALUES (%s, %s, %s) RETURNING id",
        (operator_id, name, list(permissions)),
    ).fetchone()[0]


def make_account(
    conn: psycopg.Connection,
    operator_id: int,
    login: str,
    *,
    roles: Iterable[str] = ("administrator",),
    store_id: int | None = None,
    password: str | None = None,
) -> int:
    """An account of ``operator_id`` holding the named roles of its operator."""
    password_hash = _hashed(password) if password else None
    account_id = conn.execute(
        """
        INSERT INTO account (operator_id, store_id, login, name, password_hash,
                             password_changed_at)
        VALUES (%s, %s, %s, %s, %s, CASE WHEN %s::text IS NULL THEN NULL ELSE now() END)
        RETURNING id
        """,
        (operator_id, store_id, login, login, password_hash, password_hash),
    ).fetchone()[0]
    conn.execute(
        """
        INSERT INTO account_role (account_id, role_id)
        SELECT %s, id FROM role WHERE operator_id = %s AND name = ANY (%s)
        """,
        (account_id, operator_id, list(roles)),
    )
    return account_id


def token_for(
    conn: psycopg.Connection, account_id: int, *, permissions: list[str] | None = None
) -> str:
    """A bearer secret (an API token) acting as ``account_id``."""
    _, secret = issue(conn, account_id, "token", name="test", permissions=permissions)
    return secret


def root_token(database_url: str) -> str:
    """A token of the platform's administrator (made once per database)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT id FROM account WHERE login = %s", (ROOT_LOGIN,)).fetchone()
        account_id = row[0] if row else make_account(conn, PLATFORM, ROOT_LOGIN)
        return token_for(conn, account_id)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def client_as(database: str, account_id: int):
    """An API test client (a context manager) bearing a new token of ``account_id``."""
    from tests.cloud.api_support import api_client

    with psycopg.connect(database, autocommit=True) as conn:
        return api_client(database, secret=token_for(conn, account_id))


# --- a whole tenancy from its shape ---------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A tenancy by keys: ``operators`` key -> (name, parent key; None: the platform),
    ``stores`` key -> (name, operator key), ``devices`` id -> (operator key or None,
    store key or None), ``roles`` (of one operator) name -> permissions, ``accounts``
    key -> (operator key, login, role names, store key or None). Keys are made in order."""

    operators: dict[str, tuple[str, str | None]]
    stores: dict[str, tuple[str, str]] = field(default_factory=dict)
    devices: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    device_model: str = ""
    role_operator: str | None = None
    roles: dict[str, list[str]] = field(default_factory=dict)
    accounts: dict[str, tuple[str, str, tuple[str, ...], str | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Built:
    """The ids and secrets ``build`` made, by the shape's keys."""

    operators: dict[str, int]
    stores: dict[str, int]
    accounts: dict[str, int]
    tokens: dict[str, str]


def build(database: str, shape: Shape) -> Built:
    """Make ``shape`` in ``database``, with a token for each account."""
    from tests.cloud.api_support import add_device

    with psycopg.connect(database, autocommit=True) as conn:
        operators: dict[str, int] = {}
        for key, (name, parent) in shape.operators.items():
            parent_id = PLATFORM if parent is None else operators[parent]
            operators[key] = make_operator(conn, name, parent=parent_id)
        stores = {
            key: make_store(conn, operators[owner], name)
            for key, (name, owner) in shape.stores.items()
        }
        for device_id, (owner, store) in shape.devices.items():
            placed = {} if owner is None else {"operator_id": operators[owner]}
            if store is not None:
                placed["store_id"] = stores[store]
            model = {"model": shape.device_model} if shape.device_model else {}
            add_device(conn, device_id, **model, **placed)
        for name, permissions in shape.roles.items():
            assert shape.role_operator is not None, "roles need Shape.role_operator"
            make_role(conn, operators[shape.role_operator], name, permissions)
        accounts = {
            key: make_account(
                conn,
                operators[owner],
                login,
                roles=roles,
                store_id=None if store is None else stores[store],
            )
            for key, (owner, login, roles, store) in shape.accounts.items()
        }
        tokens = {key: token_for(conn, account_id) for key, account_id in accounts.items()}
    return Built(operators, stores, accounts, tokens)


# --- siblings: A and B, a device and an administrator each -----------------------------


@dataclass(frozen=True)
class Siblings:
    a: int  # operator ids
    b: int
    as_a: dict[str, str]  # headers of each one's administrator
    as_b: dict[str, str]


ADMIN = ("administrator",)
SIBLINGS = Shape(
    operators={"a": ("A", None), "b": ("B", None)},
    devices={"pack-a": ("a", None), "pack-b": ("b", None)},
    accounts={"a": ("a", "admin@a.test", ADMIN, None), "b": ("b", "admin@b.test", ADMIN, None)},
)


def siblings(database: str) -> Siblings:
    """Operators A and B under the platform, device pack-a of A and pack-b of B, and a token
    of each one's administrator (admin@a.test, admin@b.test)."""
    built = build(database, SIBLINGS)
    ops, tokens = built.operators, built.tokens
    return Siblings(ops["a"], ops["b"], bearer(tokens["a"]), bearer(tokens["b"]))


def holding(database: str, operator_id: int, login: str, permissions: Iterable[str]) -> dict:
    """Headers of a new account of ``operator_id`` whose one role holds ``permissions``."""
    with psycopg.connect(database, autocommit=True) as conn:
        make_role(conn, operator_id, f"role of {login}", permissions)
        account = make_account(conn, operator_id, login, roles=[f"role of {login}"])
        return bearer(token_for(conn, account))


# --- the tenancy of the device-access tests --------------------------------------------

DEVICES = ("a-1", "a-2", "a1-1", "b-1", "p-1")
# A's roles: name -> permissions
ROLES = {
    "viewer": ["device.read"],
    "blind": ["alarm.read", "command.read"],
    "basic": ["device.read", "device.command.basic", "command.read"],
    "cutter": ["device.read", "device.command.discharge", "command.read"],
    "leasing": ["device.read", "lease.write"],
}


def login(who: str) -> str:
    return ROOT_LOGIN if who == "root" else f"{who}@voltrent.test"


TENANCY = Shape(
    operators={"a": ("Operator A", None), "b": ("Operator B", None), "a1": ("Operator A1", "a")},
    stores={"shop": ("A's shop", "a")},
    devices={
        "a-1": ("a", "shop"),
        "a-2": ("a", None),
        "a1-1": ("a1", None),
        "b-1": ("b", None),
        "p-1": (None, None),
    },
    device_model="M1",
    role_operator="a",
    roles=ROLES,
    accounts={
        "a": ("a", login("a"), ADMIN, None),
        "a1": ("a1", login("a1"), ADMIN, None),
        "b": ("b", login("b"), ADMIN, None),
        "shop": ("a", login("shop"), ADMIN, "shop"),
        **{name: ("a", login(name), (name,), None) for name in ROLES},
    },
)


@dataclass(frozen=True)
class Tenancy:
    database: str
    operators: dict[str, int]
    shop: int
    tokens: dict[str, str]

    @contextmanager
    def client(self, who: str | None, *, role: str = "voltrent_api") -> Iterator[FlaskClient]:
        """An API client signed in as ``who`` (None: not signed in), its requests run as the
        database ``role`` ('': the owner, past row-level security)."""
        from tests.cloud.api_support import api_client

        secret = None if who is None else self.tokens[who]
        with api_client(self.database, secret=secret, api_db_role=role) as client:
            yield client


def make_tenancy(database: str) -> Tenancy:
    """``TENANCY`` built, with the platform's administrator as ``root``."""
    root = root_token(database)
    built = build(database, TENANCY)
    tokens = {"root": root, **built.tokens}
    return Tenancy(database, built.operators, built.stores["shop"], tokens)
