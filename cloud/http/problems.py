"""Every error the API sends is a problem detail (RFC 9457, ``application/problem+json``).

``{"type": "about:blank", "title": "Not Found", "status": 404, "detail": "..."}``; a
validation problem adds ``errors``, one ``{"field", "in", "reason"}`` per fault, so a form
can put each message next to its input.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping
from typing import Any, NoReturn

import flask_smorest
import marshmallow as ma
from flask import Flask, Response, current_app
from flask_smorest.pagination import PaginationMetadataSchema
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from cloud.errors import Conflict, Forbidden, Invalid, NotFound, Refused, StoreUnavailable

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# webargs names the part of the request that failed; the problem says it in OpenAPI's words.
LOCATIONS = {"json": "body", "query": "query", "querystring": "query", "files": "body"}


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(allow_none=True, metadata={"description": "null: the whole input"})
    reason = ma.fields.String()
    location = ma.fields.String(data_key="in", metadata={"description": "query, body or path"})


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation only: responses are built by problem())."""

    type = ma.fields.String(metadata={"example": "about:blank"})
    title = ma.fields.String(metadata={"example": "Unprocessable Entity"})
    status = ma.fields.Integer(metadata={"example": 422})
    detail = ma.fields.String(metadata={"example": "from: Not a valid datetime."})
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem+json response for ``status``."""
    phrase = http.HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": phrase,
        "status": status,
        "detail": detail or phrase,
    }
    if errors is not None:
        body["errors"] = errors
    return current_app.response_class(
        current_app.json.dumps(body),
        status=status,
        mimetype=PROBLEM_CONTENT_TYPE,
        headers=dict(headers or {}),
    )


def fail(status: int, detail: str, *, errors: list[dict[str, Any]] | None = None) -> NoReturn:
    """Stop the request with a problem of ``status`` (raises an HTTPException)."""
    flask_smorest.abort(status, message=detail, errors=errors)
    raise AssertionError("flask_smorest.abort() raises")  # it has no type information


def field_errors(messages: Any, location: str | None = None) -> list[dict[str, Any]]:
    """Flatten webargs/marshmallow messages into ``[{"field", "in", "reason"}]``.

    webargs keys them by location first (``{"query": {"from": ["Not a valid datetime."]}}``);
    nested fields become dotted paths (``attributes.colour``); ``_schema`` is the whole input.
    """
    found: list[dict[str, Any]] = []

    def walk(node: Any, path: list[str], where: str | None) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if where is None and key in LOCATIONS:
                    walk(value, path, LOCATIONS[key])
                else:
                    walk(value, [*path, str(key)], where)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item, path, where)
        else:
            names = [part for part in path if part != "_schema"]
            found.append({"field": ".".join(names) or None, "in": where, "reason": str(node)})

    walk(messages, [], LOCATIONS.get(location or "", location))
    return found


def _detail_of(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{e['field']}: {e['reason']}" if e["field"] else e["reason"] for e in errors)


class Api(flask_smorest.Api):
    """flask-smorest's Api, answering every error with a problem detail."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        """Turn any HTTPException (abort(), webargs' 422, Flask's 404/405/500) into a problem."""
        data = getattr(error, "data", None) or {}
        status = error.code or 500
        errors = data.get("errors")
        if errors is None and "messages" in data:
            errors = field_errors(data["messages"])
        detail = data.get("message")
        if detail is None:
            detail = _detail_of(errors) if errors else error.description
        # Keep what the exception must say (Allow on a 405), never its HTML content type.
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        return problem(status, detail, errors=errors, headers=headers)

    def _register_responses(self) -> None:
        # flask-smorest documents its error responses as application/json; ours are
        # problem+json, so the components are registered here with that content type.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Any error, as a problem detail", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)

    def _register_pagination_header(self) -> None:
        # X-Pagination holds a JSON object; declared with only a schema, OpenAPI reads an
        # object header as "key,value,..." (style simple), which is not what is sent.
        header = {
            "description": "Pagination metadata, a JSON object",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }
        self.spec.components.header("PAGINATION", header, lazy=True)


# What each refusal of the domain (cloud/errors.py) is answered with.
REFUSAL_STATUS: dict[type[Refused], int] = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Invalid: 422,
}


def _refused(error: Refused) -> Response:
    status = next((c for kind, c in REFUSAL_STATUS.items() if isinstance(error, kind)), 400)
    return problem(status, error.detail, errors=error.errors)


def _store_unavailable(error: StoreUnavailable) -> Response:
    log.warning("store unavailable: %s", error)
    return problem(503, "The database is unavailable; try again shortly.")


def register_problem_handlers(app: Flask) -> None:
    """Errors that are not HTTPExceptions: the store being down is a 503, not a 500; a
    refusal of the domain is its own 4xx."""
    app.register_error_handler(StoreUnavailable, _store_unavailable)
    app.register_error_handler(Refused, _refused)
