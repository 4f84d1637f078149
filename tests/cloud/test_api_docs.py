"""The OpenAPI document, the offline Swagger UI page, and problem details for every error."""

from __future__ import annotations

import re

import psycopg
import pytest
from flask.views import MethodView

from cloud.http.schemas import Blueprint
from cloud.identity.permissions import PERMISSIONS
from tests.cloud.api_support import api_client, offline_api_client, problem_of

ENDPOINTS = {
    "/api/devices": {"get", "post"},
    "/api/devices/import": {"post"},
    "/api/unknown-devices": {"get"},
    "/api/devices/{device_id}": {"get", "patch", "delete"},
    "/api/devices/{device_id}/state": {"get"},
    "/api/devices/{device_id}/bms": {"get"},
    "/api/devices/{device_id}/positions": {"get"},
    "/api/devices/{device_id}/can": {"get"},
    "/api/devices/{device_id}/events": {"get"},
    "/api/fleet/summary": {"get"},
    "/api/devices/{device_id}/commands": {"get", "post"},
    "/api/commands": {"post"},
    "/api/commands/{cmd_id}": {"get"},
    "/api/commands/{cmd_id}/cancel": {"post"},
    "/api/devices/{device_id}/lease": {"get", "put", "delete"},
    "/api/geofences": {"get", "post"},
    "/api/geofences/{geofence_id}": {"get", "patch", "delete"},
    "/api/geofences/{geofence_id}/devices": {"post"},
    "/api/geofences/{geofence_id}/devices/{device_id}": {"delete"},
    "/api/devices/{device_id}/geofences": {"get"},
    "/api/geofence-events": {"get"},
    "/api/alarms": {"get"},
    "/api/alarms/{alarm_id}": {"get"},
    "/api/alarms/{alarm_id}/occurrences": {"get"},
    "/api/alarms/{alarm_id}/resolve": {"post"},
    "/api/alarms/resolve": {"post"},
    "/api/alarms/{alarm_id}/curve": {"get"},
    "/api/alarm-mutes": {"get"},
    "/api/alarm-mutes/{alarm_type}": {"put", "delete"},
    "/api/alarm-types": {"get"},
    "/api/alarm-profiles": {"get"},
    "/api/alarm-profiles/{model}": {"get", "put", "delete"},
    "/api/alarm-profile": {"get", "put", "delete"},
    "/api/webhooks": {"get", "post"},
    "/api/webhooks/{webhook_id}": {"get", "patch", "delete"},
    "/api/webhooks/{webhook_id}/rotate-secret": {"post"},
    "/api/webhooks/{webhook_id}/deliveries": {"get"},
    "/api/webhooks/{webhook_id}/deliveries/{delivery_id}/retry": {"post"},
    "/api/webhooks/{webhook_id}/test": {"post"},
    "/api/broker/authn": {"post"},
    "/api/broker/authz": {"post"},
    "/api/devices/{device_id}/broker-credentials": {"get", "post", "delete"},
    "/api/dead-letters": {"get"},
    "/api/accounts": {"get", "post"},
    "/api/accounts/{account_id}": {"get", "patch"},
    "/api/accounts/{account_id}/revoke-sessions": {"post"},
    "/api/accounts/{account_id}/sessions": {"get"},
    "/api/accounts/{account_id}/sessions/{session_id}": {"delete"},
    "/api/accounts/{account_id}/tokens": {"get"},
    "/api/accounts/{account_id}/tokens/{token_id}": {"delete"},
    "/api/audit": {"get"},
    "/api/auth/me": {"get"},
    "/api/auth/password": {"put"},
    "/api/auth/sessions": {"get"},
    "/api/auth/sessions/{session_id}": {"delete"},
    "/api/auth/sign-in": {"post"},
    "/api/auth/sign-out": {"post"},
    "/api/auth/totp": {"delete"},
    "/api/auth/totp/confirm": {"post"},
    "/api/auth/totp/enrol": {"post"},
    "/api/auth/totp/verify": {"post"},
    "/api/devices/transfer": {"post"},
    "/api/devices/{device_id}/command-key": {"get", "post"},
    "/api/devices/{device_id}/live": {"get"},
    "/api/devices/{device_id}/transfers": {"get"},
    "/api/operators": {"get", "post"},
    "/api/operators/{operator_id}": {"delete", "get", "patch"},
    "/api/permissions": {"get"},
    "/api/roles": {"get", "post"},
    "/api/roles/{role_id}": {"delete", "get", "patch"},
    "/api/stores": {"get", "post"},
    "/api/stores/{store_id}": {"delete", "get", "patch"},
    "/api/tokens": {"get", "post"},
    "/api/tokens/{token_id}": {"delete", "get"},
    "/api/health": {"get"},
    "/api/live/devices": {"get"},
    "/api/live/stream": {"get"},
}
# Who may call what: every other operation needs a bearer and names its rule.
PUBLIC_OPERATIONS = {("/api/health", "get"), ("/api/auth/sign-in", "post")}


@pytest.fixture
def offline():
    with offline_api_client() as client:
        yield client


def test_openapi_document_lists_every_endpoint_with_a_summary(offline):
    response = offline.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert {path: set(ops) - {"parameters"} for path, ops in spec["paths"].items()} == ENDPOINTS
    for path, operations in spec["paths"].items():
        for method in ENDPOINTS[path]:
            assert operations[method].get("summary"), f"{method} {path} has no summary"


def test_every_operation_says_who_may_call_it(offline):
    spec = offline.get("/api/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method in ENDPOINTS[path]:
            operation = operations[method]
            if (path, method) in PUBLIC_OPERATIONS:
                assert "security" not in operation, (method, path)
                continue
            assert operation.get("security") == [{"bearer": []}], (method, path)
            rule = operation.get("x-permission")
            assert rule in PERMISSIONS or rule in ("signed_in", "second_factor"), (method, path)


def test_an_endpoint_nobody_gave_a_rule_is_closed(database):
    """A new endpoint without @requires / @signed_in / @public answers 403 to everyone."""
    with api_client(database, fresh=True) as client:
        blp = Blueprint("unruled", __name__, url_prefix="/api/unruled")

        @blp.route("")
        class Unruled(MethodView):
            def get(self):
                return {"reached": True}

        client.application.register_blueprint(blp)
        assert "no access rule" in problem_of(client.get("/api/unruled"), 403)["detail"]


def test_openapi_documents_arguments_and_problem_responses(offline):
    spec = offline.get("/api/openapi.json").get_json()
    bms = spec["paths"]["/api/devices/{device_id}/bms"]["get"]
    assert {"from", "to", "limit", "bucket"} <= {p["name"] for p in bms["parameters"]}
    listing = spec["paths"]["/api/devices"]["get"]
    assert {"page", "page_size", "kind", "online", "q"} <= {
        p["name"] for p in listing["parameters"]
    }
    errors = spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]
    assert list(errors) == ["application/problem+json"]
    imported = spec["paths"]["/api/devices/import"]["post"]["requestBody"]["content"]
    assert set(imported) == {"text/csv", "multipart/form-data"}


def test_docs_page_and_its_assets_come_from_the_app_itself(offline):
    page = offline.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {a.rsplit("/", 1)[-1] for a in assets} == {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    }
    for asset in assets:
        response = offline.get(f"/api/{asset}")  # relative to /api/docs
        assert response.status_code == 200, asset
        assert response.mimetype in ("text/css", "text/javascript", "application/javascript")
        assert len(response.data) > 10_000
    assert '"/api/openapi.json"' in html
    problem_of(offline.get("/api/docs/assets/../../../etc/passwd"), 404)


def test_unknown_url_and_wrong_method_are_problems(offline):
    problem_of(offline.get("/api/nothing-here"), 404)
    response = offline.delete("/api/devices")
    problem_of(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


@pytest.mark.postgres
def test_payload_too_large_is_a_problem(database):
    with api_client(database) as client:
        response = client.post(
            "/api/devices/import", data=b"x" * (17 * 1024 * 1024), content_type="text/csv"
        )
    problem_of(response, 413)


@pytest.mark.postgres
def test_an_unexpected_failure_is_a_500_problem_that_leaks_nothing(database):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("DROP TABLE unknown_device CASCADE")  # a store that lost a table
    with api_client(database) as client:
        problem = problem_of(client.get("/api/unknown-devices"), 500)
    assert "unknown_device" not in problem["detail"]
    assert "errors" not in problem
