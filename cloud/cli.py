"""``voltrent cloud migrate|worker|api|doctor``: the cloud processes, configured by the
environment (DATABASE_URL, MQTT_URL, ...; see cloud/config.py)."""

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
