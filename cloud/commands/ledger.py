"""The caller's commands: one by its id, a device's history, and cancelling one.

A command is the caller's if its device is, and was its subtree's when it was issued: a
transfer does not show the new owner what the old one sent (``scope.held``).
"""

from __future__ import annotations

from typing import Any

import psycopg
from flask_smorest.pagination import PaginationParameters
from psycopg.rows import DictRow

from cloud.commands import states
from cloud.errors import Conflict
from cloud.identity import scope
from cloud.store.pages import fetch_page

_MINE = f"cmd_id = %(id)s AND {scope.held('command.device_id', 'command.created_at')}"
GET_COMMAND = f"SELECT * FROM command WHERE {_MINE}"
CANCEL = states.cancel_one(_MINE)
_HISTORY_WHERE = (
    "WHERE device_id = %(device_id)s AND (%(state)s::text IS NULL OR state = %(state)s)"
    f" AND {scope.device_id('device_id')} AND created_at <@ {scope.periods()}"
)
COUNT_HISTORY = "SELECT count(*) AS n FROM command " + _HISTORY_WHERE
LIST_HISTORY = (
    "SELECT * FROM command " + _HISTORY_WHERE
    + " ORDER BY created_at DESC, cmd_id DESC LIMIT %(limit)s OFFSET %(offset)s"
)  # fmt: skip
_OPEN = " or ".join(states.OPEN)


def get(conn: psycopg.Connection[DictRow], cmd_id: str) -> dict[str, Any]:
    """The caller's command ``cmd_id``; 404 if it has none of that id."""
    return scope.one(conn, GET_COMMAND, "command", cmd_id)


def history(
    conn: psycopg.Connection[DictRow],
    device_id: str,
    state: str | None,
    pagination: PaginationParameters,
) -> list[dict[str, Any]]:
    """One page of the device's commands (in ``state``, if given), newest first: those
    issued while the caller's subtree held the device."""
    params = scope.params(device_id=device_id, state=state)
    return fetch_page(conn, COUNT_HISTORY, LIST_HISTORY, params, pagination)


def cancel(conn: psycopg.Connection[DictRow], cmd_id: str) -> dict[str, Any]:
    """Cancel the caller's open command ``cmd_id``: the command, with ``may_still_execute``
    (it was sent already) and a ``note`` saying what that means; 409 if it is not open."""
    row = conn.execute(CANCEL, scope.params(id=cmd_id)).fetchone()
    if row is None:
        current = get(conn, cmd_id)
        raise Conflict(
            f"command {cmd_id!r} is {current['state']}: only a {_OPEN} command can be cancelled"
        )
    was_sent = row.pop("was") == states.State.SENT
    row["may_still_execute"] = was_sent
    row["note"] = (
        "cancelled after it was sent: the device may already have it and may still"
        " execute it; its ack, if any, shows in result"
        if was_sent
        else "cancelled before it was sent: it will never reach the device"
    )
    return row
