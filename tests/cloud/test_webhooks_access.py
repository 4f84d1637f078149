"""Who may see and change which webhooks, and which alarms reach them: sibling operators A and
B under the platform never see each other's webhooks or deliveries, a webhook follows the
mutes of an account of the caller's subtree only, and an alarm reaches the webhooks of the
operators above its device, not a sibling's."""

from __future__ import annotations

import psycopg
import pytest

from tests.cloud.api_support import api_client, problem_of
from tests.cloud.tenancy_support import PLATFORM, ROOT_LOGIN, WALL_ROLES, holding, siblings

pytestmark = [pytest.mark.postgres]

URL = "https://hooks.example.com/voltrent"


@pytest.fixture(params=WALL_ROLES, ids=list(WALL_ROLES))
def client(database, request):
    with api_client(database, api_db_role=WALL_ROLES[request.param]) as client:
        yield client


def create(client, headers=None, **body) -> dict:
    answer = client.post("/api/webhooks", json={"name": "ops", "url": URL, **body}, headers=headers)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


def ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [item["id"] for item in answer.get_json()]


def test_without_a_bearer_is_a_401_and_without_the_permission_a_403(database):
    tenants = siblings(database)
    reader = holding(database, tenants.a, "reader@a.test", ["webhook.read"])
    nothing = holding(database, tenants.a, "alarms@a.test", ["alarm.read"])
    with api_client(database, secret=None) as client:
        webhook = create(client, tenants.as_a)
        path = f"/api/webhooks/{webhook['id']}"
        for read in ("/api/webhooks", path, f"{path}/deliveries"):
            problem_of(client.get(read), 401)
            assert "webhook.read" in problem_of(client.get(read, headers=nothing), 403)["detail"]
            assert client.get(read, headers=reader).status_code == 200
        writes = [("post", "/api/webhooks"), ("patch", path), ("delete", path),
                  ("post", f"{path}/rotate-secret"), ("post", f"{path}/test"),
                  ("post", f"{path}/deliveries/1/retry")]  # fmt: skip
        for method, write in writes:
            problem_of(getattr(client, method)(write, json={}), 401)
            denied = problem_of(getattr(client, method)(write, json={}, headers=reader), 403)
            assert "webhook.write" in denied["detail"]


def test_a_sibling_operators_webhooks_and_deliveries_are_not_found(client, database):
    tenants = siblings(database)
    mine = create(client, tenants.as_a, name="a")
    theirs = create(client, tenants.as_b, name="b")
    platform = create(client, name="platform")
    assert (mine["operator_id"], theirs["operator_id"], platform["operator_id"]) == (
        tenants.a, tenants.b, PLATFORM,
    )  # fmt: skip
    test = client.post(f"/api/webhooks/{theirs['id']}/test", headers=tenants.as_b)
    assert test.status_code == 202, test.get_data(as_text=True)
    delivery = test.get_json()["id"]

    assert ids(client.get("/api/webhooks", headers=tenants.as_a)) == [mine["id"]]
    assert ids(client.get("/api/webhooks")) == [mine["id"], theirs["id"], platform["id"]]
    path = f"/api/webhooks/{theirs['id']}"
    for answer in (
        client.get(path, headers=tenants.as_a),
        client.patch(path, json={"enabled": False}, headers=tenants.as_a),
        client.delete(path, headers=tenants.as_a),
        client.post(f"{path}/rotate-secret", json={}, headers=tenants.as_a),
        client.get(f"{path}/deliveries", headers=tenants.as_a),
        client.post(f"{path}/test", json={}, headers=tenants.as_a),
        client.post(f"{path}/deliveries/{delivery}/retry", headers=tenants.as_a),
        # B's delivery under A's own webhook is not found either
        client.post(
            f"/api/webhooks/{mine['id']}/deliveries/{delivery}/retry", headers=tenants.as_a
        ),
        client.get(f"/api/webhooks/{platform['id']}", headers=tenants.as_a),
    ):
        problem_of(answer, 404)
    unchanged = client.get(path, headers=tenants.as_b).get_json()
    assert (unchanged["enabled"], unchanged["secret_hint"]) == (True, theirs["secret_hint"])
    with psycopg.connect(database) as conn:
        count = conn.execute("SELECT count(*) FROM alarm_notification").fetchone()[0]
    assert count == 1
    refused = client.post(
        "/api/webhooks", json={"name": "x", "url": URL, "operator_id": tenants.b},
        headers=tenants.as_a,
    )  # fmt: skip
    assert problem_of(refused, 404)["detail"] == f"no operator {tenants.b}"


def test_a_webhook_follows_the_mutes_of_an_account_of_the_callers_subtree_only(client, database):
    tenants = siblings(database)
    for login in ("admin@b.test", ROOT_LOGIN, "nobody@a.test"):
        problem = problem_of(
            client.post("/api/webhooks", json={"name": "x", "url": URL, "operator": login},
                        headers=tenants.as_a), 422,
        )  # fmt: skip
        assert problem["errors"][0]["field"] == "operator" and login in problem["detail"]
    webhook = create(client, tenants.as_a, operator="admin@a.test")
    assert webhook["operator"] == "admin@a.test"
    path = f"/api/webhooks/{webhook['id']}"
    problem = problem_of(client.patch(path, json={"operator": "admin@b.test"},
                                      headers=tenants.as_a), 422)  # fmt: skip
    assert problem["errors"][0]["field"] == "operator"
    assert client.get(path, headers=tenants.as_a).get_json()["operator"] == "admin@a.test"
    # the platform may name any account below it
    assert create(client, operator="admin@b.test")["operator"] == "admin@b.test"


def test_an_alarm_reaches_the_webhooks_above_its_device_not_a_siblings(client, database):
    tenants = siblings(database)
    for_a = create(client, tenants.as_a, name="a")
    for_b = create(client, tenants.as_b, name="b")
    for_platform = create(client, name="platform")
    with psycopg.connect(database) as conn:
        alarm_id = conn.execute(
            "INSERT INTO alarm (device_id, type, subject, severity, first_at, latest_at, message)"
            " VALUES ('pack-b', 'tamper', '', 'critical', now(), now(), 'lid open') RETURNING id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO alarm_event (alarm_id, event, time) VALUES (%s, 'raised', now())",
            (alarm_id,),
        )
        conn.commit()
        rows = conn.execute(
            "SELECT webhook_id FROM alarm_notification WHERE event = 'raised' ORDER BY webhook_id"
        ).fetchall()
    assert [row[0] for row in rows] == [for_b["id"], for_platform["id"]]
    assert for_a["id"] not in [row[0] for row in rows]
    listed = client.get(f"/api/webhooks/{for_b['id']}/deliveries", headers=tenants.as_b)
    assert [d["payload"]["alarm"]["id"] for d in listed.get_json()] == [alarm_id]
    nothing = client.get(f"/api/webhooks/{for_a['id']}/deliveries", headers=tenants.as_a)
    assert nothing.get_json() == []


def _store_staff(database: str, tenants) -> tuple[dict, str]:
    """Headers of a store account of A holding every webhook and alarm permission, and its
    login; pack-a moves into its store, pack-a2 (also A's) stays outside."""
    with psycopg.connect(database, autocommit=True) as conn:
        store = conn.execute(
            "INSERT INTO store (operator_id, name) VALUES (%s, 'north') RETURNING id", (tenants.a,)
        ).fetchone()[0]
        conn.execute("UPDATE device SET store_id = %s WHERE id = 'pack-a'", (store,))
        conn.execute("INSERT INTO device (id, operator_id) VALUES ('pack-a2', %s)", (tenants.a,))
    staff = holding(
        database, tenants.a, "staff@a.test", ["webhook.read", "webhook.write", "alarm.read"]
    )
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("UPDATE account SET store_id = %s WHERE login = 'staff@a.test'", (store,))
    return staff, "staff@a.test"


def _raise(database: str, device_id: str) -> int:
    """A critical tamper alarm raised on ``device_id``, its id."""
    with psycopg.connect(database, autocommit=True) as conn:
        alarm_id = conn.execute(
            "INSERT INTO alarm (device_id, type, subject, severity, first_at, latest_at, message)"
            " VALUES (%s, 'tamper', '', 'critical', now(), now(), 'lid open') RETURNING id",
            (device_id,),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO alarm_event (alarm_id, event, time) VALUES (%s, 'raised', now())",
            (alarm_id,),
        )
    return alarm_id


def test_a_store_account_neither_sees_nor_changes_the_operators_webhooks(client, database):
    tenants = siblings(database)
    staff, _ = _store_staff(database, tenants)
    webhook = create(client, tenants.as_a, name="a")
    _raise(database, "pack-a2")  # another store's alarm, in the webhook's deliveries
    path = f"/api/webhooks/{webhook['id']}"
    delivery = client.get(f"{path}/deliveries", headers=tenants.as_a).get_json()[0]
    reads = ("/api/webhooks", path, f"{path}/deliveries")
    writes = [("post", "/api/webhooks", {"name": "mine", "url": URL}),
              ("patch", path, {"url": "https://thief.example.com/"}),
              ("post", f"{path}/rotate-secret", {}), ("delete", path, None),
              ("post", f"{path}/test", {}),
              ("post", f"{path}/deliveries/{delivery['id']}/retry", None)]  # fmt: skip
    for read in reads:
        assert "no account of a store" in problem_of(client.get(read, headers=staff), 403)["detail"]
    for method, write, body in writes:
        problem_of(getattr(client, method)(write, json=body, headers=staff), 403)
    after = client.get(path, headers=tenants.as_a).get_json()
    assert (after["url"], after["secret_hint"]) == (URL, webhook["secret"][-4:])
    assert ids(client.get("/api/webhooks", headers=tenants.as_a)) == [webhook["id"]]
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM alarm_notification").fetchone()[0] == 1


def test_a_store_accounts_mutes_silence_no_webhook(client, database):
    tenants = siblings(database)
    staff, login = _store_staff(database, tenants)
    problem = problem_of(
        client.post("/api/webhooks", json={"name": "x", "url": URL, "operator": login},
                    headers=tenants.as_a), 422,
    )  # fmt: skip
    assert problem["errors"][0]["field"] == "operator" and "a store" in problem["detail"]
    # one that followed the account before it joined the store
    with psycopg.connect(database, autocommit=True) as conn:
        webhook_id = conn.execute(
            "INSERT INTO webhook (name, url, secret, operator_id, operator)"
            " VALUES ('old', %s, %s, %s, %s) RETURNING id",
            (URL, "s" * 32, tenants.a, login),
        ).fetchone()[0]
    assert client.put("/api/alarm-mutes/tamper", json={}, headers=staff).status_code == 200
    alarm_id = _raise(database, "pack-a2")
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "SELECT payload -> 'alarm' ->> 'id' FROM alarm_notification WHERE webhook_id = %s",
            (webhook_id,),
        ).fetchall()
    assert rows == [(str(alarm_id),)]
