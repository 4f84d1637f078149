"""Every answer a test gets from the API, checked against the API's own OpenAPI document
(no tests here). tests/conftest.py makes ConformingClient every Flask app's test client.

openapi-core checks that the status is declared for the operation, that the content type
is one the document gives for it, and that the body and the declared headers match their
schemas. On top: a success status must be declared by itself (not only met by
``default``, which the document keeps for problems); a request that names no operation
(an unknown path, a method the path does not have) may only get a problem; and the
``Allow`` header of OPTIONS and of a 405 lists exactly the documented methods.
"""

from __future__ import annotations

import functools
import io
import json
import re
from typing import Any

from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.test import TestResponse
from werkzeug.wrappers import Request

# flask-smorest's own pages: the document and Swagger UI, which it does not describe
UNDOCUMENTED_PREFIXES = ("/api/openapi.json", "/api/docs")
PROBLEM = "application/problem+json"
_METHODS = ("get", "put", "post", "delete", "patch")


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document, from an app whose store is never reached."""
    from tests.cloud.api_support import offline_api_client

    with offline_api_client() as client:
        return client.get("/api/openapi.json").get_json()


@functools.cache
def _openapi() -> OpenAPI:
    config = Config(extra_media_type_deserializers={PROBLEM: json.loads})
    return OpenAPI.from_dict(openapi_document(), config=config)


def _fail(response: TestResponse, why: str) -> None:
    request = response.request
    body = response.get_data(as_text=True)[:500]
    raise AssertionError(
        f"{request.method} {request.full_path.rstrip('?')} -> {response.status} "
        f"({response.content_type}) is not what the OpenAPI document says: {why}\n{body}"
    )


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    """Each documented path as a pattern, concrete ones first: OpenAPI matches
    ``/api/devices/import`` to itself before ``/api/devices/{device_id}``."""
    found = [
        (re.compile(re.sub(r"\\{\w+\\}", "[^/]+", re.escape(template))), template)
        for template in openapi_document()["paths"]
    ]
    return sorted(found, key=lambda pair: pair[1].count("{"))


def _path_template(path: str) -> str | None:
    return next((t for pattern, t in _templates() if pattern.fullmatch(path)), None)


def _check_allow(response: TestResponse) -> None:
    template = _path_template(response.request.path)
    if template is None:
        return
    item = openapi_document()["paths"][template]
    documented = {method.upper() for method in item if method in _METHODS}
    expected = documented | {"OPTIONS"} | ({"HEAD"} if "GET" in documented else set())
    allowed = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
    if allowed != expected:
        _fail(response, f"Allow is {sorted(allowed)}, the document has {sorted(expected)}")


def _check_problem(response: TestResponse, why: str) -> None:
    body = response.get_json(force=True, silent=True) or {}
    if response.mimetype != PROBLEM or body.get("status") != response.status_code:
        _fail(response, f"{why}: only a problem may answer it")


def _without_body(request: Request) -> Request:
    """The request as openapi-core needs it to find the operation: its body was read by the
    app already, and reading it again would fail."""
    environ = {**request.environ, "wsgi.input": io.BytesIO(), "CONTENT_LENGTH": "0"}
    return Request(environ)


def check_response(response: TestResponse) -> None:
    """Raise AssertionError if ``response`` is not an answer the document allows."""
    request = response.request
    if request.path.startswith(UNDOCUMENTED_PREFIXES) or request.method == "HEAD":
        return
    if not request.path.startswith("/api/"):
        return  # the console's pages and files (cloud/console), which are not the API
    if request.method == "OPTIONS" or response.status_code == 405:
        _check_allow(response)
        if request.method == "OPTIONS":
            return
    try:
        _openapi().validate_response(
            WerkzeugOpenAPIRequest(_without_body(request)), WerkzeugOpenAPIResponse(response)
        )
    except (PathNotFound, OperationNotFound) as err:
        _check_problem(response, f"no documented operation ({err})")
        return
    except OpenAPIError as err:
        cause = f" ({err.__cause__})" if err.__cause__ else ""
        _fail(response, f"{err}{cause}")
    if response.status_code < 400:  # declared on its own, not only covered by "default"
        template = _path_template(request.path)
        operation = openapi_document()["paths"][template][request.method.lower()]
        if str(response.status_code) not in operation["responses"]:
            _fail(response, f"the operation does not declare {response.status_code}")


class ConformingClient(FlaskClient):
    """Flask's test client, checking each answer with check_response()."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        check_response(response)
        return response
