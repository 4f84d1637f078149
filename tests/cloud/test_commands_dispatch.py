"""Commands and lease terms end to end on the cloud side: the API writes rows, a real worker
process dispatches them through a real Mosquitto, and a fake device (a paho client that
answers like a device would) acks; the lead's end-to-end tests use the real edge agent."""

from __future__ import annotations

import threading
import uuid
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import psycopg
import pytest

from protocols.contract import payloads
from protocols.contract.codec import decode, encode
from tests.cloud import wire_support as wire
from tests.cloud.api_support import api_client
from tests.cloud.worker_support import WorkerProcess, register, scalar, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.slow]


class FakeDevice:
    """Subscribes to its downlink, records what arrives, acks each command like a device."""

    def __init__(self, url: str, device_id: str, *, auto_ack: bool = True) -> None:
        self.device_id = device_id
        self.auto_ack = auto_ack
        self.received: list[tuple[str, payloads.Command | payloads.LeaseTerm]] = []
        self._lock = threading.Lock()
        parts = urlsplit(url)
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2,
                                  client_id=f"dev-{device_id}-{uuid.uuid4().hex[:6]}")  # fmt: skip
        self.client.on_message = self._on_message
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        self.client.loop_start()
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.subscribe(f"vr/v1/{device_id}/down/#", qos=1)
        assert subscribed.wait(10), "no SUBACK"

    def _on_message(self, client, userdata, message) -> None:
        channel = message.topic.split("/", 3)[3]
        if not message.payload:
            return  # a retained message being cleared
        decoded = decode(channel, message.payload)
        with self._lock:
            self.received.append((channel, decoded))
        if channel == "down/cmd" and self.auto_ack:
            # no waiting for the PUBACK here: paho's own thread would have to deliver it
            self.ack(decoded.cmd_id, "done", observed={"echo": dict(decoded.args)}, wait=False)

    def publish(
        self, channel: str, payload: bytes, *, retain: bool = False, wait: bool = True
    ) -> None:
        info = self.client.publish(f"vr/v1/{self.device_id}/{channel}", payload, qos=1,
                                   retain=retain)  # fmt: skip
        if wait:
            info.wait_for_publish(10)
            assert info.is_published(), "the broker did not acknowledge a publish"

    def ack(self, cmd_id: str, result: str, *, wait: bool = True, **fields) -> None:
        ack = payloads.Ack(cmd_id=cmd_id, ts=wire.now_ms(), result=result, **fields)
        self.publish("up/ack", encode(ack), wait=wait)

    def status(self, online: bool) -> None:
        self.publish("up/status", wire.status(online), retain=True)

    def commands(self) -> list[str]:
        with self._lock:
            return [m.cmd_id for channel, m in self.received if channel == "down/cmd"]

    def leases(self) -> list[payloads.LeaseTerm]:
        with self._lock:
            return [m for channel, m in self.received if channel == "down/lease"]

    def close(self) -> None:
        # Leave no retained status behind: a later test's worker would get it on subscribing.
        self.publish("up/status", b"", retain=True)
        self.client.disconnect()
        self.client.loop_stop()


def start_worker(database, broker, path) -> WorkerProcess:
    process = WorkerProcess(database, broker.url, path)
    process.env["VOLTRENT_DISPATCH_SWEEP_S"] = "1"
    process.env["VOLTRENT_DISPATCH_STANDBY_RETRY_S"] = "1"
    process.env["VOLTRENT_RESEND_UNACKED_AFTER_S"] = "3"
    process.start().wait_subscribed()
    return process


@pytest.fixture
def device_id(database):
    device_id = f"pack-{uuid.uuid4().hex[:8]}"  # retained messages never leak between tests
    register(database, device_id)
    return device_id


@pytest.fixture
def worker(database, broker, tmp_path):
    process = start_worker(database, broker, tmp_path / "worker.log")
    wait_for(lambda: "dispatcher: leader" in process.log(), "the worker leads the dispatch")
    yield process
    process.stop()


@pytest.fixture
def device(broker, device_id):
    fake = FakeDevice(broker.url, device_id)
    yield fake
    fake.close()


@pytest.fixture
def api(database):
    with api_client(database) as client:
        yield client


def issue(api, device_id: str, **body) -> str:
    body = {"type": "locate", **body}
    answer = api.post(f"/api/devices/{device_id}/commands", json=body)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()["cmd_id"]


def state_of(api, cmd_id: str) -> dict:
    return api.get(f"/api/commands/{cmd_id}").get_json()


def online(database, device, device_id):
    device.status(True)
    wait_for(lambda: scalar(database, "SELECT online FROM device_state WHERE device_id = %s",
                            device_id), "the device online in the store")  # fmt: skip


def test_a_command_to_an_online_device_is_acked_once_even_if_acked_twice(
    database, broker, worker, device, device_id, api
):
    online(database, device, device_id)
    device.auto_ack = False
    cmd_id = issue(api, device_id, type="set_discharge", args={"on": False})
    wait_for(lambda: device.commands() == [cmd_id], "the command on down/cmd")
    assert state_of(api, cmd_id)["state"] == "sent"
    device.ack(cmd_id, "done", observed={"discharge_mos": False})
    device.ack(cmd_id, "failed", reason="a duplicate that must change nothing")
    wait_for(lambda: state_of(api, cmd_id)["state"] == "done", "state done")
    wait_for(lambda: scalar(database, "SELECT count(*) FROM device_ack") == 1, "one ack row")
    command = state_of(api, cmd_id)
    assert command["observed"] == {"discharge_mos": False}
    assert command["result"] == "done" and command["result_reason"] is None
    assert command["send_count"] == 1 and command["acked_at"]
    # an ack naming this command from another device changes nothing either
    other = f"pack-{uuid.uuid4().hex[:8]}"
    register(database, other)
    intruder = FakeDevice(broker.url, other)
    intruder.ack(cmd_id, "failed")
    wait_for(lambda: scalar(database, "SELECT count(*) FROM device_ack") == 2, "its ack stored")
    assert state_of(api, cmd_id)["result"] == "done"
    intruder.close()


def test_five_commands_arrive_in_order_when_an_offline_device_comes_online(
    database, worker, device, device_id, api
):
    ids = [issue(api, device_id, type="set_charge", args={"on": n % 2 == 0}) for n in range(5)]
    assert all(state_of(api, c)["state"] == "queued" for c in ids)
    assert device.commands() == []
    online(database, device, device_id)
    wait_for(lambda: len(device.commands()) == 5, "five commands delivered")
    assert device.commands() == ids
    wait_for(lambda: all(state_of(api, c)["state"] == "done" for c in ids), "all done")
    assert state_of(api, ids[0])["observed"] == {"echo": {"on": True}}


def test_an_expired_command_is_never_sent_and_a_cancelled_one_neither(
    database, worker, device, device_id, api
):
    expiring = issue(api, device_id, expires_in_s=1)
    cancelled = issue(api, device_id)
    assert api.post(f"/api/commands/{cancelled}/cancel").status_code == 200
    wait_for(lambda: state_of(api, expiring)["state"] == "expired", "expired by the sweep")
    online(database, device, device_id)
    # per-device order: anything queued before this one would arrive before it
    sentinel = issue(api, device_id)
    wait_for(lambda: state_of(api, sentinel)["state"] == "done", "the later command done")
    assert device.commands() == [sentinel]
    assert state_of(api, expiring)["send_count"] == 0


def test_a_sent_unacked_command_is_sent_again_when_the_device_comes_back(
    database, worker, device, device_id, api
):
    online(database, device, device_id)
    device.auto_ack = False
    cmd_id = issue(api, device_id)
    wait_for(lambda: device.commands() == [cmd_id], "first delivery")
    device.status(False)
    wait_for(lambda: not scalar(database, "SELECT online FROM device_state WHERE device_id = %s",
                                device_id), "offline")  # fmt: skip
    device.auto_ack = True
    online(database, device, device_id)
    wait_for(lambda: state_of(api, cmd_id)["state"] == "done", "done after the re-send")
    # twice at least: a slow machine may also reach the 3 s re-send of unacked commands
    assert set(device.commands()) == {cmd_id} and len(device.commands()) >= 2
    assert state_of(api, cmd_id)["send_count"] >= 2


def test_a_command_sent_without_an_ack_goes_out_again_while_the_device_stays_online(
    database, worker, device, device_id, api
):
    online(database, device, device_id)
    device.auto_ack = False  # its first delivery is lost on the way back
    cmd_id = issue(api, device_id)
    wait_for(lambda: device.commands() == [cmd_id], "first delivery")
    device.auto_ack = True
    wait_for(lambda: state_of(api, cmd_id)["state"] == "done", "done after the re-send", timeout=30)
    assert device.commands() == [cmd_id, cmd_id]
    assert state_of(api, cmd_id)["send_count"] == 2


def test_a_lease_change_is_published_retained_with_a_growing_version(
    database, broker, worker, device, device_id, api
):
    term = {"leased": True, "leased_until": "2030-01-01T00:00:00Z", "grace_s": 300,
            "cutoff_when_not_leased": True, "lease_id": "order-1"}  # fmt: skip
    first = api.put(f"/api/devices/{device_id}/lease", json=term).get_json()
    wait_for(lambda: len(device.leases()) == 1, "the term on down/lease")
    lease = device.leases()[0]
    assert lease.version == first["version"] and lease.leased and lease.grace_s == 300
    assert lease.leased_until == 1_893_456_000_000 and lease.lease_id == "order-1"
    ended = api.delete(f"/api/devices/{device_id}/lease").get_json()
    wait_for(lambda: len(device.leases()) == 2, "the new term")
    assert device.leases()[1].version == ended["version"] > lease.version
    assert device.leases()[1].leased is False
    wait_for(
        lambda: (
            api.get(f"/api/devices/{device_id}/lease").get_json()["published_version"]
            == ended["version"]
        ),
        "published_version recorded",
    )
    late = FakeDevice(broker.url, device_id)  # a device connecting later gets it retained
    wait_for(lambda: late.leases(), "the retained term")
    assert [t.version for t in late.leases()] == [ended["version"]]
    late.client.disconnect()
    late.client.loop_stop()
    # no retained term outlives the test
    device.publish("down/lease", b"", retain=True)


@pytest.mark.slow
def test_two_workers_publish_each_command_once_and_a_standby_takes_over(
    database, broker, device, device_id, api, tmp_path
):
    first = start_worker(database, broker, tmp_path / "w1.log")
    wait_for(lambda: "dispatcher: leader" in first.log(), "a leader")
    second = start_worker(database, broker, tmp_path / "w2.log")
    try:
        wait_for(lambda: "standing by" in second.log(), "a standby")
        online(database, device, device_id)
        ids = [issue(api, device_id) for _ in range(10)]
        wait_for(lambda: all(state_of(api, c)["state"] == "done" for c in ids), "all done")
        assert device.commands() == ids
        assert scalar(database, "SELECT max(send_count) FROM command") == 1
        first.kill()
        wait_for(lambda: "dispatcher: leader" in second.log(), "the standby leads")
        later = issue(api, device_id)
        wait_for(lambda: state_of(api, later)["state"] == "done", "done through the new leader")
        assert device.commands() == [*ids, later]
    finally:
        first.stop()
        second.stop()


def test_the_store_refuses_a_second_ack_state_change_and_keeps_cancelled(database):
    """The writer's rule without the broker: cancelled stays cancelled, result recorded."""
    register(database, "pack-w")
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO command (cmd_id, device_id, type, issued_by, expires_at, state)
               VALUES ('c1', 'pack-w', 'locate', 't', now() + interval '1 min', 'cancelled')"""
        )
    import asyncio

    from cloud.ingest import rows as R
    from cloud.ingest.writer import Writer
    from cloud.store.db import connect_async

    async def write_ack(result: str) -> None:
        conn = await connect_async(database)
        await conn.set_autocommit(True)
        async with conn:
            writer = Writer(
                conn,
                database_url=database,
                layout="partitioned",
                retention_days=90,
                max_clock_ahead_s=3600,
            )
            await writer.prepare()
            ack = encode(payloads.Ack(cmd_id="c1", ts=wire.now_ms(), result=result))
            await writer.write([R.parse("vr/v1/pack-w/up/ack", ack, wire.utc(wire.now_ms()))])

    asyncio.run(write_ack("done"))
    asyncio.run(write_ack("failed"))
    with psycopg.connect(database) as conn:
        row = conn.execute("SELECT state, result FROM command WHERE cmd_id = 'c1'").fetchone()
    assert row == ("cancelled", "done")
