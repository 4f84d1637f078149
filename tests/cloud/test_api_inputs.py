"""What the API refuses before a view reads it: JSON too large or nested too deep, text the
store cannot keep (NUL, lone surrogates) anywhere in a request, and a missing or non-JSON
body. Each is a 4xx problem naming the place, never a 500, and nothing is written."""

from __future__ import annotations

import pytest

from cloud.http.encoding import MAX_JSON_BYTES, MAX_JSON_DEPTH
from tests.cloud.api_support import add_device, api_client, problem_of
from tests.cloud.tenancy_support import ROOT_LOGIN

pytestmark = pytest.mark.postgres

NUL = "Contains a NUL character (U+0000), which text cannot hold."
SURROGATE = "Contains a lone surrogate (U+D800), which is not Unicode text."
# the probe's body: 200 kB of nested arrays
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def anonymous(database):
    with api_client(database, secret=None) as client:
        yield client


def _error(response, status: int) -> dict:
    [error] = problem_of(response, status)["errors"]
    return error


def _json(client, method: str, url: str, text: str, **kwargs):
    return client.open(url, method=method, data=text, content_type="application/json", **kwargs)


def test_deeply_nested_json_is_a_400_also_before_sign_in(anonymous, client):
    for who in (anonymous, client):
        error = _error(_json(who, "POST", "/api/auth/sign-in", DEEP), 400)
        assert error == {
            "field": None,
            "in": "body",
            "reason": f"Nested deeper than {MAX_JSON_DEPTH} arrays or objects.",
        }
    # at the bound: read, and refused by the schema, not for its depth
    at_the_bound = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    problem_of(_json(anonymous, "POST", "/api/auth/sign-in", at_the_bound), 422)
    past_it = "[" + at_the_bound + "]"
    assert _error(_json(anonymous, "POST", "/api/auth/sign-in", past_it), 400)["field"] == (
        ".".join(["0"] * MAX_JSON_DEPTH)
    )
    # just past the bound, on a parser that would manage it, names where it went too deep
    deep_attributes = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    body = '{"id": "pack-1", "attributes": {"a": ' + deep_attributes + "}}"
    error = _error(_json(client, "POST", "/api/devices", body), 400)
    assert error["field"].startswith("attributes.a.0.0")


def test_a_json_body_over_the_size_bound_is_a_413(client, db):
    ids = ", ".join(f'"{i:0128d}"' for i in range(MAX_JSON_BYTES // 130 + 1))
    body = '{"device_ids": [' + ids + '], "command": "set_discharge", "params": {"on": false}}'
    assert len(body) > MAX_JSON_BYTES
    error = _error(_json(client, "POST", "/api/commands", body), 413)
    assert error["in"] == "body" and str(MAX_JSON_BYTES) in error["reason"]
    assert db.execute("SELECT count(*) FROM command").fetchone()[0] == 0


def test_nul_and_lone_surrogates_in_a_json_body_are_400s_naming_the_field(anonymous, client, db):
    sign_in = '{"login": "root\\u0000", "password": "x"}'
    assert _error(_json(anonymous, "POST", "/api/auth/sign-in", sign_in), 400) == {
        "field": "login",
        "in": "body",
        "reason": NUL,
    }
    surrogate = '{"id": "pack-1", "name": "\\ud800"}'
    assert _error(_json(client, "POST", "/api/devices", surrogate), 400) == {
        "field": "name",
        "in": "body",
        "reason": SURROGATE,
    }
    in_a_key = '{"id": "pack-1", "attributes": {"colour\\u0000": "red"}}'
    assert _error(_json(client, "POST", "/api/devices", in_a_key), 400)["field"] == (
        "attributes.colour\ufffd"
    )
    assert db.execute("SELECT count(*) FROM device").fetchone()[0] == 0
    # a surrogate pair is one character, and kept
    paired = '{"id": "pack-1", "name": "\\ud83d\\udd0b"}'
    assert _json(client, "POST", "/api/devices", paired).status_code == 201
    assert db.execute("SELECT name FROM device").fetchone()[0] == "\N{BATTERY}"


def test_nul_in_path_query_form_or_header_is_a_400_naming_it(client, anonymous, db):
    add_device(db, "pack-1")
    assert _error(client.get("/api/devices/pack%00-1"), 400) == {
        "field": "device_id",
        "in": "path",
        "reason": NUL,
    }
    assert _error(client.get("/api/alarm-profiles/M%001"), 400)["in"] == "path"
    assert _error(client.get("/api/devices?q=pack%00"), 400) == {
        "field": "q",
        "in": "query",
        "reason": NUL,
    }
    assert _error(client.get("/api/devices?q%00=pack"), 400)["field"] == "q\ufffd"
    upload = client.post(
        "/api/devices/import", data={"file\x00": "x"}, content_type="multipart/form-data"
    )
    assert _error(upload, 400)["in"] == "body"
    headers = {"User-Agent": "probe\x00"}
    signed_in = anonymous.post(
        "/api/auth/sign-in", json={"login": ROOT_LOGIN, "password": "x"}, headers=headers
    )
    assert _error(signed_in, 400) == {"field": "User-Agent", "in": "header", "reason": NUL}
    # the refused request still has its audit row
    row = db.execute("SELECT status, user_agent FROM audit_log ORDER BY id DESC").fetchone()
    assert row == (400, "probe\ufffd")


def test_a_csv_import_with_a_nul_is_a_422_naming_the_line(client, db):
    csv = "id,name\npack-1,ok\npack-2,bad\x00name\n"
    response = client.post("/api/devices/import", data=csv, content_type="text/csv")
    assert "line 3: " + NUL in problem_of(response, 422)["detail"]
    assert db.execute("SELECT count(*) FROM device").fetchone()[0] == 0


def test_an_operation_taking_a_json_body_refuses_none_or_another_type(client, db):
    add_device(db, "pack-1", name="kept")
    assert _error(client.patch("/api/devices/pack-1"), 400) == {
        "field": None,
        "in": "body",
        "reason": "This operation needs a JSON body.",
    }
    as_text = client.patch("/api/devices/pack-1", data='{"name": "x"}', content_type="text/plain")
    assert _error(as_text, 415)["in"] == "body"
    broken = _json(client, "PATCH", "/api/devices/pack-1", '{"name": ')
    assert _error(broken, 400)["reason"].startswith("Not valid JSON")
    assert db.execute("SELECT name FROM device").fetchone()[0] == "kept"


def test_an_integer_past_bigint_is_a_422_naming_it(client, db):
    too_big = 2**63
    listed = client.get("/api/roles", query_string={"operator_id": too_big})
    assert _error(listed, 422) == {
        "field": "operator_id",
        "in": "query",
        "reason": f"{too_big} is out of range: at most {too_big - 1}, at least {-too_big}.",
    }
    created = client.post("/api/devices", json={"id": "pack-1", "store_id": -too_big - 1})
    assert _error(created, 422)["field"] == "store_id"
    assert db.execute("SELECT count(*) FROM device").fetchone()[0] == 0
