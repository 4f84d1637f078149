"""Two sibling operators under the platform, A and B, each with a device (``pack-a``,
``pack-b``) and an administrator, for tests of what a caller may see and do (no tests here)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from tests.cloud.access_support import (
    WALL_ROLES,
    bearer,
    make_account,
    make_operator,
    make_role,
    token_for,
)
from tests.cloud.api_support import add_device

# The API's own filters and row-level security each keep callers apart: tests run against
# both walls, and against the views' filters alone (no SET ROLE, so no row-level security).
WALLS = WALL_ROLES


@dataclass(frozen=True)
class Siblings:
    a: int  # operator ids
    b: int
    as_a: dict[str, str]  # headers of each one's administrator
    as_b: dict[str, str]


def siblings(database: str) -> Siblings:
    """Operators A and B under the platform, device pack-a of A and pack-b of B, and a token
    of each one's administrator (admin@a.test, admin@b.test)."""
    with psycopg.connect(database, autocommit=True) as conn:
        a = make_operator(conn, "A")
        b = make_operator(conn, "B")
        add_device(conn, "pack-a", operator_id=a)
        add_device(conn, "pack-b", operator_id=b)
        as_a = bearer(token_for(conn, make_account(conn, a, "admin@a.test")))
        as_b = bearer(token_for(conn, make_account(conn, b, "admin@b.test")))
    return Siblings(a, b, as_a, as_b)


def holding(database: str, operator_id: int, login: str, permissions: Iterable[str]) -> dict:
    """Headers of a new account of ``operator_id`` whose one role holds ``permissions``."""
    with psycopg.connect(database, autocommit=True) as conn:
        make_role(conn, operator_id, f"role of {login}", permissions)
        account = make_account(conn, operator_id, login, roles=[f"role of {login}"])
        return bearer(token_for(conn, account))
