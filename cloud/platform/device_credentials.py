"""A device's own MQTT account as its operator manages it through the API: read, issue or
rotate, revoke, always on one of the caller's devices (``scope.device``). The password is
shown only in the answer that issues it (``broker_accounts`` keeps its hash alone)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import DictRow

from cloud.devices import registry
from cloud.errors import NotFound
from cloud.identity import scope
from cloud.platform import broker_accounts

GET_ACCOUNT = f"""
SELECT username, created_at, rotated_at, revoked_at FROM broker_account
WHERE device_id = %(id)s AND {scope.device_id()}"""


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "active": row["revoked_at"] is None}


def get(conn: psycopg.Connection[DictRow], device_id: str) -> dict[str, Any]:
    """The device's account, active or revoked; 404 if it never had one."""
    registry.require(conn, device_id)
    row = conn.execute(GET_ACCOUNT, scope.params(id=device_id)).fetchone()
    if row is None:
        raise NotFound(f"device {device_id!r} has no broker credentials yet: POST issues them")
    return _shown(row)


def issue(conn: psycopg.Connection[DictRow], device_id: str) -> dict[str, Any]:
    """A new password for the device's account (made now, or rotated: the old one stops
    working at the broker's next reload); the row with the ``password``, its only showing."""
    with conn.transaction():
        registry.require(conn, device_id)
        password, row = broker_accounts.issue(conn, device_id)
    return {**_shown(row), "password": password}


def revoke(conn: psycopg.Connection[DictRow], device_id: str) -> dict[str, Any]:
    """Revoke the device's account; 404 if it has no active one."""
    with conn.transaction():
        registry.require(conn, device_id)
        if not broker_accounts.revoke(conn, device_id):
            raise NotFound(f"device {device_id!r} has no active broker credentials")
        row = conn.execute(GET_ACCOUNT, scope.params(id=device_id)).fetchone()
    assert row is not None  # revoked just now, so there is one
    return _shown(row)
