"""SQL that limits a query to the caller's subtree: the API's first wall (row-level security
in the store is the second).

Each fragment uses the named parameters ``%(tenant)s`` (the caller's operator) and
``%(store)s`` (its store, or NULL); ``params()`` gives both for the current caller, to merge
into a query's own parameters. An operator's subtree is every operator whose path holds it.
"""

from __future__ import annotations

from typing import Any

from cloud.access.principal import principal

SUBTREE = "SELECT id FROM operator WHERE path @> ARRAY[%(tenant)s::bigint]"


def params(**more: Any) -> dict[str, Any]:
    """``more`` plus the caller's tenant and store."""
    who = principal()
    return {"tenant": who.operator_id, "store": who.store_id, **more}


def owned(column: str = "operator_id") -> str:
    """``column`` (an operator id) is in the caller's subtree."""
    return f"{column} IN ({SUBTREE})"


def device(alias: str = "d") -> str:
    """The device row ``alias`` is the caller's: in its subtree and, for a store's account,
    in its store."""
    return (
        f"{alias}.operator_id IN ({SUBTREE})"
        f" AND (%(store)s::bigint IS NULL OR {alias}.store_id = %(store)s::bigint)"
    )


def device_id(column: str = "device_id") -> str:
    """``column`` (a device id) names one of the caller's devices. A correlated EXISTS: one
    key probe per row, where ``IN (SELECT ...)`` would hash every device of the caller first
    (BENCHMARKS.md, section 9)."""
    return f"EXISTS (SELECT 1 FROM device sd WHERE sd.id = {column} AND {device('sd')})"
