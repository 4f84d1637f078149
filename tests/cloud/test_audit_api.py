"""The audit log API on a real PostgreSQL: requests recorded with who, what and the answer's
status (refused ones too), read back newest first, filtered, and only within the caller's
subtree."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import psycopg
import pytest

from tests.cloud.api_support import add_device, api_client, iso, problem_of
from tests.cloud.tenancy_support import (
    make_account,
    make_operator,
    make_role,
    make_store,
    on_both_walls,
    token_for,
)

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def tenants(database):
    """Sibling operators A and B, A1 under A; administrators of A, A1 and B, an account of
    A that may only read devices, and an account of A's store that may read the log."""
    with psycopg.connect(database, autocommit=True) as conn:
        a = make_operator(conn, "A")
        b = make_operator(conn, "B")
        a1 = make_operator(conn, "A1", parent=a)
        store = make_store(conn, a, "A central")
        make_role(conn, a, "reader", ["device.read"])
        make_role(conn, a, "auditor", ["audit.read", "store.write"])
        add_device(conn, "pack-1", operator_id=a)
        add_device(conn, "pack-b", operator_id=b)

        def token(operator: int, login: str, **options) -> str:
            return token_for(conn, make_account(conn, operator, login, **options))

        secrets = {
            "a": token(a, "admin@a.test"),
            "a1": token(a1, "admin@a1.test"),
            "b": token(b, "admin@b.test"),
            "reader": token(a, "reader@a.test", roles=["reader"]),
            "shop": token(a, "shop@a.test", roles=["auditor"], store_id=store),
        }
    return SimpleNamespace(database=database, a=a, b=b, a1=a1, store=store, secrets=secrets)


def client_of(tenants, who: str, api_db_role: str = "voltrent_api"):
    return api_client(tenants.database, secret=tenants.secrets[who], api_db_role=api_db_role)


def test_signing_in_and_the_permission_are_needed(tenants):
    with api_client(tenants.database, secret=None) as client:
        problem_of(client.get("/api/audit"), 401)
    with client_of(tenants, "reader") as client:
        assert "audit.read" in problem_of(client.get("/api/audit"), 403)["detail"]


def test_a_transfer_and_a_refused_request_are_recorded(tenants):
    move = {"device_ids": ["pack-1"], "to_operator_id": tenants.a1, "note": "to A1"}
    with client_of(tenants, "reader") as reader:
        problem_of(reader.post("/api/devices/transfer", json=move), 403)
    with client_of(tenants, "a") as as_a:
        assert as_a.post("/api/devices/transfer", json=move).status_code == 200
        answer = as_a.get("/api/audit?action=POST%20/api/devices/transfer")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        done, refused = answer.get_json()
    assert '"total": 2' in answer.headers["X-Pagination"]
    assert (done["actor"], done["via"], done["operator_id"]) == ("admin@a.test", "token", tenants.a)
    assert (done["action"], done["target"], done["status"]) == (
        "POST /api/devices/transfer", "/api/devices/transfer", 200,
    )  # fmt: skip
    assert done["detail"]["moved"] == ["pack-1"] and done["detail"]["to_operator_id"] == tenants.a1
    assert (refused["actor"], refused["status"]) == ("reader@a.test", 403)
    assert done["id"] > refused["id"]  # newest first


@on_both_walls
def test_the_log_holds_the_callers_subtree_only(tenants, api_db_role):
    for who in ("a", "a1", "b"):
        with client_of(tenants, who) as client:
            client.post("/api/stores", json={"name": f"store of {who}"})
    with client_of(tenants, "a", api_db_role) as as_a:
        actors = {row["actor"] for row in as_a.get("/api/audit").get_json()}
    assert actors == {"admin@a.test", "admin@a1.test"}
    with client_of(tenants, "a1", api_db_role) as as_a1:
        assert {row["actor"] for row in as_a1.get("/api/audit").get_json()} == {"admin@a1.test"}
        assert as_a1.get(f"/api/audit?operator_id={tenants.a}").get_json() == []
    with client_of(tenants, "b", api_db_role) as as_b:
        assert {row["actor"] for row in as_b.get("/api/audit").get_json()} == {"admin@b.test"}
    with client_of(tenants, "shop", api_db_role) as shop:
        shop.post("/api/stores", json={"name": "refused: a store account makes no stores"})
        rows = shop.get("/api/audit").get_json()
    assert [(row["actor"], row["status"]) for row in rows] == [("shop@a.test", 403)]


def test_filters(tenants):
    with client_of(tenants, "a") as as_a:
        as_a.post("/api/stores", json={"name": "north"})
        as_a.post("/api/stores", json={"name": ""})  # 422
        as_a.patch(f"/api/operators/{tenants.a1}", json={"name": "A one"})

        def listed(query: str) -> list[tuple[str, int]]:
            answer = as_a.get(f"/api/audit?{query}")
            assert answer.status_code == 200, answer.get_data(as_text=True)
            return [(row["action"], row["status"]) for row in answer.get_json()]

        assert listed("action=POST") == [("POST /api/stores", 422), ("POST /api/stores", 201)]
        assert listed("status=422") == [("POST /api/stores", 422)]
        assert listed(f"target=/api/operators/{tenants.a1}") == [
            ("PATCH /api/operators/<int:operator_id>", 200)
        ]
        assert len(listed("actor=admin@a.test")) == 3
        assert listed("actor=admin") == []
        everything = as_a.get("/api/audit").get_json()
        newest = everything[0]["at"]
        assert len(listed(f"to={newest}")) == 2
        assert len(listed(f"from={newest}")) == 1
        assert len(listed("page_size=1&page=2")) == 1
        body = problem_of(as_a.get(f"/api/audit?from={newest}&to={iso_before(newest)}"), 422)
        assert body["errors"][0]["field"] == "to"
        assert problem_of(as_a.get("/api/audit?who=x"), 422)["errors"][0]["field"] == "who"


def iso_before(moment: str) -> str:
    return iso(datetime.fromisoformat(moment.replace("Z", "+00:00")) - timedelta(seconds=1))
