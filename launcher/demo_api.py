"""The demo's own client of the API it runs: the demo builds its rental business through the
same endpoints (and so the same checks) an operator's console uses, as its administrator."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

TIMEOUT_S = 30.0


class ApiRefused(RuntimeError):
    """The API answered an error (the message has the method, path, status and body)."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path}: {status} {body.strip()[:500]}")
        self.status = status


class DemoApi:
    """JSON requests to ``api_url`` (ending in /api) with a bearer token."""

    def __init__(self, api_url: str, token: str) -> None:
        self.api_url = api_url
        self.token = token

    def get(self, path: str, **query: Any) -> Any:
        """GET ``path``; None when it answers 404."""
        if query:
            path = f"{path}?{urlencode(query)}"
        try:
            return self.call("GET", path)
        except ApiRefused as err:
            if err.status == 404:
                return None
            raise

    def all(self, path: str, **query: Any) -> list[dict[str, Any]]:
        """Every row of a paginated list (the demo's lists fit in a few pages)."""
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            got = self.get(path, **query, page=page, page_size=100)
            rows += got
            if len(got) < 100:
                return rows
            page += 1

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.call("POST", path, body)

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self.call("PUT", path, body)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.call("PATCH", path, body)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The decoded answer; ApiRefused for an error status."""
        request = urllib.request.Request(
            self.api_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as err:
            raise ApiRefused(method, path, err.code, err.read().decode(errors="replace")) from None
        return json.loads(text) if text else None
