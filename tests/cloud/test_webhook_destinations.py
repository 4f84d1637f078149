"""Webhooks are no way into the cloud's own network: loopback, private, link-local and other
non-public addresses are refused when a URL is saved (a 422 naming `url`) and again at
delivery, after DNS, unless VOLTRENT_WEBHOOK_ALLOW lists them; and nothing of a receiver's
answer but its status line comes back in `last_error`."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import psycopg
import pytest

from cloud.allow_list import AllowList
from cloud.config import CloudConfig
from cloud.errors import ConfigError
from cloud.notify.destinations import reason
from tests.cloud.api_support import api_client, problem_of
from tests.cloud.test_notify import connect, notifications, notifier, running
from tests.cloud.webhook_support import LOCAL_RECEIVERS, Receiver, add_webhook
from tests.cloud.worker_support import wait_for

pytestmark = [pytest.mark.postgres]

NOT_PUBLIC = [
    "0.0.0.0", "0.1.2.3", "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1",
    "172.31.255.254", "192.168.1.1", "169.254.169.254", "100.64.0.1", "224.0.0.1",
    "239.255.255.250", "255.255.255.255", "240.0.0.1", "::", "::1", "fc00::1", "fd12::1",
    "fe80::1", "fec0::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "::ffff:169.254.169.254", "2002:7f00:1::", "64:ff9b::a00:1",
]  # fmt: skip
PUBLIC = ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"]
REFUSED_URLS = [
    "http://127.0.0.1:5432/",
    "http://10.0.0.8/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost:8080/api/health",
    "http://LocalHost/x",
    "http://0.0.0.0:1883/",
    "http://2130706433/",  # 127.0.0.1 as one number: resolved, then refused
    "http://100.64.1.1/",
    "http://224.0.0.251/",
    "http://[::1]:8080/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "https://192.168.0.1/",
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.mark.parametrize("text", NOT_PUBLIC)
def test_every_non_public_address_has_a_reason(text):
    assert reason(ipaddress.ip_address(text)) is not None


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_pass(text):
    assert reason(ipaddress.ip_address(text)) is None


def test_the_allow_list_is_read_from_the_environment():
    config = CloudConfig.from_env({"VOLTRENT_WEBHOOK_ALLOW": " Hooks.Corp. , 10.20.0.0/16,::1"})
    allow = config.webhook_allow
    assert allow.names("hooks.corp") and not allow.names("corp")
    assert allow.contains(ipaddress.ip_address("10.20.3.4"))
    assert allow.contains(ipaddress.ip_address("::ffff:10.20.3.4"))
    assert not allow.contains(ipaddress.ip_address("10.21.0.1"))
    assert CloudConfig.from_env({}).webhook_allow == AllowList()
    with pytest.raises(ConfigError, match=r"VOLTRENT_WEBHOOK_ALLOW: '10\.0\.0\.0/33' is neither"):
        CloudConfig.from_env({"VOLTRENT_WEBHOOK_ALLOW": "10.0.0.0/33"})


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_webhook_to_the_clouds_own_network_is_a_422_naming_url(database, url):
    with api_client(database) as client:
        answer = client.post("/api/webhooks", json={"name": "probe", "url": url})
        created = client.post(
            "/api/webhooks", json={"name": "ok", "url": "https://hooks.example.com/x"}
        )
        changed = client.patch(f"/api/webhooks/{created.get_json()['id']}", json={"url": url})

    for problem in (problem_of(answer, 422), problem_of(changed, 422)):
        assert [e["field"] for e in problem["errors"]] == ["url"]
        assert "refused" in problem["detail"] and "VOLTRENT_WEBHOOK_ALLOW" in problem["detail"]
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT url FROM webhook").fetchall() == [
            ("https://hooks.example.com/x",)
        ]


def test_the_422_says_what_the_host_resolves_to(database):
    with api_client(database) as client:
        answer = client.post("/api/webhooks", json={"name": "x", "url": "http://localhost/"})
    detail = problem_of(answer, 422)["detail"]
    assert "localhost resolves to 127.0.0.1, a loopback address" in detail


def test_an_allowed_on_premise_receiver_is_accepted(database):
    allow = AllowList.parse("localhost, 10.8.0.0/16")
    with api_client(database, webhook_allow=allow) as client:
        for url in ("http://localhost:9000/", "http://10.8.1.2/hook"):
            answer = client.post("/api/webhooks", json={"name": "on premise", "url": url})
            assert answer.status_code == 201, answer.get_data(as_text=True)
        answer = client.post("/api/webhooks", json={"name": "no", "url": "http://10.9.1.2/"})
        problem_of(answer, 422)


def test_a_loopback_webhook_slipped_in_by_sql_is_refused_at_delivery(database, receiver):
    with connect(database) as conn:
        by_address = add_webhook(conn, receiver.url("/by-address"))
        by_name = add_webhook(conn, f"http://localhost:{receiver.port}/by-name")
        _test_delivery(conn, by_address)
        _test_delivery(conn, by_name)
    with running(notifier(database, allow=AllowList())):
        rows = wait_for(lambda: _attempted(database, 2), "an attempt at each")

    assert receiver.got() == []
    errors = {r["webhook_id"]: r["last_error"] for r in rows}
    assert errors[by_address].startswith("refused: 127.0.0.1 is a loopback address")
    assert errors[by_name].startswith(
        "refused: localhost resolves to 127.0.0.1, a loopback address"
    )
    assert all(r["last_status"] is None for r in rows)


def test_a_receiver_allowed_then_disallowed_is_refused_at_delivery(database, receiver):
    with api_client(database, webhook_allow=LOCAL_RECEIVERS) as client:
        created = client.post("/api/webhooks", json={"name": "x", "url": receiver.url("/x")})
        assert created.status_code == 201, created.get_data(as_text=True)
        client.post(f"/api/webhooks/{created.get_json()['id']}/test")
    with running(notifier(database, allow=AllowList())):
        (row,) = wait_for(lambda: _attempted(database, 1), "an attempt")

    assert receiver.got() == []
    assert row["last_error"].startswith("refused: 127.0.0.1 is a loopback address")


def test_last_error_is_the_status_line_never_the_answers_body(database, conn, receiver):
    marker = "INTERNAL-ANSWER-7f3a"
    receiver.reply_body = f"<h1>{marker}</h1> db password=hunter2".encode() * 50
    receiver.answers["/fails"] = [500] * 10
    receiver.answers["/moves"] = [302] * 10
    receiver.reply_headers = {"Location": receiver.url(f"/elsewhere?{marker}")}
    fails = add_webhook(conn, receiver.url("/fails"))
    moves = add_webhook(conn, receiver.url("/moves"))
    _test_delivery(conn, fails)
    _test_delivery(conn, moves)
    with running(notifier(database)):
        rows = wait_for(lambda: _attempted(database, 2), "both attempted")

    errors = {r["webhook_id"]: (r["last_status"], r["last_error"]) for r in rows}
    assert errors == {
        fails: (500, "HTTP 500 Internal Server Error"),
        moves: (302, "HTTP 302 Found (redirects are not followed)"),
    }
    assert [r.path for r in receiver.got()].count("/elsewhere") == 0


def test_the_request_names_the_host_of_the_url(database, conn, receiver):
    _test_delivery(conn, add_webhook(conn, f"http://localhost:{receiver.port}/named"))
    with running(notifier(database, allow=AllowList.parse("localhost"))):
        (got,) = wait_for(lambda: receiver.got("/named"), "the delivery")

    assert got.host == f"localhost:{receiver.port}"


@pytest.fixture
def conn(database) -> Iterator[psycopg.Connection]:
    with connect(database) as conn:
        yield conn


def _test_delivery(conn: psycopg.Connection, webhook_id: int) -> None:
    """A test notification queued for the webhook, as POST .../test writes it."""
    conn.execute(
        """INSERT INTO alarm_notification (webhook_id, event, payload)
           VALUES (%s, 'test', '{"event": "test"}')""",
        (webhook_id,),
    )


def _attempted(database: str, count: int) -> list[dict] | None:
    rows = [r for r in notifications(database) if r["attempts"] >= 1 and r["last_error"]]
    return rows if len(rows) >= count else None
