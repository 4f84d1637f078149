"""The permission catalogue, the operator capability flags that cap it, and which command
needs which permission.

A role holds permission names (or ``*``: everything its operator's flags allow). What an
account may do is the union of its roles, cut down to what its operator's flags allow, for
``platform.*`` permissions only in the root operator, and for an account of a store without
the permissions that act on the whole operator (``OPERATOR_WIDE``). The cut happens on every
request, so taking a flag from an operator takes the permission from every account under it
at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from protocols.contract import commands as catalogue

# Capability flags: an operator's flags are a subset of its parent's (enforced in the store).
FLAGS: dict[str, str] = {
    "charge_discharge_control": "switch a pack's charging and discharging remotely",
    "bms_param_write": "write BMS protection parameters",
    "cutoff_control": "cut power when a pack is not leased",
    "custom_billing": "set its own billing rules",
    "offline_payment": "take payment offline",
    "independent_settlement": "settle accounts independently",
}

ALL = "*"

# name -> (what it allows, the flag it needs or None)
PERMISSIONS: dict[str, tuple[str, str | None]] = {
    "operator.read": ("see the operator and its sub-operators", None),
    "operator.write": ("create and edit sub-operators, their flags and sign-in policy", None),
    "store.read": ("see stores", None),
    "store.write": ("create, edit and delete stores", None),
    "device.read": ("see devices, their state, history and the live map", None),
    "device.write": ("register, edit, import and delete devices", None),
    "device.transfer": ("move devices to another operator or store of the subtree", None),
    "device.credentials": ("issue, rotate and revoke a device's MQTT password and key", None),
    "device.command.basic": ("locate, read BMS parameters, change reporting", None),
    "device.command.charge": ("switch charging on and off", "charge_discharge_control"),
    "device.command.discharge": (
        "switch discharging on and off (cut power)",
        "charge_discharge_control",
    ),
    "device.command.cutoff": ("turn cut-off-when-not-leased on and off", "cutoff_control"),
    "device.bms.write": ("write BMS parameters", "bms_param_write"),
    "command.read": ("see commands and their results", None),
    "command.cancel": ("cancel queued commands", None),
    "lease.write": ("set and end the lease term a device enforces", None),
    "alarm.read": ("see alarms, alarm types and profiles; mute types for oneself", None),
    "alarm.resolve": ("resolve alarms", None),
    "geofence.read": ("see geofences and crossings", None),
    "geofence.write": ("create, edit, assign and delete geofences", None),
    "webhook.read": ("see webhooks and their deliveries", None),
    "webhook.write": ("create, edit and delete webhooks; retry deliveries", None),
    "account.read": ("see accounts, their roles and sessions", None),
    "account.write": ("create, edit and disable accounts; revoke their sessions", None),
    "role.read": ("see roles", None),
    "role.write": ("create, edit and delete roles", None),
    "audit.read": ("read the audit log", None),
    "billing.write": ("edit billing rules", "custom_billing"),
    "payment.offline": ("record offline payments", "offline_payment"),
    "settlement.manage": ("run independent settlement", "independent_settlement"),
    # the root operator's accounts only
    "platform.alarm_profiles": ("edit the fleet's alarm profiles", None),
    "platform.unknown_devices": ("see devices that publish without being registered", None),
    "platform.dead_letters": ("see payloads ingest could not store", None),
    "platform.broker": ("ask the broker authentication endpoints (EMQX HTTP auth)", None),
}


def platform_only(permission: str) -> bool:
    return permission.startswith("platform.")


# What an account of a store never holds, whatever its roles say: each one changes (or, for
# webhooks, reads) objects of the whole operator, whose effect reaches other stores' devices:
# sub-operators and their policy, fences and their actions, webhooks (their deliveries carry
# every store's alarms), roles, device moves, and the platform's settings. Store staff read
# their store's devices, alarms and the fences that apply to them, command their devices,
# edit their store's details (tenancy/views/stores.py keeps making, moving and deleting
# stores from them) and manage their store's accounts with the operator's roles.
OPERATOR_WIDE = frozenset(
    {"operator.write", "geofence.write", "webhook.read", "webhook.write", "role.write",
     "device.transfer"}
    | {name for name in PERMISSIONS if platform_only(name)}
)  # fmt: skip

# Which permission each command type needs.
COMMAND_PERMISSIONS: dict[str, str] = {
    catalogue.SET_DISCHARGE: "device.command.discharge",
    catalogue.SET_CHARGE: "device.command.charge",
    catalogue.SET_CUTOFF_WHEN_NOT_LEASED: "device.command.cutoff",
    catalogue.WRITE_BMS_PARAMETERS: "device.bms.write",
    catalogue.REBOOT_BMS: "device.bms.write",
    catalogue.READ_BMS_PARAMETERS: "device.command.basic",
    catalogue.LOCATE: "device.command.basic",
    catalogue.SET_REPORTING: "device.command.basic",
}


def allowed(flags: Iterable[str], *, platform: bool) -> frozenset[str]:
    """Every permission an operator with ``flags`` may grant (``platform``: the root)."""
    have = set(flags)
    return frozenset(
        name
        for name, (_, flag) in PERMISSIONS.items()
        if (flag is None or flag in have) and (platform or not platform_only(name))
    )


def effective(
    granted: Iterable[str], flags: Iterable[str], *, platform: bool, store: bool = False
) -> frozenset[str]:
    """What the holder of ``granted`` (role permissions, maybe ``*``) may really do;
    ``store``: the holder is an account of a store, which never has ``OPERATOR_WIDE``."""
    cap = allowed(flags, platform=platform)
    if store:
        cap -= OPERATOR_WIDE
    granted = set(granted)
    return cap if ALL in granted else cap & granted


def refused(permissions: Iterable[str], flags: Iterable[str], *, platform: bool) -> list[str]:
    """Why ``permissions`` cannot go into a role of an operator with ``flags`` (one reason per
    permission; empty: they can)."""
    cap = allowed(flags, platform=platform)
    reasons = []
    for name in permissions:
        if name == ALL:
            continue
        if name not in PERMISSIONS:
            reasons.append(f"{name!r} is not a permission")
        elif name not in cap:
            flag = PERMISSIONS[name][1]
            why = (
                f"needs the operator flag {flag!r}"
                if flag and flag not in set(flags)
                else "is for the platform operator only"
            )
            reasons.append(f"{name!r} {why}")
    return reasons


def listed() -> dict[str, Any]:
    """Every permission (what it allows, the flag it needs, where it applies) and every
    capability flag, as ``GET /api/permissions`` lists them."""
    return {
        "permissions": [
            {"name": name, "description": description, "flag": flag,
             "platform_only": platform_only(name), "operator_wide": name in OPERATOR_WIDE}
            for name, (description, flag) in PERMISSIONS.items()
        ],
        "flags": [{"name": name, "description": text} for name, text in FLAGS.items()],
    }  # fmt: skip
