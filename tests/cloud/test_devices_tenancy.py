"""The device registry per operator and store: who owns a new device, what each caller lists,
and what an answer may say about devices of others."""

from __future__ import annotations

import pytest

from tests.cloud.api_support import add_device, api_client, problem_of
from tests.cloud.tenancy_support import (
    PLATFORM,
    make_account,
    make_operator,
    make_role,
    make_store,
    token_for,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def tree(db):
    """Platform > east > east-sub, platform > west; a store each for east and west."""
    east = make_operator(db, "east")
    east_sub = make_operator(db, "east sub", parent=east)
    west = make_operator(db, "west")
    return {
        "east": east,
        "east_sub": east_sub,
        "west": west,
        "east_store": make_store(db, east, "east store"),
        "west_store": make_store(db, west, "west store"),
    }


def _client(database, db, operator_id, login, **account):
    return api_client(
        database, secret=token_for(db, make_account(db, operator_id, login, **account))
    )


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [device["id"] for device in response.get_json()]


def test_a_new_device_belongs_to_the_caller_or_to_an_operator_of_its_subtree(database, db, tree):
    with _client(database, db, tree["east"], "admin@east.test") as east:
        created = east.post("/api/devices", json={"id": "e-1"}).get_json()
        assert (created["operator_id"], created["store_id"]) == (tree["east"], None)
        body = {"id": "e-2", "operator_id": tree["east_sub"]}
        assert east.post("/api/devices", json=body).get_json()["operator_id"] == tree["east_sub"]
        body = {"id": "e-3", "store_id": tree["east_store"]}
        assert east.post("/api/devices", json=body).get_json()["store_id"] == tree["east_store"]

        # another operator, or another operator's store, is answered like a missing one
        detail = problem_of(
            east.post("/api/devices", json={"id": "e-4", "operator_id": tree["west"]}), 404
        )["detail"]
        assert detail == f"no operator {tree['west']}"
        problem_of(
            east.post("/api/devices", json={"id": "e-4", "store_id": tree["west_store"]}), 404
        )
        # a store of the subtree, but not of the operator the device goes to
        body = {"id": "e-4", "operator_id": tree["east_sub"], "store_id": tree["east_store"]}
        problem = problem_of(east.post("/api/devices", json=body), 422)
        assert problem["errors"][0]["field"] == "store_id"
    owners = dict(db.execute("SELECT id, operator_id FROM device ORDER BY id").fetchall())
    assert owners == {"e-1": tree["east"], "e-2": tree["east_sub"], "e-3": tree["east"]}


def test_each_caller_lists_its_subtree_and_a_store_account_its_store(database, db, tree):
    add_device(db, "p-1")
    add_device(db, "e-1", operator_id=tree["east"], store_id=tree["east_store"])
    add_device(db, "e-2", operator_id=tree["east"])
    add_device(db, "es-1", operator_id=tree["east_sub"])
    add_device(db, "w-1", operator_id=tree["west"], store_id=tree["west_store"])
    with api_client(database) as platform:
        assert _ids(platform.get("/api/devices")) == ["e-1", "e-2", "es-1", "p-1", "w-1"]
        assert _ids(platform.get(f"/api/devices?operator_id={tree['east']}")) == [
            "e-1", "e-2", "es-1",
        ]  # fmt: skip
    with _client(database, db, tree["east"], "admin@east.test") as east:
        assert _ids(east.get("/api/devices")) == ["e-1", "e-2", "es-1"]
        assert _ids(east.get(f"/api/devices?store_id={tree['east_store']}")) == ["e-1"]
        # a filter naming an operator outside the subtree finds nothing, not the operator's devices
        assert _ids(east.get(f"/api/devices?operator_id={tree['west']}")) == []
        problem_of(east.get("/api/devices/w-1"), 404)
        problem_of(east.get("/api/devices/p-1/state"), 404)
    with _client(database, db, tree["east_sub"], "admin@east-sub.test") as sub:
        assert _ids(sub.get("/api/devices")) == ["es-1"]
        problem_of(sub.get("/api/devices/e-1"), 404)  # its parent's device
    make_role(db, tree["east"], "counter", ["device.read"])
    store_account = {"store_id": tree["east_store"], "roles": ["counter"]}
    with _client(database, db, tree["east"], "desk@east.test", **store_account) as desk:
        assert _ids(desk.get("/api/devices")) == ["e-1"]
        problem_of(desk.get("/api/devices/e-2"), 404)
        # reading is all the role allows
        problem_of(desk.post("/api/devices", json={"id": "e-9"}), 403)


def test_answers_never_name_a_device_of_another_operator(database, db, tree):
    add_device(db, "w-1", operator_id=tree["west"], serial="SN-1")
    with _client(database, db, tree["east"], "admin@east.test") as east:
        # the serial is taken, but by whom is not east's business
        detail = problem_of(east.post("/api/devices", json={"id": "e-1", "serial": "SN-1"}), 409)[
            "detail"
        ]
        assert detail == "serial 'SN-1' is already used"
        report = east.post(
            "/api/devices/import", data="id,serial\ne-2,SN-1\n", content_type="text/csv"
        ).get_json()
        assert report["errors"] == [
            {"line": 2, "field": "serial", "reason": "serial 'SN-1' is already used"}
        ]
    with api_client(database) as platform:
        detail = problem_of(
            platform.post("/api/devices", json={"id": "p-1", "serial": "SN-1"}), 409
        )["detail"]
        assert detail == "serial 'SN-1' is already used by device 'w-1'"


def test_a_device_import_goes_to_the_operator_and_store_asked_for(database, db, tree):
    with _client(database, db, tree["east"], "admin@east.test") as east:
        url = f"/api/devices/import?operator_id={tree['east']}&store_id={tree['east_store']}"
        report = east.post(url, data="id\ne-1\ne-2\n", content_type="text/csv").get_json()
        assert report["created"] == 2
        url = f"/api/devices/import?operator_id={tree['west']}"
        problem_of(east.post(url, data="id\ne-3\n", content_type="text/csv"), 404)
    rows = db.execute("SELECT id, operator_id, store_id FROM device ORDER BY id").fetchall()
    assert rows == [
        ("e-1", tree["east"], tree["east_store"]),
        ("e-2", tree["east"], tree["east_store"]),
    ]


def test_the_platform_operator_is_the_root_of_the_tree(db, tree):
    paths = dict(db.execute("SELECT id, path FROM operator").fetchall())
    assert paths[tree["east_sub"]] == [PLATFORM, tree["east"], tree["east_sub"]]
