"""The probe's injections, for every operation in the OpenAPI document: a NUL or a lone
surrogate in each path parameter, query parameter and top-level body field, and 200 kB of
nested arrays as the body. None may be a 5xx; each answer must also be one the document
allows (tests/conftest.py checks every answer)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import psycopg
import pytest

from tests.cloud.api_support import api_client
from tests.cloud.walk_support import OPERATIONS, SPEC
from tests.cloud.walk_support import build_objects as one_of_every_kind

pytestmark = pytest.mark.postgres

# as JSON escapes: a NUL (PostgreSQL's text refuses it), a lone surrogate (not UTF-8 text)
POISONS = ("\\u0000", "\\ud800")
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture(scope="module")
def client(module_database):
    with psycopg.connect(module_database, autocommit=True) as conn:
        known = one_of_every_kind(conn, "probe", 1)
    known |= {"alarm_type": "low_soc", "model": "walk-model"}
    with api_client(module_database) as client:
        client.known = known
        yield client


def _quoted(text: str) -> str:
    # a lone surrogate goes as the bytes UTF-8 would give it (invalid UTF-8: %ED%A0%80)
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _url(client, path: str, poisoned: str | None = None, text: str = "") -> str:
    def value(match: re.Match) -> str:
        name = match[1]
        if name == poisoned:
            return _quoted(f"{client.known.get(name, 'x')}{text}")
        return _quoted(str(client.known.get(name, "x")))

    return re.sub(r"{(\w+)}", value, path)


def _body_fields(operation: dict) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return list(schema.get("properties", {}))


def _query_names(path: str, method: str) -> list[str]:
    parameters = SPEC["paths"][path][method].get("parameters", [])
    return [p["name"] for p in parameters if p.get("in") == "query"]


def _no_server_error(response) -> None:
    request = response.request
    assert response.status_code < 500, (request.method, request.full_path, response.data[:300])


@pytest.mark.slow
@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_poisoned_text_anywhere_is_never_a_server_error(client, path, method):
    operation = SPEC["paths"][path][method]
    for escape in POISONS:
        text = json.loads(f'"{escape}"')
        for param in re.findall(r"{(\w+)}", path):
            _no_server_error(client.open(_url(client, path, param, text), method=method))
        for param in _query_names(path, method):
            url = f"{_url(client, path)}?{param}={_quoted(text + 'x')}"
            _no_server_error(client.open(url, method=method))
        for field in _body_fields(operation):
            body = f'{{"{field}": "a{escape}"}}'
            answer = client.open(
                _url(client, path), method=method, data=body, content_type="application/json"
            )
            _no_server_error(answer)
            assert answer.status_code in (400, 401, 403, 404), answer.data[:300]
    if "requestBody" in operation:
        deep = client.open(_url(client, path), method=method, data=DEEP,
                           content_type="application/json")  # fmt: skip
        _no_server_error(deep)
