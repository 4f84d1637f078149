"""Replacing a TOTP second factor on a real PostgreSQL: enrolling needs the password or a
code of the factor in force, and that factor keeps working (at sign-in too) until a code of
the new one confirms it, so a stolen session cannot take the factor off or swap it."""

from __future__ import annotations

import psycopg
import pytest

from cloud.store import migrate as migrate_module
from tests.cloud.api_support import api_client, problem_of
from tests.cloud.auth_support import (
    audit_details,
    code,
    enrol,
    make,
    post,
    sign_in,
    signed_in,
    start_enrolment,
)
from tests.cloud.tenancy_support import bearer
from tests.cloud.worker_support import migrate_before

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def client(database):
    make(database)
    with api_client(database, secret=None) as client:
        yield client


def field_of(answer) -> str:
    return problem_of(answer, 422)["errors"][0]["field"]


def test_enrolling_needs_the_password_or_a_code_of_the_factor_in_force(client):
    token = signed_in(client)["token"]
    assert field_of(post(client, token, "totp/enrol")) == "password"  # a stolen session
    old, _ = enrol(client, token)
    assert field_of(post(client, token, "totp/enrol")) == "password"
    assert field_of(post(client, token, "totp/enrol", {"password": "not it at all"})) == "password"
    assert field_of(post(client, token, "totp/enrol", {"code": "000000"})) == "code"
    # nothing was replaced or turned off: signing in still owes a code of the old factor
    assert signed_in(client)["stage"] == "totp"
    ahead = code(old, 1)
    start_enrolment(client, token, {"code": ahead})
    assert "used already" in problem_of(sign_in(client, totp=ahead), 401)["detail"]


def test_the_old_factor_works_until_the_new_one_is_confirmed(database, client):
    token = signed_in(client)["token"]
    old, _ = enrol(client, token)
    new = start_enrolment(client, token)
    assert problem_of(sign_in(client, totp=code(new, 1)), 401)  # not in force yet
    assert signed_in(client, totp=code(old, 1))["stage"] == "full"
    me = client.get("/api/auth/me", headers=bearer(token)).get_json()["account"]
    assert me["totp_enabled"] is True and me["totp_pending"] is True
    owing = signed_in(client)["token"]
    assert post(client, owing, "totp/verify", {"code": code(new, -1)}).status_code == 422
    wrong = post(client, token, "totp/confirm", {"code": code(old, -1)})
    assert field_of(wrong) == "code"
    confirmed = post(client, token, "totp/confirm", {"code": code(new)})
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
    assert confirmed.get_json()["account"]["totp_pending"] is False
    again = post(client, token, "totp/confirm", {"code": code(new, 1)})
    assert "enrol first" in problem_of(again, 409)["detail"]
    assert problem_of(sign_in(client, totp=code(old, 1)), 401)  # replaced
    assert signed_in(client, totp=code(new, 1))["stage"] == "full"
    enrolled = audit_details(database, "POST /api/auth/totp/enrol")
    assert enrolled[-2:] == [(200, {"totp": "enrol", "replacing": False}),
                             (200, {"totp": "enrol", "replacing": True})]  # fmt: skip
    confirms = audit_details(database, "POST /api/auth/totp/confirm")
    assert confirms[0] == (200, {"totp": "confirm", "replaced": False})
    assert confirms[1][0] == 422 and confirms[1][1]["failed"] == "wrong TOTP code"
    assert confirms[2] == (200, {"totp": "confirm", "replaced": True})


def test_a_secret_enrolled_but_never_confirmed_before_0015_becomes_a_pending_one(
    empty_database, monkeypatch
):
    migrate_before(empty_database, 15, monkeypatch)
    with psycopg.connect(empty_database, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO account (operator_id, login, totp_secret, totp_enabled, totp_last_step)
            VALUES (1, 'half@a.test', 'AAAA', false, 7), (1, 'done@a.test', 'BBBB', true, 9)
            """
        )
    assert "0015_totp_pending" in migrate_module.migrate(empty_database).applied
    with psycopg.connect(empty_database) as conn:
        rows = conn.execute(
            "SELECT login, totp_secret, totp_pending_secret, totp_enabled, totp_last_step"
            " FROM account ORDER BY login"
        ).fetchall()
    assert rows == [
        ("done@a.test", "BBBB", None, True, 9),
        ("half@a.test", None, "AAAA", False, None),
    ]
