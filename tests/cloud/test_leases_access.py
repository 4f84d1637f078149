"""Who may set and end a lease term, and who may turn a device's cut-off on or change it."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from tests.cloud.api_support import problem_of
from tests.cloud.tenancy_support import WALLS, login, make_tenancy

pytestmark = [pytest.mark.postgres]

URL = "/api/devices/a-2/lease"
TERM = {"leased": True, "leased_until": "2030-01-01T00:00:00Z", "cutoff_when_not_leased": False}
CUTTING = {**TERM, "cutoff_when_not_leased": True}


@pytest.fixture
def tenants(database):
    return make_tenancy(database)


def test_every_lease_endpoint_needs_a_bearer(tenants):
    with tenants.client(None) as client:
        for answer in (client.get(URL), client.put(URL, json=TERM), client.delete(URL)):
            problem_of(answer, 401)


def test_setting_and_ending_need_lease_write_and_reading_device_read(tenants):
    with tenants.client("viewer") as client:
        assert "lease.write" in problem_of(client.put(URL, json=TERM), 403)["detail"]
        problem_of(client.delete(URL), 403)
        problem_of(client.get(URL), 404)  # may read: there is no term yet
    with tenants.client("blind") as client:
        assert "device.read" in problem_of(client.get(URL), 403)["detail"]
    with tenants.client("leasing") as client:
        answer = client.put(URL, json=TERM)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.get_json()["updated_by"] == login("leasing")
        ended = client.delete(URL).get_json()
        assert ended["leased"] is False and ended["updated_by"] == login("leasing")
    with tenants.client("viewer") as client:
        assert client.get(URL).get_json() == ended


def test_turning_cutoff_on_or_changing_it_needs_device_command_cutoff(tenants):
    with tenants.client("leasing") as client:
        refused = problem_of(client.put(URL, json=CUTTING), 403)
        assert "device.command.cutoff" in refused["detail"]
        problem_of(client.get(URL), 404)  # nothing was written
    with tenants.client("a") as client:
        version = client.put(URL, json=CUTTING).get_json()["version"]
    with tenants.client("leasing") as client:
        # the same setting again still turns cut-off on; turning it off changes it
        problem_of(client.put(URL, json=CUTTING), 403)
        problem_of(client.put(URL, json=TERM), 403)
        assert client.get(URL).get_json()["version"] == version
        # ending the lease keeps the setting: lease.write is enough
        ended = client.delete(URL).get_json()
        assert ended["cutoff_when_not_leased"] is True and ended["version"] > version
    with tenants.client("a") as client:
        answer = client.put(URL, json=TERM)
        assert answer.status_code == 200 and answer.get_json()["cutoff_when_not_leased"] is False


@pytest.mark.parametrize("role", WALLS)
def test_a_siblings_and_other_stores_lease_terms_are_404(tenants, role):
    with tenants.client("a") as client:
        assert client.put("/api/devices/a-1/lease", json=TERM).status_code == 200
        assert client.put(URL, json=TERM).status_code == 200
    for who in ("b", "a1", "shop"):
        with tenants.client(who, role=role) as client:
            problem_of(client.get(URL), 404)
            problem_of(client.put(URL, json=TERM), 404)
            problem_of(client.delete(URL), 404)
    with tenants.client("shop", role=role) as client:
        assert client.get("/api/devices/a-1/lease").get_json()["leased"] is True
    with tenants.client("a") as client:
        assert client.get(URL).get_json()["updated_by"] == login("a")


def test_a_first_term_waits_for_a_transfer_under_way_and_then_finds_no_device(tenants):
    """A transfer holds its devices locked while it checks that none is leased; a first
    term (no lease_term row to lock) written meanwhile must not slip in under the old
    owner: it waits, and answers 404 once the device is another operator's."""
    outcome: dict[str, object] = {}

    def put_term() -> None:
        with tenants.client("a") as client:
            outcome["answer"] = client.put(URL, json=TERM)

    with psycopg.connect(tenants.database) as transfer:
        transfer.execute("SELECT 1 FROM device WHERE id = 'a-2' FOR UPDATE")
        transfer.execute(
            "UPDATE device SET operator_id = %s WHERE id = 'a-2'", (tenants.operators["b"],)
        )
        writer = threading.Thread(target=put_term)
        writer.start()
        deadline = time.monotonic() + 30
        while writer.is_alive() and not waiting_on_a_lock(tenants.database):
            assert time.monotonic() < deadline, "the term neither waited nor finished"
            time.sleep(0.02)
        transfer.commit()
    writer.join(30)
    problem_of(outcome["answer"], 404)
    with psycopg.connect(tenants.database) as conn:
        assert conn.execute("SELECT count(*) FROM lease_term").fetchone() == (0,)


def waiting_on_a_lock(database: str) -> bool:
    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return row[0] > 0
