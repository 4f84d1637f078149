"""Answers that must match the OpenAPI document, one per mismatch the probe of issue 13
found, and the check tests/conftest.py puts on every answer (conformance_support)."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from tests.cloud.api_support import (
    add_device,
    at,
    insert_position,
    iso,
    offline_api_client,
    problem_of,
)
from tests.cloud.conformance_support import check_response, openapi_document

pytestmark = pytest.mark.postgres

RANGE = {"from": iso(at(0)), "to": iso(at(60))}


def test_the_check_refuses_an_answer_the_document_does_not_allow():
    with offline_api_client() as conforming:
        app = conforming.application
    plain = FlaskClient(app)
    answer = plain.get("/api/health")
    check_response(answer)  # a 503 problem: documented
    answer.set_data(json.dumps({"status": 503, "detail": "x"}))  # problem+json, no title
    answer.status_code = 200  # declared, but not with this body
    with pytest.raises(AssertionError, match="not what the OpenAPI document says"):
        check_response(answer)
    renamed = plain.post("/api/auth/sign-in", json={})
    renamed.status_code = 299
    with pytest.raises(AssertionError):
        check_response(renamed)


def test_positions_per_bucket_are_in_buckets_which_the_document_declares(client, db):
    schema = openapi_document()["components"]["schemas"]["PositionHistory"]
    assert schema["additionalProperties"] is False and "buckets" in schema["properties"]
    add_device(db, "pack-1")
    insert_position(db, "pack-1", at(1), seq=1)
    body = client.get("/api/devices/pack-1/positions", query_string={"bucket": "5m", **RANGE})
    assert [row["seq"] for row in body.get_json()["buckets"]] == [1]


def test_x_pagination_is_declared_as_the_json_it_is(client, db):
    header = openapi_document()["components"]["headers"]["PAGINATION"]
    assert list(header["content"]) == ["application/json"] and "schema" not in header
    add_device(db, "pack-1")
    listed = client.get("/api/devices")
    assert json.loads(listed.headers["X-Pagination"])["total"] == 1


def test_a_page_far_past_the_last_is_empty_not_a_500(client, db):
    add_device(db, "pack-1")
    far = client.get("/api/dead-letters", query_string={"page": 184467440737095518})
    assert far.status_code == 200 and far.get_json() == []
    assert client.get("/api/devices", query_string={"page": 2}).get_json() == []


def test_a_boolean_is_true_or_false_only(client, db):
    add_device(db, "pack-1")
    lease = {"leased": 0, "cutoff_when_not_leased": False}
    refused = problem_of(client.put("/api/devices/pack-1/lease", json=lease), 422)
    assert refused["errors"] == [
        {"field": "leased", "in": "body", "reason": "Not a valid boolean: use true or false."}
    ]
    assert problem_of(client.put("/api/devices/pack-1/lease", json=lease | {"leased": "true"}), 422)
    for spelling in ("1", "0", "yes", "True"):
        problem_of(client.get("/api/devices", query_string={"online": spelling}), 422)
    assert client.get("/api/devices", query_string={"online": "false"}).get_json()[0]["id"] == (
        "pack-1"
    )
    assert client.put("/api/devices/pack-1/lease", json=lease | {"leased": True}).status_code == 200


@pytest.mark.parametrize("operation", ["import", "transfer"])
def test_an_operation_under_devices_is_not_taken_for_a_device(client, operation):
    path = f"/api/devices/{operation}"
    assert set(client.options(path).headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    problem_of(client.get(path), 405)
    problem_of(client.patch(path, json={"name": "x"}), 405)
    refused = problem_of(client.post("/api/devices", json={"id": operation}), 422)
    assert refused["errors"][0]["field"] == "id"
