"""Fence crossings as the worker confirmed them, for the caller's devices.

A crossing is recorded once its dwell time has passed (the worker's hysteresis), with whether
it broke the fence (``breach``: out of a keep-in, into a keep-out), the position that
confirmed it and the command the fence's action issued, if any. A fence deleted later keeps
its crossings: ``geofence_id`` becomes null, ``geofence_name`` stays.
"""

from __future__ import annotations

from typing import Any

import psycopg
from flask_smorest.pagination import PaginationParameters
from psycopg.rows import DictRow

from cloud.identity import scope
from cloud.store.pages import fetch_page

FILTERS = ("device_id", "geofence_id", "type", "breach", "start", "end")
# Crossings from before the device came to the caller's subtree stay its old owner's.
# Every filter is optional: a NULL parameter switches its condition off.
_FILTER = f"""
WHERE {scope.held("geofence_event.device_id", "geofence_event.time")}
  AND (%(device_id)s::text IS NULL OR device_id = %(device_id)s)
  AND (%(geofence_id)s::bigint IS NULL OR geofence_id = %(geofence_id)s)
  AND (%(type)s::text IS NULL OR type = %(type)s)
  AND (%(breach)s::boolean IS NULL OR breach = %(breach)s)
  AND (%(start)s::timestamptz IS NULL OR time >= %(start)s)
  AND (%(end)s::timestamptz IS NULL OR time < %(end)s)
"""
LIST_EVENTS = (
    "SELECT * FROM geofence_event"
    + _FILTER
    + "ORDER BY time DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s"
)
COUNT_EVENTS = "SELECT count(*) AS n FROM geofence_event" + _FILTER


def page(
    conn: psycopg.Connection[DictRow], args: dict[str, Any], pagination: PaginationParameters
) -> list[dict[str, Any]]:
    """A page of the crossings of the caller's devices, newest first, filtered by
    ``FILTERS`` from the query."""
    params = scope.params(**{key: args.get(key) for key in FILTERS})
    return fetch_page(conn, COUNT_EVENTS, LIST_EVENTS, params, pagination)
