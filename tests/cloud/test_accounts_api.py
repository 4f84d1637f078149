"""Accounts on a real PostgreSQL: the subtree's only, created with a generated password
(also by `voltrent cloud account create`), roles only within the caller's own permissions,
disabling and revoking end sessions and tokens at once, a reset lifts a lock-out, and
nobody takes over an account stronger than itself."""

from __future__ import annotations

import argparse

import psycopg
import pytest

from cloud.cli import add_parser
from tests.cloud.api_support import api_client, problem_of
from tests.cloud.tenancy_support import (
    PASSWORD,
    PLATFORM,
    bearer,
    client_as,
    make_account,
    make_operator,
    make_role,
    make_store,
    token_for,
)

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def world(database):
    with psycopg.connect(database, autocommit=True) as conn:
        a, b = make_operator(conn, "A"), make_operator(conn, "B")
        store = make_store(conn, a, "A-1")
        viewer = make_role(conn, a, "viewer", ["device.read", "account.read"])
        clerk = make_role(conn, a, "clerk", ["account.read", "account.write", "device.read"])
        return {
            "a": a, "b": b, "store": store, "viewer": viewer, "clerk": clerk,
            "admin_role": conn.execute(
                "SELECT id FROM role WHERE operator_id = %s AND builtin", (a,)
            ).fetchone()[0],
            "alice": make_account(conn, a, "alice@a.test", password=PASSWORD),
            "bert": make_account(conn, b, "bert@b.test", password=PASSWORD),
            "carl": make_account(conn, a, "carl@a.test", roles=["clerk"], password=PASSWORD),
            "sid": make_account(conn, a, "sid@a.test", roles=["viewer"], store_id=store),
        }  # fmt: skip


def sign_in(client, login: str, password: str):
    return client.post("/api/auth/sign-in", json={"login": login, "password": password})


def test_lists_show_the_subtree_only(database, world):
    with client_as(database, world["alice"]) as client:
        logins = [a["login"] for a in client.get("/api/accounts").get_json()]
        assert logins == ["alice@a.test", "carl@a.test", "sid@a.test"]
        assert problem_of(client.get(f"/api/accounts/{world['bert']}"), 404)
        assert problem_of(client.get(f"/api/accounts/{world['bert']}/sessions"), 404)
        found = client.get("/api/accounts", query_string={"q": "CARL"}).get_json()
        assert [a["login"] for a in found] == ["carl@a.test"]
        in_store = client.get("/api/accounts", query_string={"store_id": world["store"]})
        assert [a["login"] for a in in_store.get_json()] == ["sid@a.test"]
    with client_as(database, world["sid"]) as client:  # a store's account: its store only
        assert [a["login"] for a in client.get("/api/accounts").get_json()] == ["sid@a.test"]
    with api_client(database) as root:
        everyone = {a["login"] for a in root.get("/api/accounts").get_json()}
        assert {"alice@a.test", "bert@b.test"} <= everyone


def test_no_bearer_is_401_and_no_permission_is_403(database, world):
    with api_client(database, secret=None) as anonymous:
        assert problem_of(anonymous.get("/api/accounts"), 401)
    with client_as(database, world["sid"]) as viewer:
        assert problem_of(viewer.post("/api/accounts", json={"login": "new@a.test"}), 403)
        assert problem_of(viewer.post(f"/api/accounts/{world['alice']}/revoke-sessions"), 403)


def test_create_with_a_generated_password_that_signs_in(database, world):
    body = {"login": "Dora@A.test", "name": "Dora", "role_ids": [world["viewer"]]}
    with client_as(database, world["alice"]) as client:
        made = client.post("/api/accounts", json=body)
        assert made.status_code == 201, made.get_data(as_text=True)
        created = made.get_json()
        assert created["login"] == "dora@a.test" and created["operator_id"] == world["a"]
        assert created["roles"] == [{"id": world["viewer"], "name": "viewer"}]
        assert problem_of(client.post("/api/accounts", json=body), 409)
        password = created["password"]
        assert client.get(f"/api/accounts/{created['id']}").get_json().get("password") is None
        assert sign_in(client, "dora@a.test", password).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"login": "ed@a.test", "password": "short"}, "password"),
        ({"login": "ed@a.test", "password": "ed@a.test is me!"}, "password"),
        ({"login": "x"}, "login"),
        ({"login": "ed@a.test", "operator_id": "b"}, "operator_id"),
        ({"login": "ed@a.test", "store_id": 999}, "store_id"),
        ({"login": "ed@a.test", "role_ids": [999]}, "role_ids"),
    ],
)
def test_create_refuses_bad_input_naming_the_field(database, world, body, field):
    if body.get("operator_id") == "b":
        body = {**body, "operator_id": world["b"]}  # a sibling: not in the subtree
    with client_as(database, world["alice"]) as client:
        answer = client.post("/api/accounts", json=body)
        assert problem_of(answer, 422)["errors"][0]["field"] == field


def test_roles_beyond_the_caller_cannot_be_granted(database, world):
    with client_as(database, world["carl"]) as clerk:
        body = {"login": "eve@a.test", "role_ids": [world["admin_role"]]}
        answer = clerk.post("/api/accounts", json=body)
        assert "grants what you may not do" in problem_of(answer, 422)["detail"]
        ok = clerk.post("/api/accounts", json={**body, "role_ids": [world["viewer"]]})
        assert ok.status_code == 201
        own = clerk.patch(f"/api/accounts/{world['carl']}", json={"role_ids": [world["viewer"]]})
        assert problem_of(own, 422)["errors"][0]["field"] == "role_ids"
        # alice (administrator) may do more than carl: carl cannot take her account over
        reset = clerk.patch(f"/api/accounts/{world['alice']}", json={"reset_password": True})
        assert problem_of(reset, 403)
        assert problem_of(clerk.post(f"/api/accounts/{world['alice']}/revoke-sessions"), 403)


def test_disabling_ends_sessions_and_tokens_and_enabling_allows_sign_in(database, world):
    with psycopg.connect(database, autocommit=True) as conn:
        carl_token = token_for(conn, world["carl"])
    with client_as(database, world["alice"]) as admin:
        session = sign_in(admin, "carl@a.test", PASSWORD).get_json()["token"]
        answer = admin.patch(f"/api/accounts/{world['carl']}", json={"disabled": True})
        assert answer.status_code == 200 and answer.get_json()["disabled"] is True
        for secret in (session, carl_token):
            assert problem_of(admin.get("/api/auth/me", headers=bearer(secret)), 401)
        refused = sign_in(admin, "carl@a.test", PASSWORD)
        assert problem_of(refused, 401)["detail"] == "login or password is wrong"
        admin.patch(f"/api/accounts/{world['carl']}", json={"disabled": False})
        assert sign_in(admin, "carl@a.test", PASSWORD).status_code == 200


def test_reset_password_gives_a_new_one_and_lifts_a_lock(database, world):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            "UPDATE account SET locked_until = now() + interval '15 min', failed_sign_ins = 10"
            " WHERE id = %s",
            (world["carl"],),
        )
        conn.execute(
            "INSERT INTO sign_in_failure VALUES ('login:carl@a.test', 10, now(), now(),"
            " now() + interval '15 min')"
        )
    with client_as(database, world["alice"]) as admin:
        assert sign_in(admin, "carl@a.test", PASSWORD).status_code == 423
        answer = admin.patch(f"/api/accounts/{world['carl']}", json={"reset_password": True})
        assert answer.status_code == 200
        new = answer.get_json()["password"]
        assert answer.get_json()["locked_until"] is None
        assert sign_in(admin, "carl@a.test", PASSWORD).status_code == 401
        assert sign_in(admin, "carl@a.test", new).status_code == 200


def test_revoking_one_session_of_an_account(database, world):
    with client_as(database, world["alice"]) as admin:
        token = sign_in(admin, "carl@a.test", PASSWORD).get_json()["token"]
        [listed] = admin.get(f"/api/accounts/{world['carl']}/sessions").get_json()
        path = f"/api/accounts/{world['carl']}/sessions/{listed['id']}"
        assert admin.delete(path).status_code == 204
        assert problem_of(admin.get("/api/auth/me", headers=bearer(token)), 401)
        assert problem_of(admin.delete(path), 404)


def test_cli_makes_the_first_administrator(database, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database)
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["cloud", "account", "create", "First@Platform.test"])
    assert args.handler(args) == 0
    printed = capsys.readouterr().out
    password = next(line for line in printed.splitlines() if line.startswith("password: "))
    with api_client(database, secret=None) as client:
        answer = sign_in(client, "first@platform.test", password.removeprefix("password: "))
        assert answer.status_code == 200
        who = client.get("/api/auth/me", headers=bearer(answer.get_json()["token"])).get_json()
        assert who["operator"]["id"] == PLATFORM and "platform.broker" in who["permissions"]
    assert args.handler(args) == 1  # the login is taken
    assert "taken" in capsys.readouterr().err
    args = parser.parse_args(["cloud", "account", "create", "x2@p.test", "--role", "nope"])
    assert args.handler(args) == 1


def test_changed_roles_bind_existing_sessions_and_tokens_at_once(database, world):
    with psycopg.connect(database, autocommit=True) as conn:
        carl_token = token_for(conn, world["carl"])
    body = {"login": "eve@a.test", "role_ids": [world["viewer"]]}
    with client_as(database, world["alice"]) as admin:
        session = sign_in(admin, "carl@a.test", PASSWORD).get_json()["token"]
        answer = admin.patch(f"/api/accounts/{world['carl']}", json={"role_ids": [world["viewer"]]})
        assert answer.status_code == 200
        for secret in (session, carl_token):
            refused = admin.post("/api/accounts", json=body, headers=bearer(secret))
            assert "account.write" in problem_of(refused, 403)["detail"]
