"""Page/page_size pagination over SQL: flask-smorest's paginate() parses the arguments and
writes the X-Pagination header; cloud/store/pages.py runs the two queries it needs."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from cloud.http.schemas import QueryArgs

PAGE_SIZE = 50
PAGINATION_ARGUMENTS = ("page", "page_size")


class PagedQueryArgs(QueryArgs):
    """Query arguments of a paginated list; ``page``/``page_size`` belong to the paginator."""

    @ma.pre_load
    def _leave_pagination_to_the_paginator(self, data: Any, **kwargs: Any) -> dict[str, Any]:
        return {key: data[key] for key in data if key not in PAGINATION_ARGUMENTS}
