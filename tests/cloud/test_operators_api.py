"""The operator API on a real PostgreSQL: the caller's subtree only, and a sub-operator never
holding more flags than its parent, whether asked through the API or written in SQL, with
a flag taken from the top taken from the whole subtree and from its accounts at once."""

from __future__ import annotations

from types import SimpleNamespace

import psycopg
import pytest

from cloud.identity.permissions import FLAGS
from tests.cloud.api_support import add_device, api_client, problem_of, set_state
from tests.cloud.tenancy_support import (
    PLATFORM,
    make_account,
    make_operator,
    make_role,
    make_store,
    on_both_walls,
    token_for,
)

pytestmark = [pytest.mark.postgres]

ALL_FLAGS = sorted(FLAGS)
CONTROL = "charge_discharge_control"


@pytest.fixture
def tree(database):
    """The platform over siblings A and B; A over A1 over A11. An administrator in A, B and
    A11, and an account of A that may only read devices."""
    with psycopg.connect(database, autocommit=True) as conn:
        a = make_operator(conn, "A")
        b = make_operator(conn, "B")
        a1 = make_operator(conn, "A1", parent=a)
        a11 = make_operator(conn, "A11", parent=a1)
        make_role(conn, a, "viewer", ["device.read"])
        secrets = {
            login: token_for(conn, make_account(conn, operator, login, roles=roles))
            for login, operator, roles in (
                ("admin@a.test", a, ["administrator"]),
                ("admin@b.test", b, ["administrator"]),
                ("admin@a11.test", a11, ["administrator"]),
                ("viewer@a.test", a, ["viewer"]),
            )
        }
    return SimpleNamespace(database=database, a=a, b=b, a1=a1, a11=a11, secrets=secrets)


@pytest.fixture
def as_a(tree, api_db_role):
    with api_client(
        tree.database, secret=tree.secrets["admin@a.test"], api_db_role=api_db_role
    ) as client:
        yield client


def flags_of(database: str, operator_id: int) -> list[str]:
    with psycopg.connect(database) as conn:
        row = conn.execute("SELECT flags FROM operator WHERE id = %s", (operator_id,)).fetchone()
    return sorted(row[0])


def test_signing_in_and_the_permission_are_needed(tree):
    with api_client(tree.database, secret=None) as client:
        problem_of(client.get("/api/operators"), 401)
        problem_of(client.post("/api/operators", json={"name": "x"}), 401)
    with api_client(tree.database, secret=tree.secrets["viewer@a.test"]) as client:
        body = problem_of(client.get("/api/operators"), 403)
        assert "operator.read" in body["detail"]
        problem_of(client.get(f"/api/operators/{tree.a1}"), 403)
        problem_of(client.post("/api/operators", json={"name": "x"}), 403)


@on_both_walls
def test_the_list_is_the_callers_subtree_depth_first(tree, as_a):
    with psycopg.connect(tree.database, autocommit=True) as conn:
        store = make_store(conn, tree.a1, "A1 central")
        add_device(conn, "pack-a1", operator_id=tree.a1, store_id=store)
        add_device(conn, "pack-b", operator_id=tree.b)
    answer = as_a.get("/api/operators")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    listed = answer.get_json()
    assert [o["name"] for o in listed] == ["A", "A1", "A11"]
    a1 = listed[1]
    assert a1["path"] == [PLATFORM, tree.a, tree.a1] and a1["depth"] == 2
    assert a1["parent_id"] == tree.a and a1["flags"] == ALL_FLAGS
    assert (a1["device_count"], a1["store_count"], a1["sub_operator_count"]) == (1, 1, 1)
    assert '"total": 3' in answer.headers["X-Pagination"]
    children = as_a.get(f"/api/operators?parent_id={tree.a}").get_json()
    assert [o["id"] for o in children] == [tree.a1]
    with api_client(tree.database) as platform:  # the platform's administrator sees it all
        names = [o["name"] for o in platform.get("/api/operators").get_json()]
    assert names == ["Platform", "A", "A1", "A11", "B"]


@on_both_walls
def test_each_operator_counts_the_devices_of_its_subtree_and_those_online(tree, as_a):
    with psycopg.connect(tree.database, autocommit=True) as conn:
        add_device(conn, "pack-a", operator_id=tree.a)
        add_device(conn, "pack-a1", operator_id=tree.a1)
        add_device(conn, "pack-a11-on", operator_id=tree.a11)
        add_device(conn, "pack-a11-off", operator_id=tree.a11)
        add_device(conn, "pack-b-on", operator_id=tree.b)
        for online in ("pack-a11-on", "pack-b-on"):
            set_state(conn, online, online=True)
    listed = {o["name"]: o for o in as_a.get("/api/operators").get_json()}
    counts = {
        name: (o["device_count"], o["subtree_device_count"], o["subtree_online_count"])
        for name, o in listed.items()
    }
    assert counts == {"A": (1, 4, 1), "A1": (1, 3, 1), "A11": (2, 2, 1)}
    one = as_a.get(f"/api/operators/{tree.a1}").get_json()
    assert (one["subtree_device_count"], one["subtree_online_count"]) == (3, 1)


@on_both_walls
def test_other_operators_and_those_above_are_not_found(tree, as_a):
    for other in (tree.b, PLATFORM, 9999):
        body = problem_of(as_a.get(f"/api/operators/{other}"), 404)
        assert body["detail"] == f"no operator {other!r}"
        problem_of(as_a.patch(f"/api/operators/{other}", json={"name": "mine"}), 404)
        problem_of(as_a.delete(f"/api/operators/{other}"), 404)
    assert as_a.get(f"/api/operators/{tree.a11}").get_json()["name"] == "A11"
    assert as_a.get(f"/api/operators?parent_id={tree.b}").get_json() == []


@on_both_walls
def test_create_under_the_caller_or_a_descendant(tree, as_a):
    answer = as_a.post("/api/operators", json={"name": "A2", "flags": [CONTROL]})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    a2 = answer.get_json()
    assert a2["parent_id"] == tree.a and a2["path"] == [PLATFORM, tree.a, a2["id"]]
    assert a2["flags"] == [CONTROL] and a2["mfa_required"] is False
    assert answer.headers["Location"].endswith(f"/api/operators/{a2['id']}")
    deeper = as_a.post("/api/operators", json={"name": "A111", "parent_id": tree.a11})
    assert deeper.status_code == 201 and deeper.get_json()["depth"] == 4
    assert deeper.get_json()["flags"] == []
    with psycopg.connect(tree.database) as conn:
        roles = conn.execute(
            "SELECT name, permissions FROM role WHERE operator_id = %s", (a2["id"],)
        ).fetchall()
    assert roles == [("administrator", ["*"])]
    body = problem_of(as_a.post("/api/operators", json={"name": "x", "parent_id": tree.b}), 404)
    assert body["detail"] == f"no operator {tree.b}"


def test_create_refuses_each_flag_the_parent_lacks(tree, as_a):
    as_a.patch(f"/api/operators/{tree.a1}", json={"flags": ["custom_billing"]})
    answer = as_a.post(
        "/api/operators",
        json={"name": "x", "parent_id": tree.a1,
              "flags": ["custom_billing", CONTROL, "bms_param_write"]},
    )  # fmt: skip
    body = problem_of(answer, 422)
    assert [e["field"] for e in body["errors"]] == ["flags", "flags"]
    reasons = " ".join(e["reason"] for e in body["errors"])
    assert CONTROL in reasons and "bms_param_write" in reasons
    assert "custom_billing" not in reasons
    unknown = problem_of(as_a.post("/api/operators", json={"name": "x", "flags": ["root"]}), 422)
    assert unknown["errors"][0]["field"] == "flags.0"


def test_nobody_edits_the_flags_of_their_own_operator(tree, as_a):
    body = problem_of(as_a.patch(f"/api/operators/{tree.a}", json={"flags": []}), 403)
    assert "own flags" in body["detail"]
    with api_client(tree.database, secret=tree.secrets["admin@a11.test"]) as as_a11:
        problem_of(as_a11.patch(f"/api/operators/{tree.a11}", json={"flags": []}), 403)
    assert flags_of(tree.database, tree.a) == ALL_FLAGS
    # its name and sign-in policy it may change, and resending its flags unchanged is fine
    answer = as_a.patch(
        f"/api/operators/{tree.a}",
        json={"name": "A renamed", "mfa_required": True, "flags": list(reversed(ALL_FLAGS))},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert (answer.get_json()["name"], answer.get_json()["mfa_required"]) == ("A renamed", True)


def test_a_flag_taken_from_the_top_leaves_the_whole_subtree(tree):
    with api_client(tree.database) as platform:
        kept = [f for f in ALL_FLAGS if f != CONTROL]
        answer = platform.patch(f"/api/operators/{tree.a}", json={"flags": kept})
        assert answer.status_code == 200, answer.get_data(as_text=True)
    for operator in (tree.a, tree.a1, tree.a11):
        assert flags_of(tree.database, operator) == kept
    assert flags_of(tree.database, tree.b) == ALL_FLAGS
    with api_client(tree.database, secret=tree.secrets["admin@a.test"]) as as_a:
        body = problem_of(as_a.patch(f"/api/operators/{tree.a1}", json={"flags": ALL_FLAGS}), 422)
        assert CONTROL in body["detail"]
    assert flags_of(tree.database, tree.a1) == kept


def test_the_store_refuses_flags_beyond_the_parent_written_in_sql(tree):
    with psycopg.connect(tree.database, autocommit=True) as conn:
        conn.execute("UPDATE operator SET flags = '{custom_billing}' WHERE id = %s", (tree.a1,))
        with pytest.raises(psycopg.errors.CheckViolation) as refused:
            conn.execute(
                "INSERT INTO operator (parent_id, name, flags) VALUES (%s, 'x', %s)",
                (tree.a1, ["custom_billing", CONTROL]),
            )
        assert refused.value.diag.constraint_name == "operator_flags_within_parent"
        with pytest.raises(psycopg.errors.CheckViolation) as refused:
            conn.execute("UPDATE operator SET flags = %s WHERE id = %s", ([CONTROL], tree.a11))
        assert refused.value.diag.constraint_name == "operator_flags_within_parent"
    assert flags_of(tree.database, tree.a11) == ["custom_billing"]


def test_a_permission_needing_a_taken_flag_is_gone_at_once(tree):
    """An administrator ('*') of the grand-child loses device.command.discharge on its next
    request once the flag is taken two levels up."""
    with psycopg.connect(tree.database, autocommit=True) as conn:
        add_device(conn, "pack-a11", operator_id=tree.a11)
    cut = {"type": "set_discharge", "args": {"on": False}}
    with api_client(tree.database, secret=tree.secrets["admin@a11.test"]) as as_a11:
        me = as_a11.get("/api/auth/me").get_json()
        assert "device.command.discharge" in me["permissions"]
        answer = as_a11.post("/api/devices/pack-a11/commands", json=cut)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        with api_client(tree.database) as platform:
            kept = [f for f in ALL_FLAGS if f != CONTROL]
            assert (
                platform.patch(f"/api/operators/{tree.a}", json={"flags": kept}).status_code == 200
            )
        me = as_a11.get("/api/auth/me").get_json()
        assert "device.command.discharge" not in me["permissions"]
        assert "device.command.basic" in me["permissions"]
        body = problem_of(as_a11.post("/api/devices/pack-a11/commands", json=cut), 403)
        assert "device.command.discharge" in body["detail"]


def test_delete_only_an_empty_operator_never_ones_own(tree, as_a):
    body = problem_of(as_a.delete(f"/api/operators/{tree.a}"), 403)
    assert "own" in body["detail"]
    with psycopg.connect(tree.database, autocommit=True) as conn:
        add_device(conn, "pack-a11", operator_id=tree.a11)
        make_store(conn, tree.a11, "shop")
    body = problem_of(as_a.delete(f"/api/operators/{tree.a1}"), 409)
    assert "1 sub-operators" in body["detail"]
    body = problem_of(as_a.delete(f"/api/operators/{tree.a11}"), 409)
    for left in ("1 devices", "1 stores", "1 accounts"):
        assert left in body["detail"]
    with psycopg.connect(tree.database, autocommit=True) as conn:
        conn.execute("DELETE FROM device WHERE operator_id = %s", (tree.a11,))
        conn.execute("DELETE FROM store WHERE operator_id = %s", (tree.a11,))
        conn.execute("DELETE FROM account WHERE operator_id = %s", (tree.a11,))
    assert as_a.delete(f"/api/operators/{tree.a11}").status_code == 204
    problem_of(as_a.get(f"/api/operators/{tree.a11}"), 404)
    with psycopg.connect(tree.database) as conn:
        gone = conn.execute("SELECT count(*) FROM role WHERE operator_id = %s", (tree.a11,))
        assert gone.fetchone()[0] == 0
