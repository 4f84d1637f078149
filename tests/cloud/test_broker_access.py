"""Who may ask the broker endpoints (a platform token with platform.broker, as EMQX sends it)
and who may issue a device's MQTT credentials and see its command key."""

from __future__ import annotations

import psycopg
import pytest

from cloud.platform import broker_accounts as accounts
from tests.cloud.api_support import api_client, problem_of
from tests.cloud.tenancy_support import ROOT_LOGIN, WALLS, make_tenancy, token_for

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def tenants(database):
    return make_tenancy(database)


def _broker_token(database: str) -> str:
    """What EMQX is configured with: a platform token narrowed to platform.broker."""
    with psycopg.connect(database, autocommit=True) as conn:
        (account_id,) = conn.execute(
            "SELECT id FROM account WHERE login = %s", (ROOT_LOGIN,)
        ).fetchone()
        return token_for(conn, account_id, permissions=["platform.broker"])


def test_the_broker_endpoints_need_a_platform_token_with_platform_broker(tenants):
    with psycopg.connect(tenants.database) as conn:
        worker = accounts.issue(conn, "_worker", service=True)[0]
        device = accounts.issue(conn, "b-1")[0]
    authn = [{"username": "_worker", "password": worker}, {"username": "b-1", "password": device}]
    authz = {"username": "b-1", "action": "publish", "topic": "vr/v1/b-1/up/telemetry"}
    with tenants.client(None) as client:
        problem_of(client.post("/api/broker/authn", json=authn[0]), 401)
        problem_of(client.post("/api/broker/authz", json=authz), 401)
    with tenants.client("a") as client:  # an operator's administrator is no platform
        refused = problem_of(client.post("/api/broker/authn", json=authn[0]), 403)
        assert "platform.broker" in refused["detail"]
        problem_of(client.post("/api/broker/authz", json=authz), 403)
    with api_client(tenants.database, secret=_broker_token(tenants.database)) as broker:
        for body in authn:  # a service account (no device) and any operator's device
            assert broker.post("/api/broker/authn", json=body).get_json()["result"] == "allow"
        assert broker.post("/api/broker/authz", json=authz).get_json()["result"] == "allow"
        # the narrowed token can do nothing else
        problem_of(broker.get("/api/fleet/summary"), 403)


def test_broker_credentials_need_device_credentials(tenants):
    url = "/api/devices/a-2/broker-credentials"
    with tenants.client(None) as client:
        for answer in (client.get(url), client.post(url), client.delete(url)):
            problem_of(answer, 401)
    with tenants.client("viewer") as client:
        for answer in (client.get(url), client.post(url), client.delete(url)):
            assert "device.credentials" in problem_of(answer, 403)["detail"]
    with tenants.client("a") as client:
        assert client.post(url).status_code == 201
        assert client.get(url).get_json()["active"] is True


@pytest.mark.parametrize("role", WALLS)
def test_broker_credentials_of_a_siblings_device_are_404(tenants, role):
    with psycopg.connect(tenants.database) as conn:
        accounts.issue(conn, "b-1")
    url = "/api/devices/b-1/broker-credentials"
    with tenants.client("a", role=role) as client:
        for answer in (client.get(url), client.post(url), client.delete(url)):
            assert problem_of(answer, 404)["detail"] == "no device 'b-1'"
    with tenants.client("b", role=role) as client:
        assert client.get(url).get_json()["active"] is True


def test_command_keys_need_device_credentials(tenants):
    url = "/api/devices/a-2/command-key"
    with tenants.client(None) as client:
        problem_of(client.get(url), 401)
        problem_of(client.post(url), 401)
    with tenants.client("viewer") as client:
        assert "device.credentials" in problem_of(client.get(url), 403)["detail"]
        problem_of(client.post(url), 403)
    with tenants.client("a") as client:
        problem_of(client.get("/api/devices/b-1/command-key"), 404)
