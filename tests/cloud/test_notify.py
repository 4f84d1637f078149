"""Alarm notifications end to end: alarm_event rows written as the rules engine writes them,
the trigger's outbox, real Notifiers on a real PostgreSQL, and real HTTP receivers that
check every signature. Timings are small constructor arguments; nothing here measures time,
every wait is a poll with a deadline."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from cloud.notify import Notifier, sign, verify
from cloud.notify.notifier import backoff
from tests.cloud.api_support import add_device, api_client
from tests.cloud.tenancy_support import ROOT_LOGIN
from tests.cloud.webhook_support import (
    LOCAL_RECEIVERS,
    SECRET,
    Receiver,
    add_webhook,
    closed_port,
)
from tests.cloud.worker_support import wait_for

pytestmark = [pytest.mark.postgres]

# Fast enough for tests, and a lease far longer than any request here can take.
FAST = {"timeout_s": 1.0, "lease_s": 30.0, "sweep_s": 0.2, "backoff_s": 0.05,
        "max_backoff_s": 0.2, "restart_s": 0.2}  # fmt: skip
T = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


# --- a real HTTP receiver -----------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def silent_server() -> socket.socket:
    """A listening socket that never accepts: connections complete in the kernel's backlog
    and never get an answer. Closing it resets them."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


# --- notifiers in a thread of their own ---------------------------------------------------


@contextmanager
def running(*notifiers: Notifier) -> Iterator[None]:
    """Run the notifiers on one event loop in a thread; cancel them afterwards and fail on
    anything but their cancellation."""
    started = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        state["loop"], state["stop"] = asyncio.get_running_loop(), asyncio.Event()
        tasks = [asyncio.create_task(n.run()) for n in notifiers]
        started.set()
        await state["stop"].wait()
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        state["errors"] = [r for r in results if not isinstance(r, asyncio.CancelledError)]

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(30)
        assert not thread.is_alive(), "a notifier did not stop when cancelled"
    assert state["errors"] == []


def notifier(database: str, worker_id: str = "w1", **settings: Any) -> Notifier:
    """A notifier with FAST timings that may deliver to the local receivers."""
    return Notifier(database, worker_id=worker_id, **{**FAST, "allow": LOCAL_RECEIVERS, **settings})


# --- rows as the rules engine writes them -------------------------------------------------


def connect(database: str) -> psycopg.Connection:
    return psycopg.connect(database, autocommit=True)


def raise_alarm(
    conn: psycopg.Connection, device_id: str, type_: str, *, severity: str = "warning",
    subject: str = "", time: datetime = T, value: float | None = 1.0,
) -> int:  # fmt: skip
    """A new alarm: its row, its first occurrence, then its 'raised' event, in one go."""
    with conn.transaction():
        alarm_id = conn.execute(
            """INSERT INTO alarm (device_id, type, subject, severity, first_at, latest_at,
                                  value, threshold, message)
               VALUES (%s, %s, %s, %s, %s, %s, %s, 0.5, %s) RETURNING id""",
            (device_id, type_, subject, severity, time, time, value, f"{type_} on {device_id}"),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO alarm_occurrence (alarm_id, n, time, value) VALUES (%s, 1, %s, %s)",
            (alarm_id, time, value),
        )
        conn.execute(
            "INSERT INTO alarm_event (alarm_id, event, time) VALUES (%s, 'raised', %s)",
            (alarm_id, time),
        )
    return alarm_id


def repeat_alarm(conn: psycopg.Connection, alarm_id: int, time: datetime, value: float) -> None:
    with conn.transaction():
        n = conn.execute(
            """UPDATE alarm SET count = count + 1, active = true, latest_at = %s, value = %s,
                                updated_at = now()
               WHERE id = %s RETURNING count""",
            (time, value, alarm_id),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO alarm_occurrence (alarm_id, n, time, value) VALUES (%s, %s, %s, %s)",
            (alarm_id, n, time, value),
        )
        conn.execute(
            "INSERT INTO alarm_event (alarm_id, event, time) VALUES (%s, 'repeated', %s)",
            (alarm_id, time),
        )


def clear_alarm(conn: psycopg.Connection, alarm_id: int, time: datetime) -> None:
    """The condition went away, on a type that auto-clears: resolved by 'auto'."""
    with conn.transaction():
        conn.execute(
            """UPDATE alarm SET active = false, cleared_at = %s, state = 'resolved',
                                resolved_at = now(), resolved_by = 'auto',
                                resolution_note = 'the condition cleared', updated_at = now()
               WHERE id = %s""",
            (time, alarm_id),
        )
        conn.execute(
            """INSERT INTO alarm_event (alarm_id, event, time, by)
               VALUES (%s, 'cleared', %s, 'auto')""",
            (alarm_id, time),
        )


def notifications(database: str, webhook_id: int | None = None) -> list[dict[str, Any]]:
    with psycopg.connect(database, row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute(
            """SELECT * FROM alarm_notification
               WHERE %(w)s::bigint IS NULL OR webhook_id = %(w)s ORDER BY id""",
            {"w": webhook_id},
        ).fetchall()


def all_in_state(database: str, state: str, count: int, webhook_id: int | None = None):
    rows = notifications(database, webhook_id)
    return len(rows) == count and all(r["state"] == state for r in rows) and rows


@pytest.fixture
def conn(database) -> Iterator[psycopg.Connection]:
    with connect(database) as conn:
        for device_id in ("pack-1", "pack-2", "pack-3"):
            add_device(conn, device_id)
        yield conn


# --- signing ------------------------------------------------------------------------------


def test_a_signature_verifies_only_for_its_secret_body_and_time():
    body = b'{"event":"raised"}'
    signature = sign(SECRET, 1_800_000_000, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify(SECRET, "1800000000", body, signature, now=1_800_000_100)
    assert not verify("another-secret-0123456789", "1800000000", body, signature,
                      now=1_800_000_000)  # fmt: skip
    assert not verify(SECRET, "1800000000", body + b" ", signature, now=1_800_000_000)
    assert not verify(SECRET, "1800000001", body, signature, now=1_800_000_000)
    # a replay of a captured request, ten minutes later
    assert not verify(SECRET, "1800000000", body, signature, now=1_800_000_600)
    assert not verify(SECRET, "soon", body, signature, now=1_800_000_000)


def test_backoff_doubles_up_to_its_cap_with_jitter():
    rng = random.Random(7)
    for attempts, low, high in [(1, 2.5, 5.0), (2, 5.0, 10.0), (4, 20.0, 40.0), (30, 300, 600)]:
        delays = [backoff(attempts, base_s=5.0, max_s=600.0, rng=rng) for _ in range(50)]
        assert all(low <= d <= high for d in delays), (attempts, delays)
        assert len(set(delays)) > 1  # jitter: retries of many receivers do not line up


# --- the trigger: what goes to which webhook ----------------------------------------------


def test_types_min_severity_mutes_and_disabled_decide_who_is_notified(database, conn, receiver):
    every = add_webhook(conn, receiver.url("/every"))
    vibration_only = add_webhook(conn, receiver.url("/vibration"), types=["vibration"])
    critical_only = add_webhook(conn, receiver.url("/critical"), min_severity="critical")
    follows_ops = add_webhook(conn, receiver.url("/ops"), operator="ops")
    disabled = add_webhook(conn, receiver.url("/disabled"), enabled=False)
    conn.execute("""INSERT INTO alarm_mute (operator, type, until) VALUES
                    ('ops', 'low_soc', NULL),
                    ('ops', 'vibration', now() + interval '1 hour'),
                    ('ops', 'tamper', now() - interval '1 hour'),
                    ('someone-else', 'cell_over_voltage', NULL)""")
    raise_alarm(conn, "pack-1", "low_soc", severity="warning")
    raise_alarm(conn, "pack-1", "vibration", severity="warning")
    raise_alarm(conn, "pack-2", "tamper", severity="critical")
    raise_alarm(conn, "pack-3", "cell_over_voltage", severity="critical")

    def types_for(webhook_id: int) -> list[str]:
        return [n["payload"]["alarm"]["type"] for n in notifications(database, webhook_id)]

    everything = ["low_soc", "vibration", "tamper", "cell_over_voltage"]
    assert types_for(every) == everything
    assert types_for(vibration_only) == ["vibration"]
    assert types_for(critical_only) == ["tamper", "cell_over_voltage"]
    # muted for good, muted for an hour: left out; a mute that ran out, or someone else's: sent
    assert types_for(follows_ops) == ["tamper", "cell_over_voltage"]
    assert types_for(disabled) == []

    with running(notifier(database)):
        wait_for(lambda: all_in_state(database, "delivered", 9), "9 deliveries")
    by_path = {path: [r.payload["alarm"]["type"] for r in receiver.got(path)]
               for path in ("/every", "/vibration", "/critical", "/ops")}  # fmt: skip
    assert by_path == {"/every": everything, "/vibration": ["vibration"],
                       "/critical": ["tamper", "cell_over_voltage"],
                       "/ops": ["tamper", "cell_over_voltage"]}  # fmt: skip
    assert all(r.verified for r in receiver.got())


def test_the_payload_shows_the_alarm_as_it_was_at_each_event(database, conn, receiver):
    add_webhook(conn, receiver.url("/hook"))
    alarm_id = raise_alarm(conn, "pack-1", "low_soc", value=9.5)
    repeat_alarm(conn, alarm_id, T + timedelta(minutes=5), value=8.0)
    clear_alarm(conn, alarm_id, T + timedelta(minutes=9))
    # the row sent after the fact must not change what the earlier events said
    with running(notifier(database)):
        wait_for(lambda: all_in_state(database, "delivered", 3), "3 deliveries")

    got = receiver.got("/hook")
    assert [r.event for r in got] == ["raised", "repeated", "cleared"]
    raised, repeated, cleared = (r.payload for r in got)
    ids = [n["id"] for n in notifications(database)]
    assert [p["delivery_id"] for p in (raised, repeated, cleared)] == [str(i) for i in ids]
    assert [r.delivery for r in got] == [str(i) for i in ids]
    assert raised["alarm"] == {
        "id": alarm_id, "device_id": "pack-1", "type": "low_soc", "subject": "",
        "severity": "warning", "state": "open", "active": True, "count": 1,
        "first_at": "2026-11-23T06:00:00.000Z", "latest_at": "2026-11-23T06:00:00.000Z",
        "cleared_at": None, "value": 9.5, "threshold": 0.5, "message": "low_soc on pack-1",
        "resent": False, "resolved_at": None, "resolved_by": None, "resolution_note": None,
    }  # fmt: skip
    assert raised["event"] == "raised" and raised["time"] == "2026-11-23T06:00:00.000Z"
    assert raised["at"].endswith("Z") and raised["by"] is None and raised["resent"] is False
    assert (repeated["alarm"]["count"], repeated["alarm"]["value"]) == (2, 8.0)
    assert repeated["alarm"]["latest_at"] == "2026-11-23T06:05:00.000Z"
    assert repeated["alarm"]["state"] == "open"
    assert cleared["alarm"]["state"] == "resolved" and cleared["alarm"]["active"] is False
    assert cleared["alarm"]["cleared_at"] == "2026-11-23T06:09:00.000Z"
    assert cleared["by"] == "auto" and cleared["alarm"]["resolved_by"] == "auto"


# --- delivery: retries, order, exactly once -----------------------------------------------


def test_a_receiver_that_is_down_gets_everything_once_and_in_order_when_it_comes_up(database, conn):
    port = closed_port()
    first = add_webhook(conn, f"http://127.0.0.1:{port}/first")
    second = add_webhook(conn, f"http://127.0.0.1:{port}/second")
    alarm_ids = [raise_alarm(conn, f"pack-{i}", "low_soc") for i in (1, 2, 3)]
    repeat_alarm(conn, alarm_ids[0], T + timedelta(minutes=1), 5.0)
    clear_alarm(conn, alarm_ids[1], T + timedelta(minutes=2))
    total = 2 * 5

    with running(notifier(database)):

        def retried() -> bool:
            rows = notifications(database)
            heads = [min(r["id"] for r in rows if r["webhook_id"] == w) for w in (first, second)]
            return (
                len(rows) == total and all(r["state"] == "pending" for r in rows)
                and all(r["attempts"] >= 3 for r in rows if r["id"] in heads)
            )  # fmt: skip

        wait_for(retried, "the heads of both queues retried while the receiver is down")
        rows = notifications(database)
        heads = {min(r["id"] for r in rows if r["webhook_id"] == w) for w in (first, second)}
        # only the head of each queue is tried: what is behind it waits, in order
        assert all(r["attempts"] == 0 for r in rows if r["id"] not in heads)
        head = next(r for r in rows if r["id"] in heads)
        assert head["last_status"] is None and "cannot reach" in head["last_error"]

        server = Receiver(port=port)
        try:
            wait_for(lambda: all_in_state(database, "delivered", total), "all delivered")
        finally:
            server.close()

    for webhook_id, path in ((first, "/first"), (second, "/second")):
        expected = [str(r["id"]) for r in notifications(database, webhook_id)]
        assert [r.delivery for r in server.got(path)] == expected  # once each, in id order
    assert all(r.verified for r in server.got())
    rows = notifications(database)
    assert all(r["last_status"] == 200 and r["last_error"] is None for r in rows)
    assert all(r["delivered_at"] is not None for r in rows)


def test_a_500_is_retried_under_the_same_delivery_id_until_a_200(database, conn, receiver):
    webhook_id = add_webhook(conn, receiver.url("/flaky"))
    receiver.answers["/flaky"] = [500, 503, 410]
    raise_alarm(conn, "pack-1", "tamper", severity="critical")
    raise_alarm(conn, "pack-2", "tamper", severity="critical")

    with running(notifier(database)):
        rows = wait_for(lambda: all_in_state(database, "delivered", 2), "both delivered")

    got = receiver.got("/flaky")
    first, second = (str(r["id"]) for r in rows)
    assert [r.delivery for r in got] == [first, first, first, first, second]
    assert len({r.body for r in got[:4]}) == 1  # the same body every time
    assert all(r.verified for r in got)
    assert [r["attempts"] for r in rows] == [4, 1]
    assert notifications(database, webhook_id)[0]["last_status"] == 200


def test_a_hanging_receiver_does_not_hold_up_another_webhook(database, conn, receiver):
    silent = silent_server()
    try:
        hanging = add_webhook(conn, f"http://127.0.0.1:{silent.getsockname()[1]}/hang")
        healthy = add_webhook(conn, receiver.url("/healthy"))
        for i in range(6):
            raise_alarm(conn, "pack-1", "vibration", subject=f"s{i}")

        # a timeout far beyond the deadline below: the hanging request stays open throughout
        with running(notifier(database, timeout_s=120, lease_s=600, concurrency=2)):
            wait_for(
                lambda: all_in_state(database, "delivered", 6, healthy),
                "the healthy webhook's deliveries, while the other one hangs",
                timeout=30,
            )
            head, *behind = notifications(database, hanging)
            assert (head["state"], head["attempts"], head["last_error"]) == ("pending", 1, None)
            assert all(r["attempts"] == 0 for r in behind)
            silent.close()  # the hanging request ends (reset), and is recorded as failed
            wait_for(lambda: notifications(database, hanging)[0]["last_error"], "the reset")
    finally:
        silent.close()
    assert [r.delivery for r in receiver.got("/healthy")] == [
        str(r["id"]) for r in notifications(database, healthy)
    ]


def test_a_receiver_that_never_answers_times_out_and_is_retried(database, conn):
    silent = silent_server()
    port = silent.getsockname()[1]
    try:
        add_webhook(conn, f"http://127.0.0.1:{port}/hang")
        raise_alarm(conn, "pack-1", "vibration")
        with running(notifier(database, timeout_s=0.3, lease_s=1.0)):
            wait_for(lambda: notifications(database)[0]["attempts"] >= 2, "a second attempt")
    finally:
        silent.close()
    (row,) = notifications(database)
    assert row["state"] == "pending" and row["last_status"] is None
    assert row["last_error"] == f"no answer from 127.0.0.1:{port} within 0.3 s"


def test_two_notifiers_on_one_database_deliver_each_notification_once(database, conn, receiver):
    paths = [f"/hook-{i}" for i in range(4)]
    webhook_ids = [add_webhook(conn, receiver.url(path)) for path in paths]
    # some failures, so claims, retries and leases of both workers interleave
    receiver.answers["/hook-0"] = [500, 500]
    receiver.answers["/hook-2"] = [502]
    for i in range(12):
        raise_alarm(conn, f"pack-{i % 3 + 1}", "bms_protection", subject=f"flag-{i}")
    total = 4 * 12

    a, b = notifier(database, "worker-a", concurrency=3), notifier(database, "worker-b")
    with running(a, b):
        wait_for(lambda: all_in_state(database, "delivered", total), "all delivered")

    assert a.counters["delivered"] + b.counters["delivered"] == total
    for webhook_id, path in zip(webhook_ids, paths, strict=True):
        expected = [str(r["id"]) for r in notifications(database, webhook_id)]
        delivered = [r.delivery for r in receiver.got(path)]
        # each once and in order, once the repeats of a failed attempt are taken out
        assert list(dict.fromkeys(delivered)) == expected
        assert len(delivered) == len(expected) + {"/hook-0": 2, "/hook-2": 1}.get(path, 0)
    assert all(r.verified for r in receiver.got())


def test_give_up_then_the_queue_moves_on_and_a_retry_from_the_api_delivers(
    database, conn, receiver
):
    webhook_id = add_webhook(conn, receiver.url("/hook"))
    raise_alarm(conn, "pack-1", "tamper", severity="critical")
    raise_alarm(conn, "pack-2", "tamper", severity="critical")
    stuck, behind = (r["id"] for r in notifications(database))
    receiver.answers[str(stuck)] = [500] * 3

    with running(notifier(database, max_attempts=3)):
        wait_for(lambda: notifications(database)[1]["state"] == "delivered", "the next one")
        failed = notifications(database)[0]
        assert (failed["state"], failed["attempts"], failed["last_status"]) == ("failed", 3, 500)
        assert failed["last_error"].startswith("HTTP 500")

        with api_client(database) as client:
            answer = client.post(f"/api/webhooks/{webhook_id}/deliveries/{stuck}/retry")
            assert answer.status_code == 200, answer.get_data(as_text=True)
            assert answer.get_json()["state"] == "pending"
            assert answer.get_json()["attempts"] == 0
        rows = wait_for(lambda: all_in_state(database, "delivered", 2), "the retry delivered")

    assert [r.delivery for r in receiver.got("/hook")] == [str(stuck)] * 3 + [
        str(behind),
        str(stuck),
    ]
    assert rows[0]["retried_at"] is not None and rows[0]["attempts"] == 1


def test_a_test_notification_is_signed_with_the_secret_the_api_gave(database, receiver):
    with api_client(database, webhook_allow=LOCAL_RECEIVERS) as client:
        created = client.post(
            "/api/webhooks", json={"name": "ops room", "url": receiver.url("/ops")}
        ).get_json()
        receiver.secrets["/ops"] = created["secret"]
        sent = client.post(f"/api/webhooks/{created['id']}/test").get_json()
        with running(notifier(database)):
            wait_for(lambda: receiver.got("/ops"), "the test delivery")
            rotated = client.post(f"/api/webhooks/{created['id']}/rotate-secret").get_json()
            assert rotated["secret"] != created["secret"]
            client.post(f"/api/webhooks/{created['id']}/test", json={"note": "after rotation"})
            wait_for(lambda: len(receiver.got("/ops")) == 2, "the second test delivery")

    first, second = receiver.got("/ops")
    assert first.verified and first.event == "test" and first.delivery == str(sent["id"])
    assert first.payload["alarm"] is None and first.payload["by"] == ROOT_LOGIN
    # signed with the new secret: the receiver, still on the old one, refuses it
    assert not second.verified and second.payload["note"] == "after rotation"
    assert verify(rotated["secret"], second.timestamp, second.body, second.signature)


# --- waking and starting over -------------------------------------------------------------


def test_a_new_event_wakes_an_idle_notifier_through_listen(database, conn, receiver):
    add_webhook(conn, receiver.url("/hook"))
    raise_alarm(conn, "pack-1", "tamper", severity="critical")
    # a sweep far beyond the deadlines below: only the NOTIFY can bring the second one out
    with running(notifier(database, sweep_s=600)):
        wait_for(lambda: all_in_state(database, "delivered", 1), "the first", timeout=20)
        raise_alarm(conn, "pack-2", "tamper", severity="critical")
        wait_for(lambda: all_in_state(database, "delivered", 2), "the second", timeout=20)
    assert len(receiver.got("/hook")) == 2


def test_the_notifier_starts_over_when_its_connections_are_killed(database, conn, receiver):
    add_webhook(conn, receiver.url("/hook"))
    raise_alarm(conn, "pack-1", "tamper", severity="critical")
    running_notifier = notifier(database)
    with running(running_notifier):
        wait_for(lambda: all_in_state(database, "delivered", 1), "the first")
        conn.execute(
            """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE datname = current_database() AND pid <> pg_backend_pid()"""
        )
        raise_alarm(conn, "pack-2", "tamper", severity="critical")
        wait_for(lambda: all_in_state(database, "delivered", 2), "the one after the restart")
    assert running_notifier.counters["restarts"] >= 1
    assert [r.delivery for r in receiver.got("/hook")] == [
        str(r["id"]) for r in notifications(database)
    ]
