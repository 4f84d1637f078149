"""The TOTP second factor on a real PostgreSQL, with codes pyotp makes as an authenticator
app would: enrolment and confirmation, a session owing its code can do nothing else, a code
works once, wrong codes are slowed down, and an operator can require the second factor."""

from __future__ import annotations

import psycopg
import pytest

from cloud.identity import throttle
from tests.cloud.api_support import api_client, problem_of
from tests.cloud.auth_support import (
    LOGIN,
    code,
    enrol,
    give_factor,
    make,
    post,
    sign_in,
    signed_in,
)
from tests.cloud.tenancy_support import PASSWORD, bearer, make_account, token_for

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def client(database):
    make(database)
    with api_client(database, secret=None) as client:
        yield client


def test_enrolled_account_owes_a_code_and_can_do_nothing_else_until_it_gives_it(client):
    secret, used = enrol(client, signed_in(client)["token"])
    pending = signed_in(client)
    assert pending["stage"] == "totp"
    token = pending["token"]
    assert (
        "first confirm"
        in problem_of(client.get("/api/devices", headers=bearer(token)), 403)["detail"]
    )
    assert problem_of(client.get("/api/auth/sessions", headers=bearer(token)), 403)
    assert problem_of(post(client, token, "totp/enrol"), 403)  # the password alone cannot
    who = client.get("/api/auth/me", headers=bearer(token)).get_json()
    assert who["stage"] == "totp" and who["permissions"] == []
    wrong = post(client, token, "totp/verify", {"code": "000000"})
    assert problem_of(wrong, 422)["errors"][0]["field"] == "code"
    # the code that confirmed the enrolment is used already
    assert problem_of(post(client, token, "totp/verify", {"code": used}), 422)
    ahead = code(secret, 1)
    verified = post(client, token, "totp/verify", {"code": ahead})
    assert verified.status_code == 200 and verified.get_json()["stage"] == "full"
    assert client.get("/api/devices", headers=bearer(token)).status_code == 200
    assert problem_of(post(client, token, "totp/verify", {"code": ahead}), 409)


def test_a_code_with_the_password_signs_in_once(client):
    secret, used = enrol(client, signed_in(client)["token"])
    ahead = code(secret, 1)
    assert signed_in(client, totp=ahead)["stage"] == "full"
    reused = sign_in(client, totp=ahead)
    assert "used already" in problem_of(reused, 401)["detail"]
    assert problem_of(sign_in(client, totp=used), 401)  # an earlier step: refused


def test_wrong_codes_count_as_failed_sign_ins(client):
    secret, _ = enrol(client, signed_in(client)["token"])
    token = signed_in(client)["token"]
    for _ in range(throttle.FREE_FAILURES):
        assert post(client, token, "totp/verify", {"code": "123456"}).status_code == 422
    slowed = post(client, token, "totp/verify", {"code": code(secret, 1)})
    assert problem_of(slowed, 429) and slowed.headers["Retry-After"]
    assert problem_of(sign_in(client, totp=code(secret, 1)), 429)


def test_turning_totp_off_needs_the_password(client):
    token = signed_in(client)["token"]
    enrol(client, token)
    wrong = client.delete("/api/auth/totp", json={"password": "nope"}, headers=bearer(token))
    assert problem_of(wrong, 422)["errors"][0]["field"] == "password"
    answer = client.delete("/api/auth/totp", json={"password": PASSWORD}, headers=bearer(token))
    assert answer.status_code == 200
    assert signed_in(client)["stage"] == "full"


def test_an_operator_requiring_mfa_makes_its_accounts_enrol(database):
    make(database, mfa_required=True)
    with api_client(database, secret=None) as client:
        first = signed_in(client)
        assert first["stage"] == "totp_enrol"
        token = first["token"]
        assert problem_of(client.get("/api/devices", headers=bearer(token)), 403)
        assert problem_of(post(client, token, "totp/verify", {"code": "123456"}), 409)
        assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
        secret, _ = enrol(client, token)  # confirming makes the session full
        assert client.get("/api/devices", headers=bearer(token)).status_code == 200
        assert signed_in(client)["stage"] == "totp"
        assert signed_in(client, totp=code(secret, 1))["stage"] == "full"
        off = client.delete("/api/auth/totp", json={"password": PASSWORD}, headers=bearer(token))
        assert "requires" in problem_of(off, 409)["detail"]


def test_a_token_cannot_enrol_or_sign_out(database, client):
    with psycopg.connect(database, autocommit=True) as conn:
        account_id = conn.execute("SELECT id FROM account WHERE login = %s", (LOGIN,)).fetchone()
        token = token_for(conn, account_id[0])
    assert problem_of(post(client, token, "totp/enrol"), 403)
    assert problem_of(post(client, token, "sign-out"), 409)


@pytest.mark.parametrize("mfa_required", [False, True])
def test_an_administrator_resets_a_lost_second_factor(database, mfa_required):
    make(database, mfa_required=mfa_required)
    with psycopg.connect(database, autocommit=True) as conn:
        operator_id, account_id = conn.execute(
            "SELECT operator_id, id FROM account WHERE login = %s", (LOGIN,)
        ).fetchone()
        admin_id = make_account(conn, operator_id, "admin@a.test")
        give_factor(conn, admin_id)  # else its operator's rule would stop its token
        admin = token_for(conn, admin_id)
    with api_client(database, secret=None) as client:
        token = signed_in(client)["token"]  # owing enrolment when it is required
        enrol(client, token)
        assert signed_in(client)["stage"] == "totp"  # the phone is needed from now on
        # the phone is lost: the account cannot turn the factor off itself
        with api_client(database, secret=admin) as as_admin:
            mine = as_admin.patch(f"/api/accounts/{account_id}", json={"reset_totp": True})
            assert mine.status_code == 200, mine.get_data(as_text=True)
            assert mine.get_json()["totp_enabled"] is False
        assert problem_of(client.get("/api/auth/me", headers=bearer(token)), 401)
        after = signed_in(client)["stage"]
        assert after == ("totp_enrol" if mfa_required else "full")
    with psycopg.connect(database) as conn:
        assert conn.execute(
            "SELECT detail->>'reset_totp' FROM audit_log WHERE action LIKE 'PATCH %%'"
        ).fetchall() == [("true",)]


def test_nobody_resets_their_own_second_factor_past_the_password(database, client):
    with psycopg.connect(database, autocommit=True) as conn:
        account_id = conn.execute("SELECT id FROM account WHERE login = %s", (LOGIN,)).fetchone()
        token = token_for(conn, account_id[0])
    with api_client(database, secret=token) as own:
        refused = own.patch(f"/api/accounts/{account_id[0]}", json={"reset_totp": True})
        assert "not on your own account" in str(problem_of(refused, 422))
