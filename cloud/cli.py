"""``voltrent cloud migrate|worker|api|doctor|broker-config|broker-account``: the cloud
processes and tools, configured by the environment (DATABASE_URL, MQTT_URL, ...; see
cloud/config.py)."""

from __future__ import annotations

import argparse
import logging
import sys

from cloud.config import CloudConfig
from cloud.errors import CloudError


def add_parser(commands: argparse._SubParsersAction) -> None:
    cloud = commands.add_parser(
        "cloud",
        help="run a cloud process (migrate, worker, api, doctor)",
        description="Cloud processes. Configuration comes from the environment: DATABASE_URL,"
        " MQTT_URL and the VOLTRENT_* variables listed in the README.",
    )
    actions = cloud.add_subparsers(dest="action", required=True)
    actions.add_parser("migrate", help="create or update the store's schema (idempotent)")
    worker = actions.add_parser("worker", help="ingest MQTT uplink into the store")
    worker.add_argument(
        "--no-migrate", action="store_true", help="do not migrate the store at start"
    )
    actions.add_parser("api", help="serve the REST API and its OpenAPI docs")
    actions.add_parser("doctor", help="check the store and the broker and say what is wrong")
    broker = actions.add_parser(
        "broker-config",
        help="write the Mosquitto password file and ACL from the broker accounts",
        description="Writes DIR/passwd and DIR/acl (devices: their own topics only; services:"
        " all of vr/v1/). Point mosquitto.conf at them and send the broker SIGHUP after each run.",
    )
    broker.add_argument("--out", required=True, metavar="DIR", help="where to write the files")
    account = actions.add_parser(
        "broker-account",
        help="issue, rotate or revoke a broker account (prints a new password once)",
    )
    account.add_argument("verb", choices=("issue", "revoke"))
    account.add_argument("username", help="a device id, or a service name starting with '_'")
    cloud.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        config = CloudConfig.from_env()
        if args.action == "migrate":
            return _migrate(config)
        if args.action == "worker":
            from cloud.ingest.worker import run_worker

            return run_worker(config, migrate_first=not args.no_migrate)
        if args.action == "api":
            from cloud.api.server import serve

            serve(config)
            return 0
        if args.action == "broker-config":
            return _broker_config(config, args.out)
        if args.action == "broker-account":
            return _broker_account(config, args.verb, args.username)
        from cloud.doctor import run_doctor

        return run_doctor(config)
    except CloudError as err:
        print(f"voltrent cloud {args.action}: {err}", file=sys.stderr)
        return 1


def _migrate(config: CloudConfig) -> int:
    from cloud.store.db import describe
    from cloud.store.migrate import migrate

    report = migrate(
        config.database_url,
        layout=config.store_layout,
        retention_days=config.retention_days,
        partitions_ahead_days=config.partitions_ahead_days,
    )
    print(f"{describe(config.database_url)}: layout {report.layout}")
    for name in report.applied:
        print(f"  applied {name}")
    if not report.applied:
        print(f"  up to date ({len(report.already)} migrations)")
    for name in report.changed:
        print(f"  warning: {name} was edited after it was applied", file=sys.stderr)
    return 0


def _broker_config(config: CloudConfig, out: str) -> int:
    from pathlib import Path

    from cloud.broker import files
    from cloud.store.db import connect

    with connect(config.database_url) as conn:
        written = files.write(conn, Path(out))
    print(f"wrote {written.password_file} ({written.devices} devices, {written.services}"
          f" services) and {written.acl_file}")  # fmt: skip
    print("mosquitto.conf needs (per listener):")
    print(f"  password_file {written.password_file.resolve()}")
    print(f"  acl_file {written.acl_file.resolve()}")
    print("  allow_anonymous false")
    print("then reload the broker: kill -HUP <mosquitto pid>")
    return 0


def _broker_account(config: CloudConfig, verb: str, username: str) -> int:
    import psycopg

    from cloud.broker import accounts
    from cloud.store.db import connect

    service = username.startswith(accounts.SERVICE_PREFIX)
    with connect(config.database_url) as conn:
        if verb == "revoke":
            if not accounts.revoke(conn, username):
                print(f"{username}: no active broker account", file=sys.stderr)
                return 1
            print(f"{username}: revoked; run broker-config and reload the broker")
            return 0
        try:
            password, _ = accounts.issue(conn, username, service=service)
        except psycopg.errors.ForeignKeyViolation:
            print(f"{username}: not a registered device (POST /api/devices first; service"
                  " accounts start with '_')", file=sys.stderr)  # fmt: skip
            return 1
    print(f"username: {username}")
    print(f"password: {password}")
    print("(shown once; only its hash is kept. Run broker-config and reload the broker.)")
    return 0
