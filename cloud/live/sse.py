"""Server-sent event frames (the WHATWG ``text/event-stream`` format)."""

from __future__ import annotations

# How long a browser waits before it reconnects a dropped stream.
RETRY_MS = 3000


def event(name: str, data: str, cursor: str | None = None) -> str:
    """One event: its name, its ``id`` (the cursor a reconnection resumes from) and its
    data. ``data`` is compact JSON, one line, so it needs one ``data:`` field."""
    head = f"id: {cursor}\n" if cursor is not None else ""
    return f"{head}event: {name}\ndata: {data}\n\n"


def retry() -> str:
    """The reconnection delay, sent first."""
    return f"retry: {RETRY_MS}\n\n"


def heartbeat() -> str:
    """A comment line: keeps proxies from closing an idle stream; clients ignore it."""
    return ": heartbeat\n\n"


# The page re-fetches the snapshot and opens a new stream: this one cannot go on from where
# the page is (an unknown cursor, or a page too slow to keep up).
RESYNC = event("resync", "{}")
