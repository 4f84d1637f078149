"""Payloads the ingest worker could not store, and why, as the platform reads them: newest
first, each payload shown in base64 and, when it is UTF-8 text, as a preview."""

from __future__ import annotations

import base64
from typing import Any

import psycopg
from psycopg.rows import DictRow

from cloud.store.pages import fetch_page

# Every filter is optional: a NULL parameter switches its condition off.
_FILTER = """
WHERE (%(device_id)s::text IS NULL OR device_id = %(device_id)s)
  AND (%(reason)s::text IS NULL OR strpos(lower(reason), lower(%(reason)s)) > 0)
  AND (%(since)s::timestamptz IS NULL OR received_at >= %(since)s)
"""
LIST_DEAD_LETTERS = (
    "SELECT id, received_at, topic, device_id, reason, payload, payload_bytes FROM dead_letter"
    + _FILTER
    + "ORDER BY received_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s"
)
COUNT_DEAD_LETTERS = "SELECT count(*) AS n FROM dead_letter" + _FILTER
FILTERS = ("device_id", "reason", "since")
PREVIEW_CHARS = 4096


def shown(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as the API shows it: the payload in base64, a text preview if it is
    UTF-8, and whether only its start was kept."""
    payload = bytes(row.pop("payload"))
    try:
        preview = payload.decode("utf-8")[:PREVIEW_CHARS]
    except UnicodeDecodeError:
        preview = None  # compressed telemetry, or bytes that were never text
    return {
        **row,
        "payload_base64": base64.b64encode(payload).decode("ascii"),
        "payload_preview": preview,
        "truncated": len(payload) < row["payload_bytes"],
    }


def page(
    conn: psycopg.Connection[DictRow], filters: dict[str, Any], pagination: dict[str, Any]
) -> list[dict[str, Any]]:
    """One page of the rows matching ``filters`` (``FILTERS``), newest first, shown."""
    params = {key: filters.get(key) for key in FILTERS}
    rows = fetch_page(conn, COUNT_DEAD_LETTERS, LIST_DEAD_LETTERS, params, pagination)
    return [shown(row) for row in rows]
