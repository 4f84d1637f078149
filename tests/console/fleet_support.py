"""A small fleet with positions and states for the map and overview pages' tests (no tests
here): operator A with a store and sub-operator A1, devices placed in Hangzhou, and an
account of each operator that signs in with PASSWORD."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from tests.cloud.api_support import add_device, set_state
from tests.cloud.tenancy_support import PASSWORD, make_account, make_operator, make_store

__all__ = ["PASSWORD", "Fleet", "make_fleet", "move"]


@dataclass(frozen=True)
class Fleet:
    a: int  # operator ids
    a1: int
    shop: int  # A's store
    a_login: str
    a1_login: str


# id -> (owner key, in the shop, model, device_state columns)
DEVICES = {
    "pk-high": ("a", True, "M60", {"online": True, "soc_percent": 80, "current_a": 5.0}),
    "pk-mid": ("a", True, "M60", {"online": True, "soc_percent": 35, "current_a": -3.0}),
    "pk-low": ("a", False, "M72", {"online": True, "soc_percent": 12, "discharge_mos": False}),
    "pk-off": ("a", False, "M72", {"online": False, "soc_percent": 60, "current_a": 0.0}),
    "sub-1": ("a1", False, "M60", {"online": True, "soc_percent": 55, "current_a": -1.0}),
    "sub-2": ("a1", False, "M60", {"online": False, "soc_percent": 15}),
}


def make_fleet(database: str) -> Fleet:
    """Operator A (with store "West Lake shop") and its sub-operator A1, the DEVICES placed
    a few hundred metres apart, and an administrator of each (a@map.test, a1@map.test)."""
    now = datetime.now(UTC)
    with psycopg.connect(database, autocommit=True) as conn:
        a = make_operator(conn, "Operator A")
        a1 = make_operator(conn, "Operator A1", parent=a)
        shop = make_store(conn, a, "West Lake shop")
        owners = {"a": a, "a1": a1}
        for n, (device_id, (owner, in_shop, model, state)) in enumerate(DEVICES.items()):
            placed = {"store_id": shop} if in_shop else {}
            add_device(conn, device_id, model=model, operator_id=owners[owner], **placed)
            columns = {
                "lat": 30.25 + 0.004 * n,
                "lon": 120.14 + 0.004 * n,
                "pack_voltage_v": 52.1,
                "speed_kmh": 12,
                "last_seen_at": now,
                "discharge_mos": True,
                **state,
            }
            set_state(conn, device_id, **columns)
        make_account(conn, a, "a@map.test", password=PASSWORD)
        make_account(conn, a1, "a1@map.test", password=PASSWORD)
    return Fleet(a, a1, shop, "a@map.test", "a1@map.test")


def move(database: str, device_id: str, lat: float, lon: float) -> None:
    """Move a device as the worker's writer does: one UPDATE of device_state, committed
    (its trigger notifies the live feed at commit)."""
    with psycopg.connect(database, autocommit=True) as conn:
        set_state(conn, device_id, lat=lat, lon=lon, position_time=datetime.now(UTC))
