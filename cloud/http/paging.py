"""Page/page_size pagination over SQL: flask-smorest's paginate() parses the arguments and
writes the X-Pagination header; these run the two queries it needs."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import psycopg
from flask_smorest.pagination import PaginationParameters

from cloud.http.schemas import QueryArgs

PAGE_SIZE = 50
PAGINATION_ARGUMENTS = ("page", "page_size")


class PagedQueryArgs(QueryArgs):
    """Query arguments of a paginated list; ``page``/``page_size`` belong to the paginator."""

    @ma.pre_load
    def _leave_pagination_to_the_paginator(self, data: Any, **kwargs: Any) -> dict[str, Any]:
        return {key: data[key] for key in data if key not in PAGINATION_ARGUMENTS}


def fetch_page(
    conn: psycopg.Connection,
    count_query: str,
    page_query: str,
    params: dict[str, Any],
    pagination: PaginationParameters,
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
