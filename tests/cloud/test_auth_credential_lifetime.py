"""How long a credential keeps its power, on a real PostgreSQL: changing or resetting the
password and resetting or turning off the second factor end the account's sessions and API
tokens (the caller's own session survives its own change)."""

from __future__ import annotations

import psycopg
import pytest

from tests.cloud.api_support import api_client, problem_of
from tests.cloud.auth_support import (
    audit_details,
    code,
    enrol,
    make,
    signed_in,
)
from tests.cloud.tenancy_support import (
    PASSWORD,
    bearer,
    client_as,
    make_account,
    token_for,
)

pytestmark = [pytest.mark.postgres]

NEW = "a much better passphrase"


@pytest.fixture
def world(database):
    operator_id, account_id = make(database)
    with psycopg.connect(database, autocommit=True) as conn:
        return {
            "a": operator_id,
            "bob": account_id,
            "admin": make_account(conn, operator_id, "admin@a.test"),
            "tokens": [token_for(conn, account_id), token_for(conn, account_id)],
        }


@pytest.fixture
def client(database, world):
    with api_client(database, secret=None) as client:
        yield client


def status_of(client, secret: str) -> int:
    return client.get("/api/devices", headers=bearer(secret)).status_code


def test_changing_the_password_ends_every_other_session_and_every_token(database, world, client):
    here, there = signed_in(client)["token"], signed_in(client)["token"]
    change = {"current": PASSWORD, "new": NEW}
    answer = client.put("/api/auth/password", json=change, headers=bearer(here))
    assert [status_of(client, s) for s in (there, *world["tokens"])] == [401, 401, 401]
    assert status_of(client, here) == 200
    assert answer.status_code == 200 and answer.get_json() == {"revoked": 3}
    assert audit_details(database, "PUT /api/auth/password") == [(200, {"revoked": 3})]


def test_a_token_cannot_change_the_password(client, world):
    change = {"current": PASSWORD, "new": NEW}
    answer = client.put("/api/auth/password", json=change, headers=bearer(world["tokens"][0]))
    assert "signed-in session" in problem_of(answer, 403)["detail"]
    assert signed_in(client, password=PASSWORD)


@pytest.mark.parametrize("change", [{"reset_password": True}, {"reset_totp": True}])
def test_an_administrators_reset_ends_every_session_and_token(database, world, client, change):
    session = signed_in(client)["token"]
    with client_as(database, world["admin"]) as admin:
        answer = admin.patch(f"/api/accounts/{world['bob']}", json=change)
    assert [status_of(client, s) for s in (session, *world["tokens"])] == [401, 401, 401]
    assert answer.status_code == 200 and answer.get_json()["revoked"] == 3
    [(status, detail)] = audit_details(database, "PATCH /api/accounts/<int:account_id>")
    assert status == 200 and detail["revoked"] == 3


def test_turning_the_factor_off_ends_every_other_session_and_every_token(world, client):
    here = signed_in(client)["token"]
    secret, _ = enrol(client, here)
    there = signed_in(client, totp=code(secret, 1))["token"]
    off = client.delete("/api/auth/totp", json={"password": PASSWORD}, headers=bearer(here))
    assert [status_of(client, s) for s in (there, *world["tokens"])] == [401, 401, 401]
    assert status_of(client, here) == 200
    assert off.status_code == 200 and off.get_json() == {"revoked": 3}
    by_token = client.delete(
        "/api/auth/totp", json={"password": PASSWORD}, headers=bearer(token_of(client))
    )
    assert "signed-in session" in problem_of(by_token, 403)["detail"]


def token_of(client) -> str:
    """A new API token of LOGIN, made from a new session."""
    session = bearer(signed_in(client)["token"])
    return client.post(
        "/api/tokens", json={"name": "ci", "password": PASSWORD}, headers=session
    ).get_json()["secret"]
