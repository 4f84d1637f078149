"""A small tenancy for the tests of who sees and commands which device (no tests here).

Under the platform: sibling operators A and B, A's sub-operator A1 and A's shop (a store).
Devices: ``a-1`` (A, in the shop), ``a-2`` (A), ``a1-1`` (A1), ``b-1`` (B), ``p-1`` (the
platform's own); all of model M1. Accounts, by the key ``Tenancy.client()`` takes: ``root``
(the platform's administrator), ``a``, ``a1``, ``b`` (each operator's administrator),
``shop`` (A's administrator role, but an account of the shop) and A's accounts holding one
role each: ``viewer``, ``blind``, ``basic``, ``cutter``, ``leasing``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from flask.testing import FlaskClient

from tests.cloud.access_support import (
    ROOT_LOGIN,
    WALL_ROLES,
    make_account,
    make_operator,
    make_role,
    make_store,
    root_token,
    token_for,
)
from tests.cloud.api_support import add_device, api_client

DEVICES = ("a-1", "a-2", "a1-1", "b-1", "p-1")
# A's roles: name -> permissions
ROLES = {
    "viewer": ["device.read"],
    "blind": ["alarm.read", "command.read"],
    "basic": ["device.read", "device.command.basic", "command.read"],
    "cutter": ["device.read", "device.command.discharge", "command.read"],
    "leasing": ["device.read", "lease.write"],
}
# Both ways of running a signed-in request: as voltrent_api under row-level security, and as
# the owner without it, so that the API's own filter alone must keep to the caller's subtree.
WALLS = tuple(WALL_ROLES.values())


def login(who: str) -> str:
    return ROOT_LOGIN if who == "root" else f"{who}@voltrent.test"


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
        secret = None if who is None else self.tokens[who]
        with api_client(self.database, secret=secret, api_db_role=role) as client:
            yield client


def make_tenancy(database: str) -> Tenancy:
    tokens = {"root": root_token(database)}
    with psycopg.connect(database, autocommit=True) as conn:
        a = make_operator(conn, "Operator A")
        b = make_operator(conn, "Operator B")
        a1 = make_operator(conn, "Operator A1", parent=a)
        shop = make_store(conn, a, "A's shop")
        add_device(conn, "a-1", model="M1", operator_id=a, store_id=shop)
        add_device(conn, "a-2", model="M1", operator_id=a)
        add_device(conn, "a1-1", model="M1", operator_id=a1)
        add_device(conn, "b-1", model="M1", operator_id=b)
        add_device(conn, "p-1", model="M1")
        for name, permissions in ROLES.items():
            make_role(conn, a, name, permissions)
        accounts = {
            "a": make_account(conn, a, login("a")),
            "a1": make_account(conn, a1, login("a1")),
            "b": make_account(conn, b, login("b")),
            "shop": make_account(conn, a, login("shop"), store_id=shop),
        }
        for name in ROLES:
            accounts[name] = make_account(conn, a, login(name), roles=(name,))
        tokens |= {who: token_for(conn, account_id) for who, account_id in accounts.items()}
    return Tenancy(database, {"a": a, "a1": a1, "b": b}, shop, tokens)
