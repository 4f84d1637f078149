"""How the API writes values: times as ISO 8601 UTC with milliseconds, keys in the order
the query produced them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.json.provider import DefaultJSONProvider


def format_time(value: datetime) -> str:
    """``2026-11-23T14:05:00.123Z``: UTC, milliseconds, a ``Z``; the one spelling of a time."""
    if value.tzinfo is None:
        # The store only holds timestamptz; a naive time here is a bug, not a guess to make.
        raise ValueError(f"naive datetime {value!r}: the API writes only aware times")
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    return DefaultJSONProvider.default(value)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with times as format_time() writes them and keys left in order."""

    default = staticmethod(_default)
    sort_keys = False
