"""Path parameters that name a tenant's object, and how to tell that the caller may see it.

Before a view runs, the guard checks every path parameter of the request here: an object
outside the caller's subtree is a 404, worded like a missing one, so the API never reveals
that another operator's object exists, whatever the view does next (and before its body is
validated). A path parameter that is in neither table fails closed (500), so a new kind of
object cannot slip through unscoped.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloud.identity import scope


@dataclass(frozen=True)
class ObjectRule:
    noun: str  # for the 404: "no device 'x'"
    sql: str  # one row if the caller may see %(value)s


OBJECTS: dict[str, ObjectRule] = {
    "device_id": ObjectRule(
        "device", f"SELECT 1 FROM device d WHERE d.id = %(value)s AND {scope.device('d')}"
    ),
    "cmd_id": ObjectRule(
        "command",
        "SELECT 1 FROM command c WHERE c.cmd_id = %(value)s"
        f" AND {scope.held('c.device_id', 'c.created_at')}",
    ),
    "batch_id": ObjectRule(
        "command batch",
        "SELECT 1 FROM command_batch b WHERE b.batch_id = %(value)s"
        f" AND {scope.command_batch('b')}",
    ),
    "geofence_id": ObjectRule(
        "geofence", f"SELECT 1 FROM geofence g WHERE g.id = %(value)s AND {scope.geofence('g')}"
    ),
    "alarm_id": ObjectRule(
        "alarm",
        f"SELECT 1 FROM alarm a WHERE a.id = %(value)s AND {scope.alarm('a')}",
    ),
    "webhook_id": ObjectRule(
        "webhook",
        "SELECT 1 FROM webhook w WHERE w.id = %(value)s"
        f" AND {scope.operator_level('w.operator_id')}",
    ),
    "delivery_id": ObjectRule(
        "delivery",
        "SELECT 1 FROM alarm_notification n JOIN webhook w ON w.id = n.webhook_id"
        f" WHERE n.id = %(value)s AND {scope.operator_level('w.operator_id')}",
    ),
    "operator_id": ObjectRule(
        "operator", f"SELECT 1 FROM operator o WHERE o.id = %(value)s AND {scope.owned('o.id')}"
    ),
    "store_id": ObjectRule(
        "store", f"SELECT 1 FROM store s WHERE s.id = %(value)s AND {scope.store('s')}"
    ),
    "account_id": ObjectRule(
        "account", f"SELECT 1 FROM account a WHERE a.id = %(value)s AND {scope.account('a')}"
    ),
    "role_id": ObjectRule(
        "role",
        f"SELECT 1 FROM role r WHERE r.id = %(value)s AND {scope.owned('r.operator_id')}",
    ),
}
for _name, _kind in (("session_id", "session"), ("token_id", "token")):
    OBJECTS[_name] = ObjectRule(
        _kind,
        "SELECT 1 FROM credential c JOIN account a ON a.id = c.account_id"
        f" WHERE c.id = %(value)s AND c.kind = '{_kind}' AND {scope.account('a')}",
    )

# Path parameters that name no tenant object: catalogue entries and files.
NOT_OBJECTS = frozenset({"alarm_type", "model", "filename"})
