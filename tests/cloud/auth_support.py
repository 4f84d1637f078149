"""Helpers for tests of signing in and the second factor (no tests here): an operator with
one account that has a password, sign-ins, TOTP codes made with pyotp as an authenticator
app would, enrolment, and the audit rows of a request."""

from __future__ import annotations

import time

import psycopg
import pyotp

from tests.cloud.tenancy_support import PASSWORD, bearer, make_account, make_operator

LOGIN = "bob@a.test"


def make(database: str, *, mfa_required: bool = False) -> tuple[int, int]:
    """Operator A and its account LOGIN (with PASSWORD): (operator id, account id)."""
    with psycopg.connect(database, autocommit=True) as conn:
        operator_id = make_operator(conn, "A", mfa_required=mfa_required)
        return operator_id, make_account(conn, operator_id, LOGIN, password=PASSWORD)


def give_factor(conn: psycopg.Connection, account_id: int) -> str:
    """Give ``account_id`` a confirmed second factor (as an operator requiring one wants);
    returns its secret."""
    secret = pyotp.random_base32()
    conn.execute(
        "UPDATE account SET totp_secret = %s, totp_enabled = true WHERE id = %s",
        (secret, account_id),
    )
    return secret


def sign_in(client, **more):
    return client.post("/api/auth/sign-in", json={"login": LOGIN, "password": PASSWORD, **more})


def signed_in(client, **more) -> dict:
    """The answer of a successful sign-in of LOGIN."""
    answer = sign_in(client, **more)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()


def post(client, token: str, path: str, body: dict | None = None):
    return client.post(f"/api/auth/{path}", json=body or {}, headers=bearer(token))


def code(secret: str, steps_ahead: int = 0) -> str:
    """The code of the current step, or of one ahead (still inside the window)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def start_enrolment(client, token: str, proof: dict | None = None) -> str:
    """POST /totp/enrol (with the password unless ``proof`` is given); the new secret."""
    answer = post(client, token, "totp/enrol", {"password": PASSWORD} if proof is None else proof)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["otpauth_uri"].startswith("otpauth://totp/VoltRent:bob%40a.test?")
    assert "issuer=VoltRent" in body["otpauth_uri"] and body["secret"] in body["otpauth_uri"]
    return body["secret"]


def enrol(client, token: str, proof: dict | None = None) -> tuple[str, str]:
    """Enrol and confirm; returns the secret and the code the confirmation used."""
    secret = start_enrolment(client, token, proof)
    used = code(secret)
    confirmed = post(client, token, "totp/confirm", {"code": used})
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
    assert confirmed.get_json()["stage"] == "full"
    assert confirmed.get_json()["account"]["totp_enabled"] is True
    return secret, used


def audit_details(database: str, action: str) -> list[tuple[int, dict | None]]:
    """(status, detail) of each audit row of ``action`` ('POST /api/auth/totp/enrol'), oldest
    first."""
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "SELECT status, detail FROM audit_log WHERE action = %s ORDER BY id", (action,)
        )
        return rows.fetchall()
