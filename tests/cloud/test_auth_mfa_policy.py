"""An operator requiring a second factor, on a real PostgreSQL: from the moment it says so,
the sessions and API tokens of its accounts without a confirmed factor lose their power (a
session drops to the enrol step, a token is refused saying why), not at their next sign-in;
accounts with a factor carry on, and enrolling gives the power back."""

from __future__ import annotations

import psycopg
import pytest

from tests.cloud.api_support import api_client, problem_of
from tests.cloud.auth_support import LOGIN, enrol, give_factor, make, signed_in
from tests.cloud.tenancy_support import bearer, make_account, token_for

pytestmark = [pytest.mark.postgres]


def status_of(client, secret: str) -> int:
    return client.get("/api/devices", headers=bearer(secret)).status_code


def test_requiring_a_second_factor_takes_full_power_at_once(database):
    operator_id, account_id = make(database)
    with psycopg.connect(database, autocommit=True) as conn:
        token = token_for(conn, account_id)
        with_factor = make_account(conn, operator_id, "carol@a.test")  # a colleague
        give_factor(conn, with_factor)
        colleague = token_for(conn, with_factor)
    with api_client(database, secret=None) as client, api_client(database) as root:
        session = signed_in(client)["token"]
        policy = root.patch(f"/api/operators/{operator_id}", json={"mfa_required": True})
        assert policy.status_code == 200, policy.get_data(as_text=True)
        refused = problem_of(client.get("/api/devices", headers=bearer(session)), 403)
        assert "enrol" in refused["detail"]
        who = client.get("/api/auth/me", headers=bearer(session)).get_json()
        assert who["stage"] == "totp_enrol" and who["permissions"] == []
        [listed] = root.get(f"/api/accounts/{account_id}/sessions").get_json()
        assert listed["stage"] == "totp_enrol"
        refused = problem_of(client.get("/api/devices", headers=bearer(token)), 403)
        assert "requires a second factor" in refused["detail"] and LOGIN in refused["detail"]
        assert status_of(client, colleague) == 200
        enrol(client, session)  # the account gets a factor: its session and tokens work again
        assert status_of(client, session) == 200 and status_of(client, token) == 200
