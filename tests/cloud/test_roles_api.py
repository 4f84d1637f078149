"""Roles on a real PostgreSQL: the subtree's only; a sub-operator's roles cannot exceed its
capability flags nor the caller's own permissions; built-in and held roles stay."""

from __future__ import annotations

import psycopg
import pytest

from tests.cloud.api_support import api_client, problem_of
from tests.cloud.tenancy_support import (
    WALL_ROLES,
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
        # A may not write BMS parameters, so neither may any role of A
        a = make_operator(conn, "A", flags=["charge_discharge_control", "cutoff_control"])
        b = make_operator(conn, "B")
        editor = make_role(conn, a, "editor", ["role.read", "role.write", "device.read"])
        return {
            "a": a, "b": b, "editor": editor,
            "b_role": make_role(conn, b, "b-viewer", ["device.read"]),
            "alice": make_account(conn, a, "alice@a.test"),
            "ed": make_account(conn, a, "ed@a.test", roles=["editor"]),
            "sid": make_account(conn, a, "sid@a.test", roles=[]),
        }  # fmt: skip


def test_list_shows_the_subtree_only(database, world):
    with client_as(database, world["alice"]) as client:
        names = [r["name"] for r in client.get("/api/roles").get_json()]
        assert names == ["administrator", "editor"]
        assert problem_of(client.get(f"/api/roles/{world['b_role']}"), 404)
        assert problem_of(client.delete(f"/api/roles/{world['b_role']}"), 404)
    with api_client(database) as root:
        of_b = root.get("/api/roles", query_string={"operator_id": world["b"]}).get_json()
        assert [r["name"] for r in of_b] == ["administrator", "b-viewer"]


def test_no_bearer_is_401_and_no_permission_is_403(database, world):
    with api_client(database, secret=None) as anonymous:
        assert problem_of(anonymous.get("/api/roles"), 401)
        assert problem_of(anonymous.get("/api/permissions"), 401)
    with client_as(database, world["sid"]) as nobody:
        assert problem_of(nobody.get("/api/roles"), 403)
        assert nobody.get("/api/permissions").status_code == 200


def test_sub_operator_roles_cannot_exceed_its_flags(database, world):
    body = {"name": "tech", "permissions": ["device.read", "device.bms.write",
                                            "platform.broker", "no.such"]}  # fmt: skip
    with client_as(database, world["alice"]) as client:
        answer = problem_of(client.post("/api/roles", json=body), 422)
        reasons = [e["reason"] for e in answer["errors"]]
        assert all(e["field"] == "permissions" for e in answer["errors"])
        assert "'device.bms.write' needs the operator flag 'bms_param_write'" in reasons
        assert "'platform.broker' is for the platform operator only" in reasons
        assert "'no.such' is not a permission" in reasons
        made = client.post("/api/roles", json={"name": "tech", "permissions": ["device.read"]})
        assert made.status_code == 201 and made.get_json()["operator_id"] == world["a"]
        again = client.post("/api/roles", json={"name": "tech", "permissions": []})
        assert problem_of(again, 409)
    with api_client(database) as root:  # the platform may, for its own roles
        body = {"name": "tech", "permissions": ["device.bms.write", "platform.broker"]}
        assert root.post("/api/roles", json=body).status_code == 201
        into_a = root.post("/api/roles", json={**body, "operator_id": world["a"]})
        assert problem_of(into_a, 422)


def test_roles_cannot_exceed_the_caller(database, world):
    with client_as(database, world["ed"]) as editor:
        wide = editor.post("/api/roles", json={"name": "wide", "permissions": ["device.write"]})
        assert "'device.write' is more than you may do yourself" in problem_of(wide, 422)["detail"]
        star = editor.post("/api/roles", json={"name": "star", "permissions": ["*"]})
        assert problem_of(star, 422)
        admin_role = editor.get("/api/roles").get_json()[0]
        assert problem_of(editor.patch(f"/api/roles/{admin_role['id']}", json={"name": "x"}), 409)
        narrow = editor.post("/api/roles", json={"name": "narrow", "permissions": ["role.read"]})
        assert narrow.status_code == 201


def test_edit_and_delete(database, world):
    with client_as(database, world["alice"]) as client:
        role = client.post("/api/roles", json={"name": "tmp", "permissions": []}).get_json()
        changed = client.patch(
            f"/api/roles/{role['id']}", json={"permissions": ["device.read", "device.read"]}
        )
        assert changed.get_json()["permissions"] == ["device.read"]
        held = client.delete(f"/api/roles/{world['editor']}")
        assert "held by 1 account" in problem_of(held, 409)["detail"]
        admin_role = client.get("/api/roles").get_json()[0]
        assert admin_role["builtin"] and problem_of(
            client.delete(f"/api/roles/{admin_role['id']}"), 409
        )
        assert client.delete(f"/api/roles/{role['id']}").status_code == 204
        assert problem_of(client.get(f"/api/roles/{role['id']}"), 404)


def test_the_catalogue(database, world):
    with client_as(database, world["sid"]) as client:
        body = client.get("/api/permissions").get_json()
    bms = next(p for p in body["permissions"] if p["name"] == "device.bms.write")
    assert bms["flag"] == "bms_param_write" and not bms["platform_only"]
    assert "bms_param_write" in {f["name"] for f in body["flags"]}


def test_a_store_account_reads_the_operators_roles_and_changes_none(database, world):
    with psycopg.connect(database, autocommit=True) as conn:
        store = make_store(conn, world["a"], "north")
        a1 = make_operator(conn, "A1", parent=world["a"])
        a1_role = make_role(conn, a1, "a1-viewer", ["device.read"])
        staff = make_account(conn, world["a"], "staff@a.test", store_id=store)  # administrator
    with client_as(database, staff) as client:
        me = client.get("/api/auth/me").get_json()
        assert "role.read" in me["permissions"] and "role.write" not in me["permissions"]
        assert [r["name"] for r in client.get("/api/roles").get_json()] == [
            "administrator",
            "editor",
        ]
        problem_of(client.get(f"/api/roles/{a1_role}"), 404)
        # the editor role is held by ed@a.test, who works outside the store
        for answer in (
            client.patch(f"/api/roles/{world['editor']}", json={"permissions": ["*"]}),
            client.delete(f"/api/roles/{world['editor']}"),
            client.post("/api/roles", json={"name": "all", "permissions": ["*"]}),
        ):
            assert "role.write" in problem_of(answer, 403)["detail"]
        # it staffs its store with the operator's roles, within what it may do itself
        made = client.post(
            "/api/accounts",
            json={"login": "clerk@a.test", "name": "Clerk", "role_ids": [world["editor"]]},
        )
        assert made.status_code == 201, made.get_data(as_text=True)
        assert made.get_json()["store_id"] == store
    with api_client(database) as root:
        editor = root.get(f"/api/roles/{world['editor']}").get_json()
        assert editor["permissions"] == ["role.read", "role.write", "device.read"]
        assert editor["accounts"] == 2  # ed@a.test, and clerk@a.test of the store
        names = [r["name"] for r in root.get(f"/api/roles?operator_id={world['a']}").get_json()]
        assert names == ["administrator", "editor"]


@pytest.mark.parametrize("api_db_role", list(WALL_ROLES.values()), ids=list(WALL_ROLES))
def test_a_store_account_counts_its_stores_holders_of_a_role(database, world, api_db_role):
    with psycopg.connect(database, autocommit=True) as conn:
        store = make_store(conn, world["a"], "north")
        staff = make_account(conn, world["a"], "staff@a.test", store_id=store)
        secret = token_for(conn, staff)
    with api_client(database, secret=secret, api_db_role=api_db_role) as client:
        listed = {r["name"]: r["accounts"] for r in client.get("/api/roles").get_json()}
        assert listed == {"administrator": 1, "editor": 0}  # ed@a.test is not the store's
        assert client.get(f"/api/roles/{world['editor']}").get_json()["accounts"] == 0


def test_the_catalogue_says_what_no_store_account_has(database, world):
    with client_as(database, world["sid"]) as client:
        body = client.get("/api/permissions").get_json()
    wide = {p["name"] for p in body["permissions"] if p["operator_wide"]}
    assert {"geofence.write", "webhook.read", "role.write", "operator.write"} <= wide
    assert not wide & {"device.read", "alarm.read", "account.write", "geofence.read"}
