"""The store API on a real PostgreSQL: stores of the caller's subtree only, opening hours
checked to the interval, deletion refused while devices or accounts point at a store, and
an account of a store seeing that store alone."""

from __future__ import annotations

from types import SimpleNamespace

import psycopg
import pytest

from tests.cloud.api_support import add_device, api_client, problem_of
from tests.cloud.tenancy_support import (
    make_account,
    make_operator,
    make_role,
    make_store,
    on_both_walls,
    token_for,
)

pytestmark = [pytest.mark.postgres]

HOURS = {"mon": [["08:00", "12:00"], ["14:00", "24:00"]], "sat": [["10:00", "16:00"]]}


@pytest.fixture
def tenants(database):
    """Sibling operators A and B (A over A1), a store in each, an administrator of A, an
    account of A that may only read stores, and an account of A's store."""
    with psycopg.connect(database, autocommit=True) as conn:
        a = make_operator(conn, "A")
        b = make_operator(conn, "B")
        a1 = make_operator(conn, "A1", parent=a)
        a_store = make_store(conn, a, "A central")
        b_store = make_store(conn, b, "B central")
        make_role(conn, a, "reader", ["store.read"])
        secrets = {
            "admin": token_for(conn, make_account(conn, a, "admin@a.test")),
            "reader": token_for(conn, make_account(conn, a, "reader@a.test", roles=["reader"])),
            "shop": token_for(conn, make_account(conn, a, "shop@a.test", store_id=a_store)),
        }
    return SimpleNamespace(
        database=database, a=a, b=b, a1=a1, a_store=a_store, b_store=b_store, secrets=secrets
    )


@pytest.fixture
def as_a(tenants, api_db_role):
    with api_client(
        tenants.database, secret=tenants.secrets["admin"], api_db_role=api_db_role
    ) as client:
        yield client


def test_signing_in_and_the_permission_are_needed(tenants):
    with api_client(tenants.database, secret=None) as client:
        problem_of(client.get("/api/stores"), 401)
    with api_client(tenants.database, secret=tenants.secrets["reader"]) as client:
        assert client.get(f"/api/stores/{tenants.a_store}").status_code == 200
        body = problem_of(client.post("/api/stores", json={"name": "x"}), 403)
        assert "store.write" in body["detail"]
        problem_of(client.delete(f"/api/stores/{tenants.a_store}"), 403)


def test_create_read_edit_a_store(tenants, as_a):
    body = {
        "name": "A north", "manager": "Li Wei", "phone": "+86 755 1234 5678",
        "opening_hours": HOURS, "address": "1 Harbour Rd", "lat": 22.54, "lon": 114.05,
        "payment_options": ["wechat_pay", "cash", "wechat_pay"], "operator_id": tenants.a1,
    }  # fmt: skip
    answer = as_a.post("/api/stores", json=body)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    store = answer.get_json()
    assert store["operator_id"] == tenants.a1 and store["opening_hours"] == HOURS
    assert store["payment_options"] == ["wechat_pay", "cash"]
    assert (store["lat"], store["lon"], store["device_count"]) == (22.54, 114.05, 0)
    assert answer.headers["Location"].endswith(f"/api/stores/{store['id']}")
    assert as_a.get(f"/api/stores/{store['id']}").get_json() == store
    edited = as_a.patch(
        f"/api/stores/{store['id']}", json={"manager": "Wang Fang", "lat": None, "lon": None}
    )
    assert edited.status_code == 200, edited.get_data(as_text=True)
    changed = edited.get_json()
    assert (changed["manager"], changed["lat"], changed["lon"]) == ("Wang Fang", None, None)
    assert changed["name"] == "A north" and changed["opening_hours"] == HOURS
    plain = as_a.post("/api/stores", json={"name": "A south"}).get_json()
    assert plain["operator_id"] == tenants.a and plain["opening_hours"] == {}


@pytest.mark.parametrize(
    ("hours", "field"),
    [
        ({"mon": [["08:00", "25:00"]]}, "opening_hours.mon.0"),
        ({"tue": [["08:00", "12:00"], ["11:00", "13:00"]]}, "opening_hours.tue.1"),
        ({"wed": [["20:00", "08:00"]]}, "opening_hours.wed.0"),
        ({"thu": [["08:00"]]}, "opening_hours.thu.0"),
        ({"fri": "08:00-20:00"}, "opening_hours.fri"),
        ({"monday": [["08:00", "20:00"]]}, "opening_hours.monday"),
        (["08:00", "20:00"], "opening_hours"),
    ],
)
def test_opening_hours_are_checked_to_the_interval(tenants, as_a, hours, field):
    body = problem_of(as_a.post("/api/stores", json={"name": "x", "opening_hours": hours}), 422)
    assert [e["field"] for e in body["errors"]] == [field]


@on_both_walls
def test_other_fields_are_checked(tenants, as_a):
    def refused(status: int, **body) -> dict:
        return problem_of(as_a.post("/api/stores", json={"name": "x", **body}), status)

    assert refused(422, lat=22.5)["errors"][0]["field"] == "lon"
    assert refused(422, payment_options=["gold"])["errors"][0]["field"] == "payment_options.0"
    assert refused(404, operator_id=tenants.b)["detail"] == f"no operator {tenants.b}"


@on_both_walls
def test_other_operators_stores_are_neither_listed_nor_found(tenants, as_a):
    listed = as_a.get("/api/stores").get_json()
    assert [s["id"] for s in listed] == [tenants.a_store]
    assert as_a.get(f"/api/stores?operator_id={tenants.b}").get_json() == []
    for method in ("get", "patch", "delete"):
        answer = getattr(as_a, method)(f"/api/stores/{tenants.b_store}", json={"name": "x"})
        assert problem_of(answer, 404)["detail"] == f"no store {tenants.b_store}"
    with api_client(tenants.database) as platform:
        assert len(platform.get("/api/stores").get_json()) == 2


@on_both_walls
def test_a_store_account_sees_its_own_store_only(tenants, as_a, api_db_role):
    other = as_a.post("/api/stores", json={"name": "A east"}).get_json()
    secret = tenants.secrets["shop"]
    with api_client(tenants.database, secret=secret, api_db_role=api_db_role) as shop:
        assert [s["id"] for s in shop.get("/api/stores").get_json()] == [tenants.a_store]
        problem_of(shop.get(f"/api/stores/{other['id']}"), 404)
        problem_of(shop.post("/api/stores", json={"name": "mine"}), 403)
        edited = shop.patch(f"/api/stores/{tenants.a_store}", json={"opening_hours": HOURS})
        assert edited.status_code == 200 and edited.get_json()["opening_hours"] == HOURS
        # its store's details are its to edit; where the store belongs, and whether it stays,
        # are the operator's
        own = f"/api/stores/{tenants.a_store}"
        problem_of(shop.patch(own, json={"operator_id": tenants.a1, "name": "moved"}), 403)
        problem_of(shop.delete(own), 403)
    assert as_a.get(f"/api/stores/{tenants.a_store}").get_json()["name"] == "A central"


def test_delete_refused_while_devices_or_accounts_point_at_it(tenants, as_a):
    with psycopg.connect(tenants.database, autocommit=True) as conn:
        add_device(conn, "pack-1", operator_id=tenants.a, store_id=tenants.a_store)
    body = problem_of(as_a.delete(f"/api/stores/{tenants.a_store}"), 409)
    assert "1 devices and 1 accounts" in body["detail"]
    assert as_a.get(f"/api/stores/{tenants.a_store}").get_json()["device_count"] == 1
    with psycopg.connect(tenants.database, autocommit=True) as conn:
        conn.execute("UPDATE device SET store_id = NULL")
        conn.execute("DELETE FROM account WHERE store_id IS NOT NULL")
    assert as_a.delete(f"/api/stores/{tenants.a_store}").status_code == 204
    problem_of(as_a.get(f"/api/stores/{tenants.a_store}"), 404)


def test_a_store_moves_to_another_operator_only_when_empty(tenants, as_a):
    store = as_a.post("/api/stores", json={"name": "A west"}).get_json()
    with psycopg.connect(tenants.database, autocommit=True) as conn:
        add_device(conn, "pack-1", operator_id=tenants.a, store_id=store["id"])
    moved = as_a.patch(f"/api/stores/{store['id']}", json={"operator_id": tenants.a1})
    problem_of(moved, 409)
    with psycopg.connect(tenants.database, autocommit=True) as conn:
        conn.execute("UPDATE device SET store_id = NULL")
    moved = as_a.patch(f"/api/stores/{store['id']}", json={"operator_id": tenants.a1})
    assert moved.status_code == 200 and moved.get_json()["operator_id"] == tenants.a1
    problem_of(as_a.patch(f"/api/stores/{store['id']}", json={"operator_id": tenants.b}), 404)
