"""``voltrent demo``: the whole platform on one machine, with nothing to set up.

PostgreSQL (embedded, unless DATABASE_URL is set), an MQTT broker (Mosquitto, or amqtt
where Mosquitto is not installed, unless MQTT_URL is set) locked down as in production
(demo_broker.py), the cloud worker and API as child processes, and a simulated fleet with
one edge agent per device in this process. Everything started here is stopped here, also
when a part dies early.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from launcher.amqtt_broker import choose_broker, mqtt_protocol
from launcher.children import ChildDied, ChildProcess, stop_all
from launcher.demo_access import DemoAccess, set_up_access, write_private
from launcher.demo_broker import DISPATCHER, WATCH_URL_FILE, WATCHER, WORKER, issue_accounts
from launcher.demo_fleet import (
    SERVICE_AREA,
    gateway_keys,
    master_key_file,
    register_fleet,
    service_area,
)
from launcher.demo_tenancy import Login
from launcher.sim import FleetOptions, SimulatedFleet

log = logging.getLogger("voltrent.demo")

DATABASE = "voltrent"
WORKER_ID = "voltrent-demo-worker"
API_READY_TIMEOUT_S = 60.0


class DemoError(RuntimeError):
    """The demo cannot start (the message says which part and why)."""


@dataclass(frozen=True)
class DemoOptions:
    devices: int = 20
    work_dir: Path = Path(".voltrent")
    api_port: int = 8080
    duration: float | None = None
    report_interval_s: float = FleetOptions.report_interval_s
    upload_interval_s: float = FleetOptions.upload_interval_s
    broker: str = "auto"  # auto, mosquitto or amqtt; ignored when MQTT_URL is set


def add_parser(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="the whole platform on this machine: store, broker, cloud and a simulated fleet",
        description="Runs PostgreSQL (or uses $DATABASE_URL), an MQTT broker (or uses"
        " $MQTT_URL), the cloud worker and API, and a simulated fleet. Ctrl-C stops all.",
    )
    defaults = DemoOptions()
    demo.add_argument("--devices", "-n", type=int, default=defaults.devices)
    demo.add_argument(
        "--dir", type=Path, default=defaults.work_dir, help="data and logs (default: %(default)s)"
    )
    demo.add_argument(
        "--api-port",
        type=int,
        default=defaults.api_port,
        help="the API's port (default: %(default)s; 0: any free port)",
    )
    demo.add_argument("--duration", type=float, default=None, help="stop after this many s")
    demo.add_argument(
        "--report-interval",
        type=float,
        default=defaults.report_interval_s,
        help="seconds between samples of each source (default: %(default)s)",
    )
    demo.add_argument(
        "--upload-interval",
        type=float,
        default=defaults.upload_interval_s,
        help="seconds between published batches (default: %(default)s)",
    )
    demo.add_argument(
        "--broker",
        choices=("auto", "mosquitto", "amqtt"),
        default=defaults.broker,
        help="which local broker to start (default: Mosquitto if installed, else amqtt)",
    )
    demo.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    options = DemoOptions(
        devices=args.devices,
        work_dir=args.dir,
        api_port=args.api_port,
        duration=args.duration,
        report_interval_s=args.report_interval,
        upload_interval_s=args.upload_interval,
        broker=args.broker,
    )
    from cloud.errors import CloudError
    from launcher.broker import BrokerError
    from launcher.postgres import PostgresError

    try:
        return run_demo(options)
    except (DemoError, ChildDied, BrokerError, PostgresError, CloudError) as err:
        # printed after the teardown, so it is the last thing on the screen
        print(f"voltrent demo: {err}", file=sys.stderr)
        return 1


def run_demo(options: DemoOptions) -> int:
    """Start everything, run the fleet until Ctrl-C, SIGTERM or the duration, stop all."""
    work_dir = options.work_dir.absolute()
    # SIGTERM takes the same way out as Ctrl-C, so a stop during start-up still stops
    # whatever was already started
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with contextlib.ExitStack() as stack:
            try:
                code = _run(options, work_dir, stack)
            except KeyboardInterrupt:
                log.info("interrupted during start-up; stopping")
                code = 0
            finally:
                _ignore_signals()  # the teardown (the stack unwinding) is not interrupted
        log.info("everything stopped")
        return code
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _run(options: DemoOptions, work_dir: Path, stack: contextlib.ExitStack) -> int:
    database_url, database_note = _database(work_dir, stack)
    api_host = os.environ.get("VOLTRENT_API_HOST") or "127.0.0.1"
    api_port = _api_port(api_host, options.api_port)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VOLTRENT_API_HOST": api_host,
        "VOLTRENT_API_PORT": str(api_port),
        "VOLTRENT_WORKER_ID": os.environ.get("VOLTRENT_WORKER_ID") or WORKER_ID,
        "PYTHONUNBUFFERED": "1",
    }
    if not (env.get("VOLTRENT_COMMAND_KEY") or env.get("VOLTRENT_COMMAND_KEY_FILE")):
        env["VOLTRENT_COMMAND_KEY_FILE"] = str(master_key_file(work_dir / "command.key"))
    _migrate(env)
    fleet_options = FleetOptions(
        devices=options.devices,
        work_dir=work_dir / "sim",
        report_interval_s=options.report_interval_s,
        upload_interval_s=options.upload_interval_s,
        # the last pack starts nearly empty: an alarm to resolve within a minute
        low_soc=(f"sim-{options.devices:04d}",),
    )
    import psycopg

    from cloud.config import CloudConfig

    master = CloudConfig.from_env(env).command_key
    assert master is not None  # set just above, or by the caller
    try:
        register_fleet(database_url, fleet_options)
        keys = gateway_keys(database_url, master, fleet_options)
        access = set_up_access(database_url, work_dir)
    except psycopg.Error as err:
        raise DemoError(f"cannot register the simulated devices: {err}") from err
    broker = _broker(work_dir, options.broker, database_url, fleet_options, stack)
    env.update(broker.env)

    logs = work_dir / "logs"
    children = [
        ChildProcess("worker", ["cloud", "worker", "--no-migrate"], env, logs / "worker.log"),
        ChildProcess("api", ["cloud", "api"], env, logs / "api.log"),
    ]
    stack.callback(stop_all, children)
    for child in children:
        child.start()
    api_url = f"http://{_url_host(api_host)}:{api_port}/api"
    _wait_for_api(api_url, children)
    logins = _business(api_url, access, work_dir, fleet_options)

    fleet = SimulatedFleet(fleet_options, broker.url, keys, broker.password_files)
    print(
        _banner(options, work_dir, api_url, broker, database_note, children, access, logins),
        flush=True,
    )
    return asyncio.run(_run_fleet(fleet, children, options.duration))


def _business(api_url: str, access: DemoAccess, work_dir: Path, fleet: FleetOptions) -> list[Login]:
    """The rental business (launcher/demo_tenancy.py), made through the API."""
    from launcher.demo_api import ApiRefused, DemoApi
    from launcher.demo_tenancy import set_up_business

    api = DemoApi(api_url, access.token_file.read_text().strip())
    try:
        return set_up_business(api, work_dir, fleet, service_area())
    except (ApiRefused, OSError) as err:
        raise DemoError(f"cannot set up the demo's rental business: {err}") from err


def _database(work_dir: Path, stack: contextlib.ExitStack) -> tuple[str, str]:
    url = os.environ.get("DATABASE_URL")
    if url:
        from cloud.store.db import describe

        return url, f"{describe(url)} (from DATABASE_URL)"
    from launcher.postgres import EmbeddedPostgres

    server = EmbeddedPostgres(work_dir / "postgres")
    stack.callback(server.stop)
    log.info("starting PostgreSQL (data in %s)", server.data_dir)
    server.start()
    _create_database(server.url())
    url = server.url(DATABASE)
    return url, f"{url} (embedded; data in {server.data_dir}, log {server.log_path})"


def _create_database(admin_url: str) -> None:
    import psycopg
    from psycopg import sql

    from cloud.store.db import connect

    with connect(admin_url, autocommit=True) as conn:
        try:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if exists.fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
                log.info("created database %s", DATABASE)
        except psycopg.Error as err:
            raise DemoError(f"cannot create the database {DATABASE!r}: {err}") from err


@dataclass(frozen=True)
class DemoBroker:
    """The broker the demo uses: where (no password in it), what the cloud's processes
    get in their environment, each gateway's password file, and how to watch it."""

    url: str
    env: dict[str, str]
    password_files: dict[str, Path]
    note: str
    watch: str


def _broker(
    work_dir: Path, kind: str, database_url: str, fleet: FleetOptions,
    stack: contextlib.ExitStack,
) -> DemoBroker:  # fmt: skip
    url = os.environ.get("MQTT_URL")
    if url:
        if kind != "auto":
            log.warning("MQTT_URL is set: using it, not starting %s", kind)
        env = {"MQTT_URL": url, "MQTT_PROTOCOL": os.environ.get("MQTT_PROTOCOL") or "5"}
        return DemoBroker(url, env, {}, "from MQTT_URL", url)
    import psycopg

    try:
        accounts = issue_accounts(database_url, work_dir, fleet.device_ids())
    except psycopg.Error as err:
        raise DemoError(f"cannot issue the broker accounts: {err}") from err
    broker = choose_broker(work_dir / "broker", kind, accounts.files)
    stack.callback(broker.stop)
    broker.start()
    protocol = mqtt_protocol(broker)
    name = "amqtt" if protocol == "3.1.1" else "Mosquitto"
    log.info("started %s at %s (MQTT %s), anonymous clients refused", name, broker.url, protocol)
    env = {
        "MQTT_URL": accounts.url(broker.url, WORKER),
        "MQTT_DISPATCH_URL": accounts.url(broker.url, DISPATCHER),
        "MQTT_PROTOCOL": protocol,
    }
    watch_file = work_dir / WATCH_URL_FILE
    write_private(watch_file, accounts.url(broker.url, WATCHER))
    note = (
        f"{name}, MQTT {protocol}, log {broker.log_path}; a password per device,"
        f" ACL {accounts.files.acl_file}"
    )
    return DemoBroker(broker.url, env, accounts.password_files, note,
                      f'"$(cat {watch_file})"')  # fmt: skip


def _api_port(host: str, wanted: int) -> int:
    """``wanted`` if it is free, else a free port (and say so): a clash is common on 8080."""
    if wanted and _can_bind(host, wanted):
        return wanted
    with socket.socket() as sock:
        sock.bind((host, 0))
        port = sock.getsockname()[1]
    if wanted:
        log.warning("port %d is taken on %s: the API uses port %d instead", wanted, host, port)
    return port


def _can_bind(host: str, port: int) -> bool:
    with socket.socket() as sock:
        # as the server will: a port left in TIME_WAIT by the previous run is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _migrate(env: dict[str, str]) -> None:
    from cloud.config import CloudConfig
    from cloud.store.migrate import migrate

    config = CloudConfig.from_env(env)
    report = migrate(
        config.database_url,
        layout=config.store_layout,
        retention_days=config.retention_days,
        partitions_ahead_days=config.partitions_ahead_days,
    )
    log.info(
        "store migrated (layout %s, %d applied, %d already)",
        report.layout,
        len(report.applied),
        len(report.already),
    )


def _wait_for_api(api_url: str, children: list[ChildProcess]) -> None:
    deadline = time.monotonic() + API_READY_TIMEOUT_S
    while time.monotonic() < deadline:
        for child in children:
            child.check()
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass  # not listening yet, or the database not ready yet (503)
        time.sleep(0.2)
    api = next(c for c in children if c.name == "api")
    raise DemoError(
        f"the API did not answer {api_url}/health within {API_READY_TIMEOUT_S:.0f} s;"
        f" the end of {api.log_path}:\n{api.tail()}"
    )


async def _run_fleet(
    fleet: SimulatedFleet, children: list[ChildProcess], duration: float | None
) -> int:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    if duration is not None:
        loop.call_later(duration, task.cancel)
    running = asyncio.create_task(fleet.run(), name="fleet")
    watching = asyncio.create_task(_watch(children), name="watch children")
    try:
        await asyncio.wait({running, watching}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        log.info("stopping")
    finally:
        # from here on a signal is ignored: closing the loop would restore the default
        # SIGTERM action, which would end us before the children are stopped
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        _ignore_signals()
        running.cancel()
        watching.cancel()
        results = await asyncio.gather(running, watching, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result
    return 0


async def _watch(children: list[ChildProcess]) -> None:
    while True:
        for child in children:
            child.check()
        await asyncio.sleep(0.5)


def _banner(
    options: DemoOptions,
    work_dir: Path,
    api_url: str,
    broker: DemoBroker,
    database_note: str,
    children: list[ChildProcess],
    access: DemoAccess,
    logins: list[Login],
) -> str:
    first = "sim-0001"
    logs = ", ".join(str(child.log_path) for child in children)
    auth = '-H "Authorization: Bearer $VOLTRENT_TOKEN"'
    console = api_url.removesuffix("/api") + "/"
    accounts = "".join(
        f"\n              {login.login}   password in {login.password_file}   ({login.who})"
        for login in logins
    )
    return f"""
VoltRent demo: {options.devices} simulated packs, each with its own edge agent
  API         {api_url}
  Console     {console}
  API docs    {api_url}/docs
  sign in     {access.login} / {access.password}   (POST {api_url}/auth/sign-in){accounts}
  token       export VOLTRENT_TOKEN=$(cat {access.token_file})
  try         curl -s {api_url}/fleet/summary {auth}
              curl -s {api_url}/devices/{first}/state {auth}
              curl -s '{api_url}/devices?online=true' {auth}
  cut power   curl -s -X POST {api_url}/devices/{first}/commands {auth} \\
                   -H 'Content-Type: application/json' \\
                   -d '{{"type": "set_discharge", "args": {{"on": false}}}}'
              curl -s {api_url}/devices/{first}/commands {auth}   (queued -> sent -> done)
  alarms      curl -s '{api_url}/alarms?state=open' {auth}
              curl -s '{api_url}/geofence-events' {auth}   (riders leaving "{SERVICE_AREA}")
  MQTT        {broker.url} ({broker.note})
              watch it: voltrent watch --mqtt {broker.watch}
  PostgreSQL  {database_note}
  logs        {logs}
  edge data   {work_dir / "sim"} (one outbox per device)
Ctrl-C stops everything.
"""


def _url_host(host: str) -> str:
    """The host to reach a server bound to ``host`` at, as written in a URL."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _ignore_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
