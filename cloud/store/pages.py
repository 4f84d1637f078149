"""One page of a listing: the count, then the rows of the asked-for page.

Domain modules list with ``fetch_page``; the API's paginator (flask-smorest's
PaginationParameters) is one ``Page``, and reports the total it is given.
"""

from __future__ import annotations

from typing import Any, Protocol

import psycopg


class Page(Protocol):
    """Which page is asked for, and where the total goes."""

    page_size: int
    item_count: int | None

    @property
    def first_item(self) -> int: ...


def fetch_page(
    conn: psycopg.Connection,
    count_query: str,
    page_query: str,
    params: dict[str, Any],
    pagination: Page,
) -> list[dict[str, Any]]:
    """The rows of the requested page; also sets the total the header reports.

    ``count_query`` returns one row with ``n``; ``page_query`` takes ``%(limit)s`` and
    ``%(offset)s`` on top of ``params`` and must order its rows stably.
    """
    pagination.item_count = conn.execute(count_query, params).fetchone()["n"]
    if pagination.first_item >= pagination.item_count:
        # past the last page; also keeps a huge ?page= from overflowing OFFSET's bigint
        return []
    page = {**params, "limit": pagination.page_size, "offset": pagination.first_item}
    return conn.execute(page_query, page).fetchall()
