"""How the API reads and writes JSON: times out as ISO 8601 UTC with milliseconds, keys in
the order the query produced them; bodies in only when the store can keep what they hold.

A body is refused whole, before a view's code sees it, when it is larger than
``MAX_JSON_BYTES`` (413), nested deeper than ``MAX_JSON_DEPTH`` (400; Python's parser
would otherwise run out of stack on ``[[[[...``), or holds a string PostgreSQL cannot keep
(400): a NUL character, which ``text`` and ``jsonb`` refuse, or a lone UTF-16 surrogate
(``"\\ud800"``), which is not Unicode text and cannot be encoded as UTF-8. The same text
rule holds for path parameters, query strings, form fields and headers
(``refuse_unstorable_text``), so no endpoint answers 500 for them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, NoReturn

from flask import Request as FlaskRequest
from flask import Response, request
from flask.json.provider import DefaultJSONProvider

from cloud.http.problems import fail, problem
from cloud.text import format_time, storable_text, text_fault
from protocols import json_bounds

# A bulk command names at most 10,000 devices of up to 128 characters: about 1.4 MB.
MAX_JSON_BYTES = 2 * 1024 * 1024
# GeoJSON multipolygons, the deepest thing the API takes, nest 6 levels. The wire's bound:
# MQTT payloads are refused before parsing (json_bounds); a body is parsed, then walked, so
# that the refusal can name where it went too deep.
MAX_JSON_DEPTH = json_bounds.MAX_DEPTH


class JSONRefused(ValueError):
    """A JSON text the API will not take; ``field`` names where (None: the whole body)."""

    def __init__(self, status: int, reason: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.status = status
        self.reason = reason
        self.field = field


def nodes(value: Any) -> Iterator[tuple[str | None, int, Any]]:
    """(dotted path, depth, node) of every node and object key of a parsed document,
    without recursion: a deep document must not exhaust the stack here either."""
    stack: list[tuple[str | None, int, Any]] = [(None, 0, value)]
    while stack:
        path, depth, node = stack.pop()
        yield path, depth, node
        if isinstance(node, dict):
            for key, child in node.items():
                inner = f"{path}.{key}" if path else str(key)
                yield inner, depth + 1, key
                stack.append((inner, depth + 1, child))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                stack.append((f"{path}.{index}" if path else str(index), depth + 1, child))


def load_bounded(text: str | bytes) -> Any:
    """Parse a JSON body, raising JSONRefused for one too large, too deep or holding text the
    store cannot keep (see the module's docstring)."""
    if len(text) > MAX_JSON_BYTES:
        raise JSONRefused(413, f"The JSON body is {len(text)} bytes; at most {MAX_JSON_BYTES}.")
    too_deep = f"Nested deeper than {MAX_JSON_DEPTH} arrays or objects."
    try:
        value = json.loads(text)
    except RecursionError as err:  # far deeper than the bound: the parser gave up first
        raise JSONRefused(400, too_deep) from err
    for path, depth, node in nodes(value):
        # depth counts the arrays and objects around the node; with its own, one more
        if isinstance(node, dict | list) and depth >= MAX_JSON_DEPTH:
            raise JSONRefused(400, too_deep, path)
        fault = text_fault(node) if isinstance(node, str) else None
        if fault:
            raise JSONRefused(400, fault, path and storable_text(path))
    return value


def _refuse(status: int, reason: str, field: str | None, location: str) -> NoReturn:
    detail = f"{field}: {reason}" if field else reason
    fail(status, detail, errors=[{"field": field, "in": location, "reason": reason}])


class Request(FlaskRequest):
    """Flask's request, whose JSON body errors are problems naming what was wrong."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if isinstance(e, JSONRefused):
            _refuse(e.status, e.reason, e.field, "body")
        if e is None:
            _refuse(415, f"Send the body as application/json, not {self.mimetype!r}.", None, "body")
        _refuse(400, f"Not valid JSON: {e}", None, "body")


def refuse_unstorable_text() -> Response | None:
    """before_request: 400 for a path parameter, query argument, form field or header
    holding text the store cannot keep (the JSON body is checked as it is parsed)."""
    places = [
        ("path", (request.view_args or {}).items()),
        ("query", request.args.items(multi=True)),
        ("header", request.headers.items()),
    ]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        places.append(("body", request.form.items(multi=True)))
    for location, pairs in places:
        for name, value in pairs:
            fault = text_fault(name) or (text_fault(value) if isinstance(value, str) else None)
            if fault:
                name = storable_text(name)
                errors = [{"field": name, "in": location, "reason": fault}]
                return problem(400, f"{name}: {fault}", errors=errors)
    return None


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    return DefaultJSONProvider.default(value)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with times as format_time() writes them, keys left in order, and
    bodies read with load_bounded()."""

    default = staticmethod(_default)
    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """load_bounded(): a body too large, too deep or with unstorable text is refused."""
        return load_bounded(s)
