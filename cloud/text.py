"""Text and time as the store and the API spell them: what text PostgreSQL cannot hold, and
the one way a time is written. Shared by the HTTP plumbing and the contexts."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_fault(value: str) -> str | None:
    """Why the store cannot keep ``value`` as text, or None if it can."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Contains a NUL character (U+0000), which text cannot hold."
    return f"Contains a lone surrogate (U+{ord(found.group()):04X}), which is not Unicode text."


def storable_text(value: str) -> str:
    """``value`` with what text_fault() finds replaced by U+FFFD (for logs and audit rows)."""
    return _UNSTORABLE.sub("\ufffd", value)


def format_time(value: datetime) -> str:
    """``2026-11-23T14:05:00.123Z``: UTC, milliseconds, a ``Z``; the one spelling of a time."""
    if value.tzinfo is None:
        # The store only holds timestamptz; a naive time here is a bug, not a guess to make.
        raise ValueError(f"naive datetime {value!r}: the API writes only aware times")
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
