"""Devices that publish without being registered (the writer records them): the platform's
list, most recently seen first. Registering one removes it (a trigger of migration 0001)."""

from __future__ import annotations

from typing import Any

import psycopg
from flask_smorest.pagination import PaginationParameters
from psycopg.rows import DictRow

from cloud.store.pages import fetch_page

LIST_UNKNOWN = """
SELECT device_id, first_seen_at, last_seen_at, messages, last_topic
FROM unknown_device
ORDER BY last_seen_at DESC, device_id COLLATE "C"
LIMIT %(limit)s OFFSET %(offset)s
"""
COUNT_UNKNOWN = "SELECT count(*) AS n FROM unknown_device"


def page(
    conn: psycopg.Connection[DictRow], pagination: PaginationParameters
) -> list[dict[str, Any]]:
    """One page of the unknown devices."""
    return fetch_page(conn, COUNT_UNKNOWN, LIST_UNKNOWN, {}, pagination)
