"""API tokens on a real PostgreSQL: made from a session, the secret shown once, narrowed to
some of the maker's permissions (a device.read token cannot command), revoked by their owner
or by an administrator of the subtree."""

from __future__ import annotations

import psycopg
import pytest

from tests.cloud.api_support import add_device, api_client, problem_of
from tests.cloud.tenancy_support import PASSWORD, bearer, make_account, make_operator, token_for

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def world(database):
    with psycopg.connect(database, autocommit=True) as conn:
        a, b = make_operator(conn, "A"), make_operator(conn, "B")
        add_device(conn, "pack-a", operator_id=a)
        return {
            "alice": make_account(conn, a, "alice@a.test", password=PASSWORD),
            "bert": make_account(conn, b, "bert@b.test", password=PASSWORD),
            "a": a,
        }


@pytest.fixture
def client(database, world):
    with api_client(database, secret=None) as client:
        answer = client.post(
            "/api/auth/sign-in", json={"login": "alice@a.test", "password": PASSWORD}
        )
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {answer.get_json()['token']}"
        yield client


def test_a_token_narrowed_to_device_read_cannot_command(client):
    made = client.post(
        "/api/tokens", json={"name": "map", "password": PASSWORD, "permissions": ["device.read"]}
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    secret = made.get_json()["secret"]
    assert secret.startswith("vrt_") and made.get_json()["permissions"] == ["device.read"]
    token = bearer(secret)
    assert client.get("/api/devices", headers=token).status_code == 200
    command = {"type": "locate", "args": {}}
    refused = client.post("/api/devices/pack-a/commands", json=command, headers=token)
    assert "device.command.basic" in problem_of(refused, 403)["detail"]
    assert client.post("/api/devices/pack-a/commands", json=command).status_code == 201
    listed = client.get("/api/tokens").get_json()
    assert [t["name"] for t in listed] == ["map"] and "secret" not in listed[0]
    assert listed[0]["last_used_at"] is not None


def test_a_token_cannot_hold_more_than_its_maker(client):
    answer = client.post("/api/tokens", json={"name": "x", "permissions": ["platform.broker"]})
    body = problem_of(answer, 422)
    assert body["errors"][0]["field"] == "permissions"
    assert "'platform.broker' is not one of your permissions" in body["detail"]
    past = client.post("/api/tokens", json={"name": "x", "expires_at": "2020-01-01T00:00:00Z"})
    assert problem_of(past, 422)["errors"][0]["field"] == "expires_at"


def test_a_token_cannot_make_tokens(client):
    secret = client.post("/api/tokens", json={"name": "ci", "password": PASSWORD}).get_json()[
        "secret"
    ]
    again = client.post("/api/tokens", json={"name": "child"}, headers=bearer(secret))
    assert problem_of(again, 403)


def test_revoking_a_token_stops_it(client):
    made = client.post("/api/tokens", json={"name": "ci", "password": PASSWORD}).get_json()
    token = bearer(made["secret"])
    assert client.get(f"/api/tokens/{made['id']}").get_json()["name"] == "ci"
    assert client.delete(f"/api/tokens/{made['id']}").status_code == 204
    assert problem_of(client.get("/api/devices", headers=token), 401)
    assert client.get("/api/tokens").get_json() == []
    assert problem_of(client.delete(f"/api/tokens/{made['id']}"), 404)


def test_no_bearer_is_401(database, world):
    with api_client(database, secret=None) as anonymous:
        assert problem_of(anonymous.get("/api/tokens"), 401)
        assert problem_of(anonymous.post("/api/tokens", json={"name": "x"}), 401)


def test_administrators_see_and_revoke_tokens_of_their_subtree_only(database, world, client):
    with psycopg.connect(database, autocommit=True) as conn:
        bert_token = token_for(conn, world["bert"])
    made = client.post("/api/tokens", json={"name": "ci", "password": PASSWORD}).get_json()
    with api_client(database) as root:
        listed = root.get(f"/api/accounts/{world['alice']}/tokens").get_json()
        assert [t["id"] for t in listed] == [made["id"]]
        path = f"/api/accounts/{world['alice']}/tokens/{made['id']}"
        assert root.delete(path).status_code == 204
    assert problem_of(client.get("/api/devices", headers=bearer(made["secret"])), 401)
    # alice (operator A) and bert's account (operator B): siblings
    assert problem_of(client.get(f"/api/accounts/{world['bert']}/tokens"), 404)
    with psycopg.connect(database, autocommit=True) as conn:
        bert_token_id = conn.execute(
            "SELECT id FROM credential WHERE account_id = %s", (world["bert"],)
        ).fetchone()[0]
    assert problem_of(client.delete(f"/api/tokens/{bert_token_id}"), 404)
    assert client.get("/api/devices", headers=bearer(bert_token)).status_code == 200


def test_a_role_without_account_write_cannot_list_others_tokens(database, world):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO role (operator_id, name, permissions) VALUES (%s, 'viewer', %s)",
            (world["a"], ["device.read"]),
        )
        viewer = make_account(conn, world["a"], "viewer@a.test", roles=["viewer"])
        secret = token_for(conn, viewer)
    with api_client(database, secret=secret) as client:
        assert problem_of(client.get(f"/api/accounts/{world['alice']}/tokens"), 403)


def test_a_stolen_session_cannot_make_a_token_that_outlives_it(client):
    # a token would survive the owner ending the stolen session: it takes the password too
    refused = client.post("/api/tokens", json={"name": "mine now"})
    assert problem_of(refused, 422)["errors"][0]["field"] == "password"
    wrong = client.post("/api/tokens", json={"name": "mine now", "password": "not it at all"})
    assert problem_of(wrong, 422)["errors"][0]["field"] == "password"
    assert client.get("/api/tokens").get_json() == []
