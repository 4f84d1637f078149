"""Command round trip: API call -> command published -> device ack -> ack stored.

1,000 devices stay connected to a throwaway Mosquitto as MQTT clients in one asyncio
process (aiomqtt), each answering every command on its down/cmd with an ack at once, as a
gateway's executor does for a command that needs no waiting (here `set_charge`). The
cloud runs as it does in production: `voltrent cloud worker` (ingest + dispatcher) and
`voltrent cloud api` (waitress) as real processes on the machine's PostgreSQL. Commands
are issued one at a time over HTTP to devices picked in turn; the latency of each is from
just before the POST until the API first reports the command `done` (polled every 2 ms,
so a figure is at most ~2 ms late). Prints p50/p90/p99/max.

The client signs in as a real one does: `voltrent cloud account create` makes an
administrator (its password printed once), POST /api/auth/sign-in opens a session, and
POST /api/tokens (the password again) makes the API token every later request carries.

    .venv/bin/python benchmarks/command_roundtrip.py [--devices 1000] [--commands 500]
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiomqtt
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    base_parser,
    fresh_database,
    print_header,
    print_table,
    work_directory,
)
from launcher.broker import MosquittoBroker, free_port, port_open
from protocols.contract import payloads
from protocols.contract.codec import decode, encode


async def device(device_id: str, port: int, ready: asyncio.Queue, stop: asyncio.Event) -> None:
    """A device that acks every command it receives, at once."""
    will = aiomqtt.Will(
        f"vr/v1/{device_id}/up/status", encode(payloads.Status(online=False)), qos=1, retain=True
    )
    nodelay = ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),)  # as the edge agent's uplink
    async with aiomqtt.Client(
        "127.0.0.1", port, identifier=device_id, will=will, socket_options=nodelay
    ) as client:
        await client.subscribe(f"vr/v1/{device_id}/down/#", qos=1)
        now = int(time.time() * 1000)
        await client.publish(
            f"vr/v1/{device_id}/up/status",
            encode(payloads.Status(online=True, ts=now)),
            qos=1,
            retain=True,
        )
        await ready.put(device_id)
        async for message in client.messages:
            if stop.is_set():
                return
            if not str(message.topic).endswith("/down/cmd"):
                continue
            command = decode("down/cmd", message.payload)
            ack = payloads.Ack(
                cmd_id=command.cmd_id,
                ts=int(time.time() * 1000),
                result="done",
                observed={"charge_mos": command.args.get("on", True)},
            )
            await client.publish(f"vr/v1/{device_id}/up/ack", encode(ack), qos=1)


def http(method: str, url: str, body: dict | None = None, token: str | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:  # the problem's detail says what was refused
        raise SystemExit(f"{method} {url}: {err.code} {err.read().decode()[:500]}") from None


LOGIN = "bench@bench.test"


def create_account(env: dict[str, str]) -> str:
    """The password of a new platform administrator, made as an operator makes the first
    one: ``voltrent cloud account create`` (prints the password once)."""
    made = subprocess.run(
        [sys.executable, "-m", "launcher.cli", "cloud", "account", "create", LOGIN],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in made.stdout.splitlines():
        if line.startswith("password: "):
            return line.removeprefix("password: ")
    raise SystemExit(f"no password in the output of account create: {made.stdout!r}")


def api_token(api: str, password: str) -> str:
    """Sign in, then make an API token with the session (the password again)."""
    session = http("POST", f"{api}/auth/sign-in", {"login": LOGIN, "password": password})
    made = http(
        "POST",
        f"{api}/tokens",
        {"name": "benchmark", "password": password},
        token=session["token"],
    )
    return made["secret"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args, work: Path) -> None:
    children: list[subprocess.Popen[bytes]] = []
    stop = asyncio.Event()
    with fresh_database() as (url, _), MosquittoBroker(data_dir=work / "broker") as broker:
        try:
            devices = [f"cmd-{n:05d}" for n in range(args.devices)]
            with (
                psycopg.connect(url) as conn,
                conn.cursor() as cur,
                cur.copy("COPY device (id) FROM STDIN") as copy,
            ):
                for device_id in devices:
                    copy.write_row((device_id,))
            api_port = free_port()
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "MQTT_URL": broker.url,
                "VOLTRENT_WORKER_ID": "bench-worker",
                "VOLTRENT_API_PORT": str(api_port),
            }
            for role in ("worker", "api"):
                log = (work / f"{role}.log").open("wb")
                command = [sys.executable, "-m", "launcher.cli", "cloud", role]
                if role == "worker":
                    command.append("--no-migrate")
                children.append(
                    subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
                )
            api = f"http://127.0.0.1:{api_port}/api"
            while not port_open("127.0.0.1", api_port):
                await asyncio.sleep(0.1)
            token = api_token(api, create_account(env))
            ready: asyncio.Queue = asyncio.Queue()
            tasks = []
            for device_id in devices:
                tasks.append(asyncio.create_task(device(device_id, broker.port, ready, stop)))
                await asyncio.sleep(0.002)  # do not storm the broker with 1,000 CONNECTs
            for _ in devices:
                await ready.get()
            with psycopg.connect(url) as conn:
                while conn.execute("SELECT count(*) FROM device_state WHERE online").fetchone()[
                    0
                ] < len(devices):
                    await asyncio.sleep(0.2)
            print(f"   {len(devices)} devices connected and online in the store")
            latencies: list[float] = []
            posts: list[float] = []  # the POST alone, until its 201
            polls: list[float] = []  # each GET of the command's state
            loop = asyncio.get_running_loop()
            for n in range(args.commands):
                target = devices[(n * 7919) % len(devices)]
                start = time.perf_counter()
                answer = await loop.run_in_executor(
                    None,
                    http,
                    "POST",
                    f"{api}/devices/{target}/commands",
                    {
                        "type": "set_charge",
                        "args": {"on": n % 2 == 0},
                        "expires_in_s": 60,
                    },
                    token,
                )
                posts.append((time.perf_counter() - start) * 1000)
                cmd_id = answer["cmd_id"]
                while True:
                    asked = time.perf_counter()
                    status = await loop.run_in_executor(
                        None, http, "GET", f"{api}/commands/{cmd_id}", None, token
                    )
                    polls.append((time.perf_counter() - asked) * 1000)
                    if status["state"] == "done":
                        break
                    if status["state"] in ("failed", "rejected", "expired", "cancelled"):
                        raise SystemExit(f"command {cmd_id} ended {status['state']}: {status}")
                    await asyncio.sleep(0.002)
                latencies.append((time.perf_counter() - start) * 1000)
            with psycopg.connect(url) as conn:
                stages = conn.execute(
                    """SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY
                                  extract(epoch FROM sent_at - created_at)),
                              percentile_cont(0.5) WITHIN GROUP (ORDER BY
                                  extract(epoch FROM acked_at - sent_at))
                       FROM command WHERE state = 'done'"""
                ).fetchone()
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            print()
            print_table(
                ["measure", "value"],
                [
                    ["devices connected", f"{len(devices):,}"],
                    ["commands (one at a time)", f"{len(latencies):,}"],
                    ["p50", f"{statistics.median(latencies):.1f} ms"],
                    ["p90", f"{percentile(latencies, 0.90):.1f} ms"],
                    ["p99", f"{percentile(latencies, 0.99):.1f} ms"],
                    ["max", f"{max(latencies):.1f} ms"],
                    ["mean", f"{statistics.fmean(latencies):.1f} ms"],
                    ["median: row created -> published", f"{stages[0] * 1000:.1f} ms"],
                    ["median: published -> ack received", f"{stages[1] * 1000:.1f} ms"],
                    ["median: the POST, until its 201", f"{statistics.median(posts):.1f} ms"],
                    ["median: one GET of the command", f"{statistics.median(polls):.1f} ms"],
                    ["GETs per command", f"{len(polls) / len(latencies):.1f}"],
                ],
            )
        finally:
            for child in children:
                child.terminate()
                child.wait(20)


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--commands", type=int, default=500)
    args = parser.parse_args()
    if args.quick:
        args.devices, args.commands = 100, 50
    print_header("command round trip", args)
    with work_directory(args.keep) as work:
        asyncio.run(run(args, work))


if __name__ == "__main__":
    main()
