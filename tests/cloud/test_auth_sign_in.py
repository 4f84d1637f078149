"""Signing in on a real PostgreSQL: passwords (argon2id, rehashed when the parameters
change), one 401 for every kind of failure, brute force slowed down and locked out per login
and per address, sessions that expire, end when idle and can be revoked, password changes."""

from __future__ import annotations

import psycopg
import pytest
from argon2 import PasswordHasher

from cloud.app import create_app
from cloud.config import CloudConfig
from cloud.http.db import database as app_database
from cloud.identity import throttle
from tests.cloud.api_support import api_client, problem_of
from tests.cloud.tenancy_support import PASSWORD, bearer, make_account, make_operator

pytestmark = [pytest.mark.postgres]

LOGIN = "alice@a.test"
WRONG = "login or password is wrong"


@pytest.fixture
def account(database):
    with psycopg.connect(database, autocommit=True) as conn:
        operator_id = make_operator(conn, "A")
        return make_account(conn, operator_id, LOGIN, password=PASSWORD)


@pytest.fixture
def client(database, account):
    with api_client(database, secret=None) as client:
        yield client


def sql(database: str, query: str, *params):
    with psycopg.connect(database, autocommit=True) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else None


def sign_in(client, login=LOGIN, password=PASSWORD, **more):
    return client.post("/api/auth/sign-in", json={"login": login, "password": password, **more})


def session(client, login=LOGIN, password=PASSWORD) -> str:
    answer = sign_in(client, login, password)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["token"]


def me(client, token: str):
    return client.get("/api/auth/me", headers=bearer(token))


def test_sign_in_gives_a_full_session_that_answers_me(client, account):
    answer = sign_in(client, login="  Alice@A.test ")  # logins are compared in lower case
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["token"].startswith("vrs_") and body["stage"] == "full"
    assert body["account"]["id"] == account and body["expires_at"].endswith("Z")
    who = me(client, body["token"])
    assert who.status_code == 200
    assert who.get_json()["account"]["login"] == LOGIN
    assert who.get_json()["operator"]["name"] == "A"
    assert "device.read" in who.get_json()["permissions"]
    assert client.get("/api/devices", headers=bearer(body["token"])).status_code == 200


def test_wrong_password_unknown_login_and_disabled_account_look_the_same(database, client):
    sql(database, "INSERT INTO account (operator_id, login) VALUES (1, 'nopassword')")
    answers = [sign_in(client, password="wrong password!"), sign_in(client, login="nobody"),
               sign_in(client, login="nopassword")]  # fmt: skip
    sql(database, "UPDATE account SET disabled_at = now() WHERE login = %s", LOGIN)
    sql(database, "DELETE FROM sign_in_failure")  # not slowed down: the answer is the point
    answers.append(sign_in(client))
    for answer in answers:
        assert problem_of(answer, 401)["detail"] == WRONG
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert me(client, "vrs_made-up").status_code == 401


def test_failed_sign_in_is_audited_with_the_login_tried(database, client):
    sign_in(client, password="not the password")
    rows = sql(database, "SELECT actor, via, status, detail->>'failed' FROM audit_log")
    assert rows == [(LOGIN, "anonymous", 401, "wrong password")]


def test_an_old_hash_is_upgraded_on_sign_in(database, client):
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    sql(database, "UPDATE account SET password_hash = %s WHERE login = %s", weak, LOGIN)
    session(client)
    [(stored,)] = sql(database, "SELECT password_hash FROM account WHERE login = %s", LOGIN)
    assert stored != weak and not PasswordHasher().check_needs_rehash(stored)
    assert PasswordHasher().verify(stored, PASSWORD)


def forget_the_wait(database: str) -> None:
    """As if the backoff had passed (the lock is another matter)."""
    sql(database, "UPDATE sign_in_failure SET last_at = now() - interval '1 hour'")


def the_wait_begins_now(database: str) -> None:
    """As if the last failure had happened just now: its backoff is seconds long and
    counts from the failing request's transaction, which a loaded machine's argon2 can
    make last longer than that."""
    sql(database, "UPDATE sign_in_failure SET last_at = now()")


@pytest.mark.parametrize("login", [LOGIN, "nobody@a.test"])
def test_brute_force_is_slowed_then_locked_whether_the_login_exists_or_not(database, client, login):
    for _ in range(throttle.FREE_FAILURES):
        assert sign_in(client, login, "guess guess guess").status_code == 401
    the_wait_begins_now(database)
    slowed = sign_in(client, login, PASSWORD)  # even the right password is not checked
    assert problem_of(slowed, 429)["detail"].startswith("3 failed sign-ins")
    assert slowed.headers["Retry-After"] == "1"
    for n in range(throttle.FREE_FAILURES, throttle.LOCK_AFTER):
        forget_the_wait(database)
        assert sign_in(client, login, "guess guess guess").status_code == 401
        if n + 1 < throttle.LOCK_AFTER:
            the_wait_begins_now(database)
            assert int(sign_in(client, login, "x").headers["Retry-After"]) == 2 ** (n - 2)
    forget_the_wait(database)
    locked = sign_in(client, login, PASSWORD)
    assert "locked until" in problem_of(locked, 423)["detail"]
    assert 14 * 60 < int(locked.headers["Retry-After"]) <= throttle.LOCK_S


def test_the_lock_ends_and_a_success_clears_the_count(database, client, account):
    for _ in range(throttle.LOCK_AFTER):
        forget_the_wait(database)
        sign_in(client, password="guess guess guess")
    [(locked_until, failures)] = sql(
        database, "SELECT locked_until, failed_sign_ins FROM account WHERE id = %s", account
    )
    assert locked_until is not None and failures == throttle.LOCK_AFTER
    assert sign_in(client).status_code == 423
    sql(database, "UPDATE account SET locked_until = now() - interval '1 s' WHERE id = %s", account)
    assert sign_in(client).status_code == 200
    assert sql(database, "SELECT * FROM sign_in_failure WHERE key LIKE 'login:%%'") == []
    assert sql(database, "SELECT failed_sign_ins, locked_until FROM account WHERE id = %s",
               account) == [(0, None)]  # fmt: skip


@pytest.mark.slow
def test_many_failures_from_one_address_block_it_for_every_login(database, client):
    for n in range(throttle.ADDRESS_MAX_FAILURES):
        assert sign_in(client, f"guess{n}@a.test", "guess guess guess").status_code == 401
    blocked = sign_in(client)
    assert "from this address" in problem_of(blocked, 429)["detail"]
    assert int(blocked.headers["Retry-After"]) > 9 * 60
    other = {"REMOTE_ADDR": "192.0.2.7"}
    assert sign_in_from(client, other).status_code == 200


def sign_in_from(client, environ):
    return client.post(
        "/api/auth/sign-in", json={"login": LOGIN, "password": PASSWORD}, environ_base=environ
    )


EXPIRED = [
    "UPDATE credential SET expires_at = now() - interval '1 s'",
    "UPDATE credential SET last_used_at = now() - interval '3 hours'",  # idle (120 min)
]


@pytest.mark.parametrize("expire", EXPIRED)
def test_sessions_expire(database, client, expire):
    token = session(client)
    assert me(client, token).status_code == 200
    sql(database, expire)
    assert problem_of(me(client, token), 401)


@pytest.mark.parametrize("expire", EXPIRED)
def test_a_session_that_stopped_working_is_not_listed(database, client, expire):
    """The list of sessions and the check of every request apply one rule."""
    old = session(client)
    sql(database, expire)
    new = session(client)
    listed = client.get("/api/auth/sessions", headers=bearer(new)).get_json()
    assert [s["current"] for s in listed] == [True]
    assert problem_of(me(client, old), 401)


def test_a_stolen_session_can_be_revoked_by_its_owner(client):
    mine, stolen = session(client), session(client)
    listed = client.get("/api/auth/sessions", headers=bearer(mine)).get_json()
    assert len(listed) == 2 and [s["current"] for s in listed] == [True, False]
    stolen_id = listed[1]["id"]
    answer = client.delete(f"/api/auth/sessions/{stolen_id}", headers=bearer(mine))
    assert answer.status_code == 204
    assert problem_of(me(client, stolen), 401)
    assert me(client, mine).status_code == 200
    again = client.delete(f"/api/auth/sessions/{stolen_id}", headers=bearer(mine))
    assert problem_of(again, 404)


def test_a_stolen_session_can_be_revoked_by_an_administrator(database, client, account):
    stolen = session(client)
    with api_client(database) as admin:  # the platform's administrator
        assert len(admin.get(f"/api/accounts/{account}/sessions").get_json()) == 1
        answer = admin.post(f"/api/accounts/{account}/revoke-sessions")
        assert answer.status_code == 200 and answer.get_json() == {"revoked": 1}
    assert problem_of(me(client, stolen), 401)
    assert session(client)  # the account itself can sign in again


def test_sign_out_ends_the_session(client):
    token = session(client)
    assert client.post("/api/auth/sign-out", headers=bearer(token)).status_code == 204
    assert problem_of(me(client, token), 401)


def test_no_bearer_is_401(client):
    answers = [
        client.get("/api/auth/me"),
        client.get("/api/auth/sessions"),
        client.post("/api/auth/sign-out"),
        client.put("/api/auth/password", json={}),
    ]
    for answer in answers:
        assert problem_of(answer, 401)


def test_changing_the_password_revokes_the_other_sessions(client):
    here, there = session(client), session(client)
    new = "a much better passphrase"
    change = {"current": "not it at all", "new": new}
    wrong = client.put("/api/auth/password", json=change, headers=bearer(here))
    assert problem_of(wrong, 422)["errors"][0]["field"] == "current"
    for weak in ("short", "password1234", f"my {LOGIN} password"):
        change = {"current": PASSWORD, "new": weak}
        answer = client.put("/api/auth/password", json=change, headers=bearer(here))
        assert problem_of(answer, 422)["errors"][0]["field"] == "new"
    change = {"current": PASSWORD, "new": new}
    assert client.put("/api/auth/password", json=change, headers=bearer(here)).status_code == 200
    assert me(client, here).status_code == 200
    assert problem_of(me(client, there), 401)
    assert sign_in(client).status_code == 401
    assert sign_in(client, password=new).status_code == 200


def proxied(client, forwarded_for: str, login: str = LOGIN, password: str = PASSWORD):
    """A sign-in through a reverse proxy on 127.0.0.1 for a client at ``forwarded_for``."""
    return client.post(
        "/api/auth/sign-in",
        json={"login": login, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )


def guess_from(client, address: str, n: int):
    answer = proxied(client, address, f"guess{n}@a.test", "guess guess guess")
    assert answer.status_code == 401, answer.get_data(as_text=True)


@pytest.fixture
def behind_a_proxy(database, account):
    app = create_app(CloudConfig(database_url=database, trusted_proxies=1))
    try:
        yield app.test_client()
    finally:
        app_database(app).close()


@pytest.mark.slow
def test_behind_a_trusted_proxy_the_forwarded_address_is_throttled_and_audited(
    database, behind_a_proxy
):
    attacker, colleague = "198.51.100.9", "198.51.100.20"
    for n in range(throttle.ADDRESS_MAX_FAILURES):
        guess_from(behind_a_proxy, attacker, n)
    assert "from this address" in problem_of(proxied(behind_a_proxy, attacker), 429)["detail"]
    # the proxy's own address is not blocked: everyone else behind it still signs in
    assert proxied(behind_a_proxy, colleague).status_code == 200
    assert {row[0] for row in sql(database, "SELECT ip FROM audit_log")} == {attacker, colleague}
    # what the client itself writes in front is not believed: the proxy's entry counts
    answer = proxied(behind_a_proxy, f"{colleague}, {attacker}")
    assert "from this address" in problem_of(answer, 429)["detail"]


@pytest.mark.slow
def test_without_trusted_proxies_x_forwarded_for_is_ignored(database, client):
    for n in range(throttle.ADDRESS_MAX_FAILURES):
        guess_from(client, f"203.0.113.{n}", n)  # a client rotating the header to dodge
    answer = proxied(client, "203.0.113.99")
    assert "from this address" in problem_of(answer, 429)["detail"]
    assert {row[0] for row in sql(database, "SELECT ip FROM audit_log")} == {"127.0.0.1"}
