"""The demo's small rental business, built through the API as the platform's administrator
(so every row passes the checks an operator's console would meet), and kept on later starts.

Under the platform: the rental company 深圳速租 (logins ``@szsuzu.demo``) with two stores in
the service area, most of the fleet spread over the stores, a few packs left with the
platform; the company's administrator and one store-staff account per store; a keep-in fence
of the company's; lease terms on three of its packs, one already expired so that its
cut-off applies. Each account's password is made once and kept in ``passwords/<login>``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from launcher.demo_access import kept_secret, write_private
from launcher.demo_api import DemoApi
from launcher.sim import FleetOptions

log = logging.getLogger("voltrent.demo")

PLATFORM = 1
COMPANY = "深圳速租"
COMPANY_ADMIN = "admin@szsuzu.demo"
COMPANY_FENCE = "速租运营区"
STAFF_ROLE = "门店店员"
# what store staff do: see their store's packs and alarms, cut and restore power, resolve
STAFF_PERMISSIONS = [
    "device.read", "device.command.basic", "device.command.charge",
    "device.command.discharge", "command.read", "alarm.read", "alarm.resolve",
    "store.read", "geofence.read",
]  # fmt: skip


@dataclass(frozen=True)
class StorePlan:
    key: str  # the store staff's login is <key>@szsuzu.demo
    name: str
    manager: str
    address: str
    # where in the service area, as fractions of its radius north and east of its centre
    north: float
    east: float

    @property
    def staff_login(self) -> str:
        return f"{self.key}@szsuzu.demo"


STORES = (
    StorePlan("keji", "科技园店", "李明", "深圳市南山区科技园南区", 0.35, -0.25),
    StorePlan("houhai", "后海店", "王芳", "深圳市南山区后海大道", -0.30, 0.30),
)


@dataclass(frozen=True)
class Login:
    login: str
    who: str  # what the account is, for the banner
    password_file: Path


def placement(device_ids: list[str]) -> dict[str, str | None]:
    """Which store (key) each device belongs to; None: it stays with the platform. The first
    sixth of the fleet (at least one) stays, the rest alternate between the stores."""
    kept = max(1, round(len(device_ids) / 6))
    where: dict[str, str | None] = {device_id: None for device_id in device_ids[:kept]}
    for n, device_id in enumerate(device_ids[kept:]):
        where[device_id] = STORES[n % len(STORES)].key
    return where


def set_up_business(
    api: DemoApi, work_dir: Path, fleet: FleetOptions, area: tuple[float, float, float]
) -> list[Login]:
    """Make what is missing of the business (``area``: the service area's lat, lon and
    radius); the accounts it has, with their password files. ApiRefused when the API
    refuses a step."""
    company = _company(api)
    stores = {plan.key: _store(api, company, plan, area) for plan in STORES}
    where = placement(fleet.device_ids())
    moved = _place_devices(api, company, stores, where)
    company_devices = [d for d, store in where.items() if store is not None]
    _fence(api, company, area, company_devices)
    _leases(api, company_devices, fleet.parked_at_start())
    staff_role = _staff_role(api, company)
    administrator = _role_id(api, company, "administrator")
    logins = [_account(api, work_dir, company, COMPANY_ADMIN, f"{COMPANY} 管理员",
                       administrator, None, f"{COMPANY}'s administrator")]  # fmt: skip
    for plan in STORES:
        logins.append(_account(api, work_dir, company, plan.staff_login,
                               f"{plan.name} 店员", staff_role, stores[plan.key],
                               f"staff of the store {plan.name}"))  # fmt: skip
    log.info("rental business %s: %d stores, %d devices moved to them now, %d accounts",
             COMPANY, len(stores), moved, len(logins))  # fmt: skip
    return logins


def password_file(work_dir: Path, login: str) -> Path:
    return work_dir / "passwords" / login


def _company(api: DemoApi) -> int:
    for row in api.all("/operators", parent_id=PLATFORM):
        if row["name"] == COMPANY:
            return row["id"]
    flags = api.get(f"/operators/{PLATFORM}")["flags"]
    return api.post("/operators", {"name": COMPANY, "parent_id": PLATFORM, "flags": flags})["id"]


def _store(api: DemoApi, company: int, plan: StorePlan, area: tuple[float, float, float]) -> int:
    for row in api.all("/stores", operator_id=company):
        if row["name"] == plan.name:
            return row["id"]
    lat, lon = _offset(area, plan.north, plan.east)
    body = {
        "operator_id": company, "name": plan.name, "manager": plan.manager,
        "phone": "0755-8600-0000", "address": plan.address, "lat": lat, "lon": lon,
        "payment_options": ["wechat_pay", "alipay"],
    }  # fmt: skip
    return api.post("/stores", body)["id"]


def _offset(area: tuple[float, float, float], north: float, east: float) -> tuple[float, float]:
    """The point ``north`` and ``east`` radii (fractions) from the area's centre."""

    lat, lon, radius_m = area
    metres_per_degree = 111_320.0
    d_lat = north * radius_m / metres_per_degree
    d_lon = east * radius_m / (metres_per_degree * math.cos(math.radians(lat)))
    return round(lat + d_lat, 6), round(lon + d_lon, 6)


def _place_devices(
    api: DemoApi, company: int, stores: dict[str, int], where: dict[str, str | None]
) -> int:
    """Move each device still with the platform and meant for a store there; a device
    someone moved elsewhere meanwhile stays where they put it."""
    with_platform = {
        row["id"]
        for row in api.all("/devices", operator_id=PLATFORM)
        if row["operator_id"] == PLATFORM and row["store_id"] is None
    }
    moved = 0
    for key, store_id in stores.items():
        ids = [d for d, store in where.items() if store == key and d in with_platform]
        if ids:
            body = {"device_ids": ids, "to_operator_id": company, "to_store_id": store_id,
                    "note": "demo: the store's packs"}  # fmt: skip
            moved += len(api.post("/devices/transfer", body)["moved"])
    return moved


def _fence(
    api: DemoApi, company: int, area: tuple[float, float, float], device_ids: list[str]
) -> None:
    """The company's own keep-in fence, on every pack of the company: its operating area,
    a little smaller than the platform's service area, which it can edit itself."""
    fence = next(
        (g for g in api.all("/geofences") if g["operator_id"] == company
         and g["name"] == COMPANY_FENCE),
        None,
    )  # fmt: skip
    if fence is None:
        circle = {"lat": area[0], "lon": area[1], "radius_m": round(area[2] * 0.8, -1)}
        body = {"name": COMPANY_FENCE, "kind": "keep_in", "operator_id": company,
                "circle": circle, "dwell_s": 30}  # fmt: skip
        fence = api.post("/geofences", body)
    if device_ids:
        api.post(f"/geofences/{fence['id']}/devices", {"device_ids": device_ids})


def lease_plan(device_ids: list[str], parked: list[str]) -> dict[str, bool]:
    """Which of the company's packs get a lease term: True leased for a week, False leased
    until an hour ago. The expired one is a parked pack, because a pack cuts power only
    once it stands still (edge_agent/lease.py) and the console should show the cut."""
    expired = next((d for d in device_ids if d in parked), None)
    current = [d for d in device_ids if d != expired][:2]
    plan = dict.fromkeys(current, True)
    if expired is not None:
        plan[expired] = False
    return plan


def _leases(api: DemoApi, device_ids: list[str], parked: list[str]) -> None:
    """The terms of ``lease_plan``; set once, so a later start keeps any change."""
    now = datetime.now(UTC)
    for n, (device_id, current) in enumerate(lease_plan(device_ids, parked).items(), start=1):
        until = now + timedelta(days=7) if current else now - timedelta(hours=1)
        if api.get(f"/devices/{device_id}/lease") is not None:
            continue
        body = {"leased": True, "leased_until": until.isoformat(), "grace_s": 0,
                "cutoff_when_not_leased": True, "lease_id": f"demo-lease-{n}"}  # fmt: skip
        api.put(f"/devices/{device_id}/lease", body)


def _role_id(api: DemoApi, operator_id: int, name: str) -> int | None:
    for row in api.all("/roles", operator_id=operator_id):
        if row["name"] == name:
            return row["id"]
    return None


def _staff_role(api: DemoApi, company: int) -> int:
    found = _role_id(api, company, STAFF_ROLE)
    if found is not None:
        return found
    body = {"operator_id": company, "name": STAFF_ROLE, "permissions": STAFF_PERMISSIONS,
            "description": "store staff: their store's packs, alarms and power"}  # fmt: skip
    return api.post("/roles", body)["id"]


def _account(
    api: DemoApi, work_dir: Path, company: int, login: str, name: str,
    role_id: int | None, store_id: int | None, who: str,
) -> Login:  # fmt: skip
    """The account ``login`` (made once, with the password kept in its file). An account
    whose file is gone (a new --dir on a kept database) gets a new password."""
    from cloud.identity import passwords

    path = password_file(work_dir, login)
    existing: list[dict[str, Any]] = api.all("/accounts", operator_id=company, q=login)
    account = next((row for row in existing if row["login"] == login), None)
    if account is None:
        assert role_id is not None, "every operator has its administrator role"
        body = {"login": login, "name": name, "operator_id": company, "role_ids": [role_id],
                "password": kept_secret(path, passwords.generate)}  # fmt: skip
        if store_id is not None:
            body["store_id"] = store_id
        api.post("/accounts", body)
    elif not path.exists():
        reset = api.patch(f"/accounts/{account['id']}", {"reset_password": True})
        write_private(path, reset["password"])
    return Login(login, who, path)
