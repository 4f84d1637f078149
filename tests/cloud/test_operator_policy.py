"""An operator's sign-in policy is a floor for its subtree, set from above, and an account of
a store changes no operator: through the API and, for the policy, in the store itself."""

from __future__ import annotations

from types import SimpleNamespace

import psycopg
import pytest

from cloud.store import migrate as migrate_module
from tests.cloud.api_support import api_client, problem_of
from tests.cloud.tenancy_support import (
    make_account,
    make_operator,
    make_store,
    on_both_walls,
    token_for,
)
from tests.cloud.worker_support import migrate_before

pytestmark = [pytest.mark.postgres]

# Accounts here have a second factor, so that an operator requiring one keeps them signed in.
TOTP = "UPDATE account SET totp_secret = 'JBSWY3DPEHPK3PXP', totp_enabled = true"


@pytest.fixture
def tree(database):
    """The platform over siblings A and B; A over A1 over A11; A's store. An administrator of
    A, and one of A's store (its role is A's administrator, cut to the store's share)."""
    with psycopg.connect(database, autocommit=True) as conn:
        a = make_operator(conn, "A")
        b = make_operator(conn, "B")
        a1 = make_operator(conn, "A1", parent=a)
        a11 = make_operator(conn, "A11", parent=a1)
        store = make_store(conn, a, "A's shop")
        admin = make_account(conn, a, "admin@a.test")
        staff = make_account(conn, a, "staff@a.test", store_id=store)
        conn.execute(TOTP)
        secrets = {"a": token_for(conn, admin), "staff": token_for(conn, staff)}
    return SimpleNamespace(database=database, a=a, b=b, a1=a1, a11=a11, secrets=secrets)


def mfa_of(database: str) -> dict[int, bool]:
    with psycopg.connect(database) as conn:
        return dict(conn.execute("SELECT id, mfa_required FROM operator").fetchall())


@on_both_walls
def test_turned_on_at_an_operator_it_is_on_in_its_whole_subtree(tree, api_db_role):
    with api_client(tree.database, api_db_role=api_db_role) as platform:
        answer = platform.patch(f"/api/operators/{tree.a}", json={"mfa_required": True})
        assert answer.status_code == 200, answer.get_data(as_text=True)
    mfa = mfa_of(tree.database)
    assert [mfa[o] for o in (tree.a, tree.a1, tree.a11, tree.b)] == [True, True, True, False]


@on_both_walls
def test_below_an_operator_that_requires_it_nobody_turns_it_off(tree, api_db_role):
    with psycopg.connect(tree.database, autocommit=True) as conn:
        conn.execute("UPDATE operator SET mfa_required = true WHERE id = %s", (tree.a,))
    secret = tree.secrets["a"]
    with api_client(tree.database, secret=secret, api_db_role=api_db_role) as as_a:
        for answer in (
            as_a.patch(f"/api/operators/{tree.a1}", json={"mfa_required": False}),
            as_a.post("/api/operators", json={"name": "lax", "mfa_required": False}),
        ):
            problem = problem_of(answer, 422)
            assert problem["errors"][0]["field"] == "mfa_required"
        made = as_a.post("/api/operators", json={"name": "strict"}).get_json()
        assert made["mfa_required"] is True
    mfa = mfa_of(tree.database)
    assert mfa[tree.a1] and mfa[tree.a11]
    # the store refuses it whoever writes it
    with psycopg.connect(tree.database, autocommit=True) as conn:
        for sql in (
            "UPDATE operator SET mfa_required = false WHERE id = %s",
            "INSERT INTO operator (parent_id, name, mfa_required) VALUES (%s, 'x', false)",
        ):
            with pytest.raises(psycopg.errors.CheckViolation) as refused:
                conn.execute(sql, (tree.a1,))
            assert refused.value.diag.constraint_name == "operator_mfa_within_parent"


@on_both_walls
def test_an_operators_own_accounts_cannot_lower_the_policy_set_from_above(tree, api_db_role):
    secret = tree.secrets["a"]
    with api_client(tree.database, api_db_role=api_db_role) as platform:
        platform.patch(f"/api/operators/{tree.a}", json={"mfa_required": True})
    with api_client(tree.database, secret=secret, api_db_role=api_db_role) as as_a:
        refused = as_a.patch(f"/api/operators/{tree.a}", json={"mfa_required": False})
        assert "operator above" in problem_of(refused, 403)["detail"]
        assert mfa_of(tree.database)[tree.a] is True
    with api_client(tree.database, api_db_role=api_db_role) as platform:
        lowered = platform.patch(f"/api/operators/{tree.a}", json={"mfa_required": False})
        assert lowered.status_code == 200, lowered.get_data(as_text=True)
    with api_client(tree.database, secret=secret, api_db_role=api_db_role) as as_a:
        # raising its own is its to do
        raised = as_a.patch(f"/api/operators/{tree.a}", json={"mfa_required": True})
        assert raised.status_code == 200, raised.get_data(as_text=True)
    # in the store too: a request in A's own scope cannot lower A's policy
    with psycopg.connect(tree.database, autocommit=True) as conn:
        conn.execute("SELECT set_config('voltrent.tenant', %s, false)", (str(tree.a),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE operator SET mfa_required = false WHERE id = %s", (tree.a,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE operator SET flags = '{}' WHERE id = %s", (tree.a,))
    assert mfa_of(tree.database)[tree.a] is True


@on_both_walls
def test_a_store_account_sees_its_operator_alone_and_changes_none(tree, api_db_role):
    with psycopg.connect(tree.database) as conn:
        before = conn.execute("SELECT * FROM operator ORDER BY id").fetchall()
    secret = tree.secrets["staff"]
    with api_client(tree.database, secret=secret, api_db_role=api_db_role) as staff:
        assert [o["id"] for o in staff.get("/api/operators").get_json()] == [tree.a]
        own = staff.get(f"/api/operators/{tree.a}").get_json()
        assert (own["sub_operator_count"], own["store_count"]) == (0, 1)
        problem_of(staff.get(f"/api/operators/{tree.a1}"), 404)
        for answer in (
            staff.post("/api/operators", json={"name": "mine"}),
            staff.patch(f"/api/operators/{tree.a}", json={"name": "renamed"}),
            staff.patch(f"/api/operators/{tree.a1}", json={"name": "renamed"}),
            staff.patch(f"/api/operators/{tree.a}", json={"mfa_required": True}),
            staff.delete(f"/api/operators/{tree.a11}"),
        ):
            assert "operator.write" in problem_of(answer, 403)["detail"]
    with psycopg.connect(tree.database) as conn:
        assert conn.execute("SELECT * FROM operator ORDER BY id").fetchall() == before


def test_the_migration_raises_subtrees_already_below_a_policy(empty_database, monkeypatch):
    """Operators made before migration 0014 under one that requires a second factor get it."""
    migrate_before(empty_database, 14, monkeypatch)
    with psycopg.connect(empty_database, autocommit=True) as conn:
        a = make_operator(conn, "A", mfa_required=True)
        a1 = make_operator(conn, "A1", parent=a)
        a11 = make_operator(conn, "A11", parent=a1)
        b = make_operator(conn, "B")
    assert "0014_store_walls" in migrate_module.migrate(empty_database).applied
    mfa = mfa_of(empty_database)
    assert [mfa[o] for o in (a, a1, a11, b)] == [True, True, True, False]
