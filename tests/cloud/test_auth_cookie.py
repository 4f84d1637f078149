"""The console's session in a cookie: HttpOnly and SameSite, never in the answer; state
changes need the CSRF header; signing out and a dead session delete the cookies; a bearer
request never looks at cookies."""

from __future__ import annotations

import psycopg
import pytest

from cloud.identity.browser import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from tests.cloud.api_support import api_client, problem_of
from tests.cloud.tenancy_support import PASSWORD, make_account, make_operator

pytestmark = [pytest.mark.postgres]

LOGIN = "carol@a.test"


@pytest.fixture
def client(database):
    with psycopg.connect(database, autocommit=True) as conn:
        make_account(conn, make_operator(conn, "A"), LOGIN, password=PASSWORD)
    with api_client(database, secret=None) as client:
        yield client


def cookie_sign_in(client):
    answer = client.post(
        "/api/auth/sign-in", json={"login": LOGIN, "password": PASSWORD, "cookie": True}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer


def set_cookie_headers(answer) -> dict[str, str]:
    headers = answer.headers.getlist("Set-Cookie")
    return {header.split("=", 1)[0]: header for header in headers}


def test_the_secret_travels_only_in_an_httponly_samesite_cookie(client):
    answer = cookie_sign_in(client)
    assert "token" not in answer.get_json()
    assert answer.get_json()["stage"] == "full"
    cookies = set_cookie_headers(answer)
    assert "HttpOnly" in cookies[SESSION_COOKIE]
    assert "SameSite=Strict" in cookies[SESSION_COOKIE]
    assert "Path=/" in cookies[SESSION_COOKIE]
    assert "HttpOnly" not in cookies[CSRF_COOKIE]  # the console's script reads it
    assert "SameSite=Strict" in cookies[CSRF_COOKIE]
    me = client.get("/api/auth/me")
    assert me.status_code == 200, me.get_data(as_text=True)
    assert me.get_json()["account"]["login"] == LOGIN


def test_a_state_change_by_cookie_needs_the_csrf_header(client):
    cookie_sign_in(client)
    body = {"name": "script", "password": PASSWORD}
    refused = client.post("/api/tokens", json=body)
    assert CSRF_HEADER in problem_of(refused, 403)["detail"]
    wrong = client.post("/api/tokens", json=body, headers={CSRF_HEADER: "not-the-token"})
    assert wrong.status_code == 403
    csrf = client.get_cookie(CSRF_COOKIE).value
    made = client.post("/api/tokens", json=body, headers={CSRF_HEADER: csrf})
    assert made.status_code == 201, made.get_data(as_text=True)


def test_signing_out_deletes_the_cookies_and_ends_the_session(client):
    cookie_sign_in(client)
    session = client.get_cookie(SESSION_COOKIE).value
    csrf = client.get_cookie(CSRF_COOKIE).value
    answer = client.post("/api/auth/sign-out", headers={CSRF_HEADER: csrf})
    assert answer.status_code == 204
    assert client.get_cookie(SESSION_COOKIE) is None
    assert client.get_cookie(CSRF_COOKIE) is None
    client.set_cookie(SESSION_COOKIE, session)  # a copy kept by a thief no longer works
    assert client.get("/api/auth/me").status_code == 401


def test_a_dead_session_cookie_is_deleted_and_does_not_stop_signing_in(client):
    client.set_cookie(SESSION_COOKIE, "vrs_not-a-session")
    answer = client.get("/api/auth/me")
    assert answer.status_code == 401
    assert client.get_cookie(SESSION_COOKIE) is None
    client.set_cookie(SESSION_COOKIE, "vrs_not-a-session")
    cookie_sign_in(client)  # the public sign-in ignores the stale cookie


def test_a_bearer_request_never_uses_the_cookie(client):
    cookie_sign_in(client)
    answer = client.get("/api/auth/me", headers={"Authorization": "Bearer vrs_unknown"})
    assert answer.status_code == 401  # the header is what counts, not the working cookie


def test_a_bearer_sign_in_still_answers_the_token_and_sets_no_cookie(client):
    answer = client.post("/api/auth/sign-in", json={"login": LOGIN, "password": PASSWORD})
    assert answer.get_json()["token"].startswith("vrs_")
    assert not answer.headers.getlist("Set-Cookie")


def test_cookie_must_be_a_boolean(client):
    answer = client.post(
        "/api/auth/sign-in", json={"login": LOGIN, "password": PASSWORD, "cookie": "maybe"}
    )
    assert [e["field"] for e in problem_of(answer, 422)["errors"]] == ["cookie"]
