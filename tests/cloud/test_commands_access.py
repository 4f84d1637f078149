"""Who may issue, see and cancel which commands: a permission per command type, and only
ever the caller's devices (also when the body names them or a filter selects them)."""

from __future__ import annotations

import psycopg
import pytest

from tests.cloud.api_support import problem_of
from tests.cloud.tenancy_support import WALLS, login, make_tenancy

pytestmark = [pytest.mark.postgres]

CUT = {"type": "set_discharge", "args": {"on": False}, "reason": "unpaid"}
LOCATE = {"type": "locate"}


@pytest.fixture
def tenants(database):
    return make_tenancy(database)


def _issue(tenants, who: str, device_id: str, body: dict) -> str:
    with tenants.client(who) as client:
        answer = client.post(f"/api/devices/{device_id}/commands", json=body)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()["cmd_id"]


def _counts(database: str) -> tuple[int, int]:
    with psycopg.connect(database) as conn:
        commands = conn.execute("SELECT count(*) FROM command").fetchone()[0]
        batches = conn.execute("SELECT count(*) FROM command_batch").fetchone()[0]
    return commands, batches


def test_every_command_endpoint_needs_a_bearer(tenants):
    with tenants.client(None) as client:
        for answer in (
            client.get("/api/devices/a-2/commands"),
            client.post("/api/devices/a-2/commands", json=CUT),
            client.post("/api/commands", json={**CUT, "device_ids": ["a-2"]}),
            client.get("/api/commands/c-1"),
            client.post("/api/commands/c-1/cancel"),
        ):
            problem_of(answer, 401)
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert _counts(tenants.database) == (0, 0)


def test_a_cut_off_needs_device_command_discharge(tenants):
    with tenants.client("basic") as client:
        refused = problem_of(client.post("/api/devices/a-2/commands", json=CUT), 403)
        assert "device.command.discharge" in refused["detail"]
        batch = client.post("/api/commands", json={**CUT, "device_ids": ["a-2"]})
        assert "device.command.discharge" in problem_of(batch, 403)["detail"]
        by_filter = client.post("/api/commands", json={**CUT, "filter": {"model": "M1"}})
        problem_of(by_filter, 403)
        assert _counts(tenants.database) == (0, 0)
        # what the role does hold works
        assert client.post("/api/devices/a-2/commands", json=LOCATE).status_code == 201
    with tenants.client("cutter") as client:
        answer = client.post("/api/devices/a-2/commands", json=CUT)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        assert answer.get_json()["issued_by"] == login("cutter")
        problem_of(client.post("/api/devices/a-2/commands", json=LOCATE), 403)
        batch = client.post("/api/commands", json={**CUT, "device_ids": ["a-2", "a1-1"]})
        assert batch.status_code == 201, batch.get_data(as_text=True)


def test_an_unknown_type_is_still_a_422_naming_it(tenants):
    with tenants.client("basic") as client:
        body = problem_of(client.post("/api/devices/a-2/commands", json={"type": "melt"}), 422)
    assert [e["field"] for e in body["errors"]] == ["type"]


def test_reading_and_cancelling_need_their_permissions(tenants):
    cmd_id = _issue(tenants, "a", "a-2", LOCATE)
    with tenants.client("viewer") as client:  # device.read only
        assert "command.read" in problem_of(client.get("/api/devices/a-2/commands"), 403)["detail"]
        problem_of(client.get(f"/api/commands/{cmd_id}"), 403)
    with tenants.client("basic") as client:  # command.read, not command.cancel
        assert client.get(f"/api/commands/{cmd_id}").get_json()["state"] == "queued"
        assert [c["cmd_id"] for c in client.get("/api/devices/a-2/commands").get_json()] == [cmd_id]
        refused = problem_of(client.post(f"/api/commands/{cmd_id}/cancel"), 403)
        assert "command.cancel" in refused["detail"]
    with tenants.client("a") as client:
        assert client.post(f"/api/commands/{cmd_id}/cancel").get_json()["state"] == "cancelled"


def test_a_siblings_device_and_commands_are_404_as_if_missing(tenants):
    b_cmd = _issue(tenants, "b", "b-1", LOCATE)
    with tenants.client("a") as client:
        problem_of(client.post("/api/devices/b-1/commands", json=LOCATE), 404)
        problem_of(client.get("/api/devices/b-1/commands"), 404)
        assert problem_of(client.get(f"/api/commands/{b_cmd}"), 404)["detail"] == (
            f"no command {b_cmd!r}"
        )
        problem_of(client.post(f"/api/commands/{b_cmd}/cancel"), 404)
        problem_of(client.post("/api/devices/p-1/commands", json=LOCATE), 404)  # an ancestor's
    with tenants.client("b") as client:
        assert client.get(f"/api/commands/{b_cmd}").get_json()["state"] == "queued"
    assert _counts(tenants.database) == (1, 0)


@pytest.mark.parametrize("role", WALLS)
@pytest.mark.parametrize("foreign", ["b-1", "p-1", "ghost"])
def test_a_batch_naming_a_foreign_device_is_404_and_queues_nothing(tenants, role, foreign):
    with tenants.client("a", role=role) as client:
        answer = client.post("/api/commands", json={**CUT, "device_ids": ["a-2", foreign]})
    assert problem_of(answer, 404)["detail"] == f"no device {foreign!r}"
    assert _counts(tenants.database) == (0, 0)


@pytest.mark.parametrize("role", WALLS)
def test_a_batch_filter_selects_only_within_the_callers_subtree(tenants, role):
    expected = {"a": ["a-1", "a-2", "a1-1"], "a1": ["a1-1"], "b": ["b-1"], "shop": ["a-1"]}
    for who, devices in expected.items():
        with tenants.client(who, role=role) as client:
            answer = client.post("/api/commands", json={**CUT, "filter": {"model": "M1"}})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        batch = answer.get_json()
        assert [c["device_id"] for c in batch["commands"]] == devices, who
        with psycopg.connect(tenants.database) as conn:
            row = conn.execute(
                "SELECT operator_id, issued_by FROM command_batch WHERE batch_id = %s",
                (batch["batch_id"],),
            ).fetchone()
            issuers = conn.execute(
                "SELECT DISTINCT issued_by FROM command WHERE batch_id = %s", (batch["batch_id"],)
            ).fetchall()
        operator = tenants.operators.get(who, tenants.operators["a"])  # the shop is A's
        assert row == (operator, login(who))
        assert issuers == [(login(who),)]


@pytest.mark.parametrize("role", WALLS)
def test_a_store_account_commands_only_its_stores_devices(tenants, role):
    with tenants.client("shop", role=role) as client:
        assert client.post("/api/devices/a-1/commands", json=CUT).status_code == 201
        problem_of(client.post("/api/devices/a-2/commands", json=CUT), 404)
        problem_of(client.post("/api/commands", json={**CUT, "device_ids": ["a-1", "a-2"]}), 404)
        problem_of(client.post("/api/commands", json={**CUT, "filter": {"kind": "vehicle"}}), 422)
    assert _counts(tenants.database) == (1, 0)
