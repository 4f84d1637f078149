"""The webhook API on a real PostgreSQL: webhooks and their secrets, the deliveries the
trigger queues for them, retry and test; bad input is a 422 naming the field. (Delivering
is the notifier's, tested in test_notify.py.)"""

from __future__ import annotations

import itertools
import json
from typing import Any

import psycopg
import pytest

from tests.cloud.api_support import add_device, api_client, problem_of
from tests.cloud.tenancy_support import PLATFORM, ROOT_LOGIN

pytestmark = [pytest.mark.postgres]

URL = "https://hooks.example.com/voltrent"


@pytest.fixture
def client(database):
    with psycopg.connect(database, autocommit=True) as conn:
        add_device(conn, "pack-1")
    with api_client(database) as client:
        yield client


def create(client, **body) -> dict[str, Any]:
    answer = client.post("/api/webhooks", json={"name": "ops", "url": URL, **body})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


_subjects = itertools.count()


def raise_alarm(database: str, type_: str = "low_soc", severity: str = "warning") -> None:
    """A new alarm and its 'raised' event, as the rules engine writes them."""
    with psycopg.connect(database) as conn:
        alarm_id = conn.execute(
            """INSERT INTO alarm (device_id, type, subject, severity, first_at, latest_at,
                                  message)
               VALUES ('pack-1', %s, %s, %s, now(), now(), 'test') RETURNING id""",
            (type_, f"s{next(_subjects)}", severity),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO alarm_event (alarm_id, event, time) VALUES (%s, 'raised', now())",
            (alarm_id,),
        )


def set_delivery(database: str, delivery_id: int, **columns: Any) -> None:
    with psycopg.connect(database) as conn:
        for column, value in columns.items():
            conn.execute(
                f"UPDATE alarm_notification SET {column} = %s WHERE id = %s",  # test-only names
                (value, delivery_id),
            )


def fields_of(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem["errors"]}


# --- webhooks -----------------------------------------------------------------------------


def test_create_shows_the_generated_secret_once_then_only_its_hint(client):
    answer = client.post("/api/webhooks", json={"name": "ops room", "url": URL})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    created = answer.get_json()
    assert len(created["secret"]) >= 32 and created["secret_hint"] == created["secret"][-4:]
    assert answer.headers["Location"].endswith(f"/api/webhooks/{created['id']}")
    expected = {key: value for key, value in created.items() if key != "secret"}
    defaults = {"name": "ops room", "url": URL, "types": None, "min_severity": "info",
                "operator": None, "enabled": True, "pending": 0, "failed": 0,
                "operator_id": PLATFORM}  # fmt: skip
    assert {key: expected[key] for key in defaults} == defaults
    fetched = client.get(f"/api/webhooks/{created['id']}").get_json()
    assert fetched == expected and "secret" not in fetched
    listed = client.get("/api/webhooks").get_json()
    assert listed == [expected]
    assert created["secret"] not in json.dumps(listed)
    another = create(client)
    assert another["secret"] != created["secret"]


def test_create_with_every_field(client):
    created = create(
        client, secret="a-secret-of-my-own-1234", types=["tamper", "vibration", "tamper"],
        min_severity="warning", operator=ROOT_LOGIN, enabled=False,
    )  # fmt: skip
    assert created["secret"] == "a-secret-of-my-own-1234" and created["secret_hint"] == "1234"
    assert created["types"] == ["tamper", "vibration"]
    assert (created["min_severity"], created["operator"], created["enabled"]) == (
        "warning", ROOT_LOGIN, False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"url": "ftp://hooks.example.com/x"}, "url", "http or https"),
        ({"url": "hooks.example.com/x"}, "url", "http or https"),
        ({"url": "https://"}, "url", "must name a host"),
        ({"url": "https://hooks.example.com:99999/x"}, "url", "not a usable URL"),
        ({"url": "https://hooks.example.com/a b"}, "url", "spaces"),
        ({"url": "https://h.example.com/" + "x" * 2000}, "url", "Longer than maximum"),
        ({"types": ["low_soc", "low_battery"]}, "types.1", "Must be one of"),
        ({"types": []}, "types", "or null for all"),
        ({"min_severity": "major"}, "min_severity", "Must be one of"),
        ({"secret": "short"}, "secret", "Length must be between 16 and 200"),
        ({"name": ""}, "name", "Length"),
        ({"operator": ""}, "operator", "Length"),
        ({"enabled": "maybe"}, "enabled", "boolean"),
        ({"colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_bad_webhooks_are_422_naming_the_field(client, body, field, says):
    answer = client.post("/api/webhooks", json={"name": "ops", "url": URL, **body})
    problem = problem_of(answer, 422)
    assert fields_of(problem) == {field}, problem
    assert says in problem["detail"], problem["detail"]


def test_name_and_url_are_required(client):
    problem = problem_of(client.post("/api/webhooks", json={}), 422)
    assert fields_of(problem) == {"name", "url"}


def test_list_is_paged_and_filtered(client):
    for i in range(5):
        create(client, name=f"hook {i}", enabled=i % 2 == 0)
    answer = client.get("/api/webhooks?page=2&page_size=2")
    assert [w["name"] for w in answer.get_json()] == ["hook 2", "hook 3"]
    assert json.loads(answer.headers["X-Pagination"])["total"] == 5
    enabled = client.get("/api/webhooks?enabled=true").get_json()
    assert [w["name"] for w in enabled] == ["hook 0", "hook 2", "hook 4"]
    problem = problem_of(client.get("/api/webhooks?enabld=true"), 422)
    assert fields_of(problem) == {"enabld"}


def test_patch_changes_only_what_is_given_and_null_means_every_type(client):
    created = create(client, types=["tamper"], operator=ROOT_LOGIN)
    webhook = f"/api/webhooks/{created['id']}"
    answer = client.patch(webhook, json={"name": "night shift", "min_severity": "critical"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    changed = answer.get_json()
    assert (changed["name"], changed["min_severity"], changed["types"], changed["url"]) == (
        "night shift", "critical", ["tamper"], URL,
    )  # fmt: skip
    changed = client.patch(webhook, json={"types": None, "operator": None}).get_json()
    assert changed["types"] is None and changed["operator"] is None
    assert changed["secret_hint"] == created["secret_hint"]
    assert client.get(webhook).get_json() == changed
    problem = problem_of(client.patch(webhook, json={"url": "mailto:ops@example.com"}), 422)
    assert fields_of(problem) == {"url"}
    # the secret changes only through rotate-secret
    problem = problem_of(client.patch(webhook, json={"secret": "x" * 20}), 422)
    assert fields_of(problem) == {"secret"}
    problem_of(client.patch("/api/webhooks/999", json={"name": "x"}), 404)


def test_rotate_secret_shows_the_new_one_once(client):
    created = create(client)
    rotate = f"/api/webhooks/{created['id']}/rotate-secret"
    rotated = client.post(rotate).get_json()
    assert rotated["secret"] != created["secret"]
    assert rotated["secret_hint"] == rotated["secret"][-4:]
    assert (
        client.get(f"/api/webhooks/{created['id']}").get_json()["secret_hint"]
        == (rotated["secret_hint"])
    )
    given = client.post(rotate, json={"secret": "chosen-by-a-person-9876"}).get_json()
    assert given["secret"] == "chosen-by-a-person-9876" and given["secret_hint"] == "9876"
    problem = problem_of(client.post(rotate, json={"secret": "short"}), 422)
    assert fields_of(problem) == {"secret"}
    problem_of(client.post("/api/webhooks/999/rotate-secret"), 404)


def test_delete_takes_the_deliveries_with_it(client, database):
    created = create(client)
    raise_alarm(database)
    assert client.get(f"/api/webhooks/{created['id']}").get_json()["pending"] == 1
    assert client.delete(f"/api/webhooks/{created['id']}").status_code == 204
    problem_of(client.get(f"/api/webhooks/{created['id']}"), 404)
    problem_of(client.delete(f"/api/webhooks/{created['id']}"), 404)
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM alarm_notification").fetchone()[0] == 0


# --- deliveries ---------------------------------------------------------------------------


def test_the_trigger_queues_deliveries_for_the_webhooks_that_want_them(client, database):
    everything = create(client, name="everything")
    critical = create(client, name="critical", min_severity="critical")
    tamper = create(client, name="tamper", types=["tamper"])
    raise_alarm(database, "low_soc", "warning")
    raise_alarm(database, "tamper", "critical")

    def events(webhook: dict[str, Any]) -> list[str]:
        answer = client.get(f"/api/webhooks/{webhook['id']}/deliveries")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return [d["payload"]["alarm"]["type"] for d in answer.get_json()]

    assert events(everything) == ["tamper", "low_soc"]  # newest first
    assert events(critical) == ["tamper"]
    assert events(tamper) == ["tamper"]
    delivery = client.get(f"/api/webhooks/{tamper['id']}/deliveries").get_json()[0]
    assert (delivery["state"], delivery["event"], delivery["attempts"]) == ("pending", "raised", 0)
    assert delivery["payload"]["delivery_id"] == str(delivery["id"])
    assert delivery["webhook_id"] == tamper["id"] and delivery["alarm_event_id"] is not None


def test_deliveries_are_paged_and_filtered_by_state_and_event(client, database):
    webhook = create(client)
    for _ in range(4):
        raise_alarm(database)
    deliveries = f"/api/webhooks/{webhook['id']}/deliveries"
    ids = [d["id"] for d in client.get(deliveries).get_json()]
    set_delivery(database, ids[0], state="delivered")
    set_delivery(database, ids[1], state="failed", last_status=500, last_error="HTTP 500")
    answer = client.get(f"{deliveries}?state=pending&page_size=1")
    assert [d["id"] for d in answer.get_json()] == [ids[2]]
    assert json.loads(answer.headers["X-Pagination"])["total"] == 2
    failed = client.get(f"{deliveries}?state=failed").get_json()
    assert [(d["id"], d["last_status"], d["last_error"]) for d in failed] == [
        (ids[1], 500, "HTTP 500")
    ]
    assert client.get(f"{deliveries}?event=test").get_json() == []
    assert fields_of(problem_of(client.get(f"{deliveries}?state=lost"), 422)) == {"state"}
    assert fields_of(problem_of(client.get(f"{deliveries}?status=failed"), 422)) == {"status"}
    problem_of(client.get("/api/webhooks/999/deliveries"), 404)
    assert client.get(f"/api/webhooks/{webhook['id']}").get_json()["failed"] == 1


def test_only_a_failed_delivery_can_be_retried(client, database):
    webhook = create(client)
    other = create(client, name="other")
    for _ in range(3):
        raise_alarm(database)
    failed, delivered, pending = (
        d["id"] for d in client.get(f"/api/webhooks/{webhook['id']}/deliveries").get_json()
    )
    set_delivery(database, failed, state="failed", attempts=200, last_error="HTTP 500")
    set_delivery(database, delivered, state="delivered")
    retry = f"/api/webhooks/{webhook['id']}/deliveries/{{}}/retry"

    answer = client.post(retry.format(failed))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    retried = answer.get_json()
    assert (retried["state"], retried["attempts"]) == ("pending", 0)
    assert retried["retried_at"] is not None and retried["last_error"] == "HTTP 500"

    assert "delivered already" in problem_of(client.post(retry.format(delivered)), 409)["detail"]
    assert "still pending" in problem_of(client.post(retry.format(pending)), 409)["detail"]
    assert "still pending" in problem_of(client.post(retry.format(failed)), 409)["detail"]
    problem_of(client.post(retry.format(999)), 404)
    # a delivery of another webhook is not found under this one
    other_delivery = client.get(f"/api/webhooks/{other['id']}/deliveries").get_json()[0]["id"]
    problem_of(client.post(retry.format(other_delivery)), 404)
    problem_of(client.post(f"/api/webhooks/999/deliveries/{failed}/retry"), 404)


def test_a_test_notification_is_queued_without_an_alarm(client):
    webhook = create(client)
    answer = client.post(f"/api/webhooks/{webhook['id']}/test", json={"note": "checking"})
    assert answer.status_code == 202, answer.get_data(as_text=True)
    queued = answer.get_json()
    assert (queued["event"], queued["state"], queued["alarm_event_id"]) == ("test", "pending", None)
    payload = queued["payload"]
    assert payload["delivery_id"] == str(queued["id"]) and payload["alarm"] is None
    assert (payload["event"], payload["by"], payload["note"]) == ("test", ROOT_LOGIN, "checking")
    assert payload["at"].endswith("Z")
    default = client.post(f"/api/webhooks/{webhook['id']}/test").get_json()
    assert default["payload"]["note"] and default["payload"]["by"] == ROOT_LOGIN
    listed = client.get(f"/api/webhooks/{webhook['id']}/deliveries?event=test").get_json()
    assert [d["id"] for d in listed] == [default["id"], queued["id"]]

    problem = problem_of(client.post(f"/api/webhooks/{webhook['id']}/test",
                                     json={"note": "x" * 501}), 422)  # fmt: skip
    assert fields_of(problem) == {"note"}
    client.patch(f"/api/webhooks/{webhook['id']}", json={"enabled": False})
    assert (
        "disabled" in problem_of(client.post(f"/api/webhooks/{webhook['id']}/test"), 409)["detail"]
    )
    problem_of(client.post("/api/webhooks/999/test"), 404)
