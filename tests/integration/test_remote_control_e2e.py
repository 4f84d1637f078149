"""Remote control end to end: the REST API -> the command row -> the dispatcher in a real
worker process -> Mosquitto -> the edge agent -> the simulated JBD BMS on a pty, and the
ack back the same way into PostgreSQL and the API. The cloud signs with the rig's master
key (control_support.MASTER_KEY); the agent holds its device's key of generation 1."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from cloud.app import create_app
from cloud.config import CloudConfig
from protocols.contract import Channel, Command, encode, signing
from tests.cloud.tenancy_support import ROOT_LOGIN, root_token
from tests.cloud.worker_support import WorkerProcess, register, wait_for
from tests.integration.control_support import (
    MASTER_KEY,
    PARKED,
    acks,
    cloud_env,
    commands_section,
    control_rig,
    now_ms,
)
from tests.integration.edge_support import UplinkCollector, unique_device_id, wait_until

# the first test is the fast loop's command end to end (./run-tests --fast)
pytestmark = [pytest.mark.postgres, pytest.mark.broker]


class Cloud:
    """The API (Flask test client on the same database, as the platform's administrator)
    and a real worker process, both with the master key."""

    def __init__(self, database: str, broker_url: str, log_path, protocol: str = "5") -> None:
        self.api = create_app(
            CloudConfig(database_url=database, command_key=MASTER_KEY)
        ).test_client()
        self.api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {root_token(database)}"
        self.worker = WorkerProcess(database, broker_url, log_path, protocol=protocol)
        self.worker.env.update(cloud_env())

    def __enter__(self) -> Cloud:
        self.worker.start().wait_subscribed()
        return self

    def __exit__(self, *exc: object) -> None:
        self.worker.stop()

    def command(self, device_id: str, body: dict) -> dict:
        answer = self.api.post(f"/api/devices/{device_id}/commands", json=body)
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()

    def state_of(self, cmd_id: str) -> dict:
        return self.api.get(f"/api/commands/{cmd_id}").get_json()

    def online(self, device_id: str) -> bool:
        return bool(self.api.get(f"/api/devices/{device_id}/state").get_json().get("online"))


async def _until(condition, what: str, timeout: float = 60.0):
    return await wait_until(condition, what, timeout=timeout, every=0.1)


# a command of no consequence to the checks (the charge path on, a parked pack's default):
# issued after others, its being done shows that they have arrived and run
MARKER = {"type": "set_charge", "args": {"on": True}}


async def _done(cloud: Cloud, issued: dict, what: str) -> dict:
    return await _until(
        lambda: (c := cloud.state_of(issued["cmd_id"]))["state"] == "done" and c, what
    )


def _past_expiry(database: str, cmd_id: str) -> bool:
    with psycopg.connect(database) as conn:
        query = "SELECT expires_at <= now() FROM command WHERE cmd_id = %s"
        return conn.execute(query, (cmd_id,)).fetchone()[0]


def test_a_cutoff_from_the_api_turns_the_pack_off_and_its_ack_shows_in_the_api(
    database, broker, tmp_path
):
    device_id = unique_device_id("e2e")
    register(database, device_id)
    with Cloud(database, broker.url, tmp_path / "worker.log") as cloud:

        async def scenario() -> None:
            async with control_rig(broker.url, tmp_path, PARKED, device_id=device_id) as rig:
                await _until(lambda: cloud.online(device_id), "device online in the API")
                issued = cloud.command(
                    device_id, {"type": "set_discharge", "args": {"on": False}, "reason": "unpaid"}
                )
                done = await _until(
                    lambda: (c := cloud.state_of(issued["cmd_id"]))["state"] == "done" and c,
                    "command done",
                )
                assert done["observed"]["discharge_mos"] is False
                assert done["issued_by"] == ROOT_LOGIN and done["reason"] == "unpaid"
                assert not rig.device.pack.discharge_mos_on  # the simulated MOSFET is off
                assert rig.device.pack.current_a == 0
                # and the latest telemetry shows it in the device's state
                await _until(
                    lambda: (
                        cloud.api.get(f"/api/devices/{device_id}/state").get_json()["discharge_mos"]
                        is False
                    ),
                    "state shows discharge off",
                )
                # restoring power from the API
                restore = cloud.command(device_id, {"type": "set_discharge", "args": {"on": True}})
                await _until(
                    lambda: cloud.state_of(restore["cmd_id"])["state"] == "done", "restored"
                )
                assert rig.device.pack.discharge_mos_on

        asyncio.run(scenario())


@pytest.mark.slow
def test_an_offline_device_gets_its_command_when_it_comes_back_unless_it_expired(
    database, broker, tmp_path
):
    device_id = unique_device_id("e2e")
    register(database, device_id)
    with Cloud(database, broker.url, tmp_path / "worker.log") as cloud:
        kept = cloud.command(
            device_id, {"type": "set_charge", "args": {"on": False}, "expires_in_s": 300}
        )
        lapsed = cloud.command(
            device_id, {"type": "set_discharge", "args": {"on": False}, "expires_in_s": 1}
        )
        assert cloud.state_of(kept["cmd_id"])["state"] == "queued"  # offline: not sent
        wait_for(lambda: _past_expiry(database, lapsed["cmd_id"]), "the cut-off's expiry")

        async def scenario() -> None:
            async with control_rig(broker.url, tmp_path, PARKED, device_id=device_id) as rig:
                done = await _until(
                    lambda: (c := cloud.state_of(kept["cmd_id"]))["state"] == "done" and c,
                    "the kept command done after reconnect",
                )
                assert done["observed"]["charge_mos"] is False
                assert not rig.device.pack.charge_mos_on
                assert cloud.state_of(lapsed["cmd_id"])["state"] == "expired"
                # a command issued after them is done: anything wrongly sent before it has
                # arrived (one device's commands go out and run in order)
                writes = len(rig.writes)
                await _done(cloud, cloud.command(device_id, MARKER), "a later command")
                assert rig.device.pack.discharge_mos_on, "an expired cut-off was executed"
                assert [w["discharge"] for w in rig.writes[:writes]] == [True], rig.writes

        asyncio.run(scenario())


@pytest.mark.slow
def test_a_duplicate_delivery_is_executed_once_and_acked_once(database, broker, tmp_path):
    device_id = unique_device_id("e2e")
    register(database, device_id)
    with Cloud(database, broker.url, tmp_path / "worker.log") as cloud:

        async def scenario() -> None:
            async with control_rig(broker.url, tmp_path, PARKED, device_id=device_id) as rig:
                await _until(lambda: cloud.online(device_id), "device online")
                issued = cloud.command(device_id, {"type": "set_charge", "args": {"on": False}})
                await _until(lambda: cloud.state_of(issued["cmd_id"])["state"] == "done", "done")
                # the broker delivers the same command again (a redelivery after a reconnect)
                row = cloud.state_of(issued["cmd_id"])
                again = rig.sign(
                    Command(
                        cmd_id=row["cmd_id"],
                        type=row["type"],
                        args=row["args"],
                        issued_at=now_ms(),
                        expires_at=now_ms() + 60_000,
                    )
                )
                writes_before = len(rig.writes)
                await rig.publish(Channel.CMD, encode(again))
                await _until(
                    lambda: rig.agent.executor.counters["commands_duplicate"] >= 1, "duplicate seen"
                )
                # a command issued after it is done: the duplicate is not executed again
                await _done(cloud, cloud.command(device_id, MARKER), "a later command")
                assert len(rig.writes) == writes_before + 1, rig.writes

        asyncio.run(scenario())
        acks = cloud.api.get(f"/api/devices/{device_id}/commands").get_json()
        assert [c["state"] for c in acks] == ["done", "done"]  # the marker, the command
    from tests.cloud.worker_support import scalar

    # the command's ack and the marker's: the duplicate got none of its own
    assert scalar(database, "SELECT count(*) FROM device_ack WHERE device_id = %s", device_id) == 2


@pytest.mark.slow
def test_a_lease_that_runs_out_while_the_broker_is_down_cuts_and_a_renewal_restores(
    database, own_broker, tmp_path
):
    device_id = unique_device_id("e2e")
    register(database, device_id)
    # MQTT 3.1.1: the worker's session must survive the broker restart, or what the device
    # sends before the worker resubscribes is queued for no one (README, "Operations")
    with Cloud(database, own_broker.url, tmp_path / "worker.log", protocol="3.1.1") as cloud:

        async def scenario() -> None:
            async with control_rig(own_broker.url, tmp_path, PARKED, device_id=device_id) as rig:
                await _until(lambda: cloud.online(device_id), "device online")
                until = datetime.now(UTC) + timedelta(seconds=6)
                put = cloud.api.put(
                    f"/api/devices/{device_id}/lease",
                    json={"leased": True, "leased_until": until.isoformat(), "grace_s": 2,
                          "cutoff_when_not_leased": True},
                )  # fmt: skip
                assert put.status_code == 200, put.get_json()
                version = put.get_json()["version"]
                await _until(
                    lambda: (
                        rig.agent.guard.term is not None and rig.agent.guard.term.version == version
                    ),
                    "the term reached the device",
                )
                own_broker.stop()  # no connectivity from here on
                await _until(lambda: not rig.device.pack.discharge_mos_on, "cut at T + grace", 30)
                cut_at = datetime.now(UTC)
                assert cut_at >= until + timedelta(seconds=2)
                renewed = cloud.api.put(
                    f"/api/devices/{device_id}/lease",
                    json={"leased": True,
                          "leased_until": (cut_at + timedelta(hours=1)).isoformat(),
                          "grace_s": 2, "cutoff_when_not_leased": True},
                )  # fmt: skip
                assert renewed.status_code == 200
                await asyncio.sleep(2)
                assert not rig.device.pack.discharge_mos_on  # still cut: the broker is down
                own_broker.start()
                await _until(lambda: rig.device.pack.discharge_mos_on, "restored", 60)
                # what the device did offline reaches the cloud once it is back
                await _until(
                    lambda: (
                        {"lease_cutoff", "lease_restored"}
                        <= {e["type"] for e in _events(cloud, device_id)}
                    ),
                    "lease_cutoff and lease_restored events stored",
                )

        asyncio.run(scenario())


@pytest.mark.slow
def test_commands_from_the_api_arrive_signed_and_forged_ones_on_the_broker_are_refused(
    database, broker, tmp_path
):
    """A "compromised broker account": a client that may publish on the device's down/cmd
    and down/lease, but has no key. The genuine command goes through the API."""
    device_id = unique_device_id("e2e")
    register(database, device_id)
    with Cloud(database, broker.url, tmp_path / "worker.log") as cloud:

        async def scenario() -> None:
            async with control_rig(broker.url, tmp_path, PARKED, device_id=device_id) as rig:
                with UplinkCollector(broker.url, device_id) as collector:
                    await _until(lambda: cloud.online(device_id), "device online")
                    # the attacker's commands, unsigned and with a made-up MAC, and a forged
                    # "not leased, cut" term: the pack keeps its power
                    bare = await rig.command("set_discharge", {"on": False}, signed=False)
                    kid = signing.key_id(MASTER_KEY, 1)
                    made_up = signing.sign(
                        dataclasses.replace(bare, cmd_id=f"{bare.cmd_id}-2"), device_id,
                        bytes(32), kid,
                    )  # fmt: skip
                    await rig.publish(Channel.CMD, encode(made_up))
                    await rig.lease(10**9, signed=False, leased=False, cutoff_when_not_leased=True)
                    (unsigned_ack,) = await _until(lambda: acks(collector, bare.cmd_id), "ack")
                    assert unsigned_ack.reason == "command not signed"
                    (forged_ack,) = await _until(lambda: acks(collector, made_up.cmd_id), "ack")
                    assert forged_ack.reason == "bad signature"
                    await _until(
                        lambda: rig.agent.counters["lease_terms_bad_signature"], "term refused"
                    )
                    assert rig.device.pack.discharge_mos_on
                    # the operator's command, through the API: signed by the dispatcher, run
                    issued = cloud.command(
                        device_id, {"type": "set_discharge", "args": {"on": False}}
                    )
                    await _until(
                        lambda: cloud.state_of(issued["cmd_id"])["state"] == "done", "done"
                    )
                    assert not rig.device.pack.discharge_mos_on
                    # run after the forgeries: they wrote nothing before it
                    assert [w["discharge"] for w in rig.writes] == [False], rig.writes
                    assert rig.agent.executor.counters["commands_bad_signature"] == 2

        asyncio.run(scenario())


@pytest.mark.slow
def test_a_forgery_that_takes_a_real_commands_id_does_not_decide_its_result(
    database, broker, tmp_path
):
    """The attacker guesses the cmd_id of a command the cloud is about to send and gets there
    first: the device refuses the forgery for its signature and acks that. That ack answers
    a message the cloud never signed, so the real command, signed and run after it, still ends
    `done` (not `rejected`)."""
    device_id = unique_device_id("e2e")
    register(database, device_id)
    cmd_id = f"c-guessed-{device_id}"
    with Cloud(database, broker.url, tmp_path / "worker.log") as cloud:

        async def scenario() -> None:
            async with control_rig(broker.url, tmp_path, PARKED, device_id=device_id) as rig:
                with UplinkCollector(broker.url, device_id) as collector:
                    await _until(lambda: cloud.online(device_id), "device online")
                    await rig.command("set_discharge", {"on": False}, signed=False, cmd_id=cmd_id)
                    (refusal,) = await _until(lambda: acks(collector, cmd_id), "refusal ack")
                    assert refusal.reason == "command not signed"
                    await _until(
                        lambda: "refused a command" in cloud.worker.log(),
                        "the worker took the refusal in",
                    )
                    with psycopg.connect(database, autocommit=True) as conn:
                        conn.execute(
                            "INSERT INTO command (cmd_id, device_id, type, args, issued_by,"
                            " expires_at) VALUES (%s, %s, 'set_discharge', '{\"on\": false}',"
                            " 'root', now() + interval '5 minutes')",
                            (cmd_id, device_id),
                        )
                    await _until(lambda: cloud.state_of(cmd_id)["state"] == "done", "done")
                    assert not rig.device.pack.discharge_mos_on
                    assert cloud.state_of(cmd_id)["result"] == "done"

        asyncio.run(scenario())
    assert "refused a command" in (tmp_path / "worker.log").read_text()


@pytest.mark.slow
def test_after_a_rotation_only_a_gateway_holding_the_new_key_obeys(database, broker, tmp_path):
    device_id = unique_device_id("e2e")
    register(database, device_id)
    with Cloud(database, broker.url, tmp_path / "worker.log") as cloud:
        rotated = cloud.api.post(f"/api/devices/{device_id}/command-key")
        assert rotated.status_code == 200, rotated.get_json()
        assert rotated.get_json()["kid"] == signing.key_id(MASTER_KEY, 2)

        async def run(generations: tuple[int, ...], expected: str) -> dict:
            keys = commands_section(device_id, *generations)
            async with control_rig(broker.url, tmp_path / str(generations), PARKED,
                                   device_id=device_id, commands=keys) as rig:  # fmt: skip
                await _until(lambda: cloud.online(device_id), "device online")
                issued = cloud.command(device_id, {"type": "set_charge", "args": {"on": False}})
                done = await _until(
                    lambda: (c := cloud.state_of(issued["cmd_id"]))["state"] == expected and c,
                    f"command {expected}",
                )
                assert rig.device.pack.charge_mos_on is (expected != "done")
                return done

        # a gateway that still holds only the old key: the new kid is unknown to it
        refused = asyncio.run(run((1,), "rejected"))
        assert refused["result_reason"] == f"unknown signing key {signing.key_id(MASTER_KEY, 2)!r}"
        # old and new key side by side, as during a roll-out: obeys
        asyncio.run(run((1, 2), "done"))


def _events(cloud: Cloud, device_id: str) -> list[dict]:
    return cloud.api.get(f"/api/devices/{device_id}/events").get_json().get("rows", [])
