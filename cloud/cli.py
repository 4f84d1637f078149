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
    command_key = actions.add_parser(
        "command-key",
        help="print the [commands] section of a gateway's edge.toml (its command key)",
        description="Prints the device's current command key (derived from"
        " VOLTRENT_COMMAND_KEY) as the TOML its gateway needs; --rotate first moves it to a new"
        " generation, after which a gateway holding only the old key refuses new commands.",
    )
    command_key.add_argument("device_id")
    command_key.add_argument("--rotate", action="store_true", help="issue a new key first")
    person = actions.add_parser(
        "account",
        help="create a person's account (prints its generated password once)",
        description="Creates an account with a generated password, printed once: how the first"
        " administrator is made. Default: the platform operator and its administrator role.",
    )
    person.add_argument("verb", choices=("create",))
    person.add_argument("login", help="lower case: letters, digits and @ . _ + -")
    person.add_argument("--operator", type=int, default=1, metavar="ID", help="default: 1")
    person.add_argument(
        "--role", action="append", metavar="NAME", help="a role of that operator (repeatable);"
        " default: administrator",
    )  # fmt: skip
    cloud.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        config = CloudConfig.from_env()
        if args.action == "migrate":
            return _migrate(config)
        if args.action == "worker":
            from cloud.worker import run_worker

            return run_worker(config, migrate_first=not args.no_migrate)
        if args.action == "api":
            from cloud.server import serve

            serve(config)
            return 0
        if args.action == "broker-config":
            return _broker_config(config, args.out)
        if args.action == "broker-account":
            return _broker_account(config, args.verb, args.username)
        if args.action == "command-key":
            return _command_key(config, args.device_id, args.rotate)
        if args.action == "account":
            return _create_account(config, args.login, args.operator, args.role)
        from cloud.platform.doctor import run_doctor

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
    for name in report.repeated:
        print(f"  applied repeatable/{name}")
    if not report.applied and not report.repeated:
        print(f"  up to date ({len(report.already)} migrations)")
    for name in report.superseded:
        print(f"  {name}: rewritten on purpose (cloud/store/superseded.py), checksum updated")
    for name in report.changed:
        print(f"  warning: {name} was edited after it was applied", file=sys.stderr)
    return 0


def _broker_config(config: CloudConfig, out: str) -> int:
    from pathlib import Path

    from cloud.platform import broker_files as files
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

    from cloud.platform import broker_accounts as accounts
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


def _command_key(config: CloudConfig, device_id: str, rotate: bool) -> int:
    from cloud.commands import keys as command_keys
    from cloud.store.db import connect

    if config.command_key is None:
        print("command signing is off: set VOLTRENT_COMMAND_KEY", file=sys.stderr)
        return 1
    with connect(config.database_url) as conn:
        find = command_keys.rotate if rotate else command_keys.generation
        generation = find(conn, device_id)
    if generation is None:
        print(f"{device_id}: not a registered device", file=sys.stderr)
        return 1
    print(command_keys.Signer(config.command_key).key(device_id, generation).edge_toml(), end="")
    return 0


def _create_account(
    config: CloudConfig, login: str, operator_id: int, roles: list[str] | None
) -> int:
    import psycopg

    from cloud.identity import accounts, passwords
    from cloud.store.db import connect

    login = login.strip().lower()
    roles = roles or ["administrator"]
    password = passwords.generate()
    with connect(config.database_url) as conn:
        if conn.execute("SELECT 1 FROM operator WHERE id = %s", (operator_id,)).fetchone() is None:
            print(f"no operator {operator_id}", file=sys.stderr)
            return 1
        found = dict(conn.execute(
            "SELECT name, id FROM role WHERE operator_id = %s AND name = ANY (%s)",
            (operator_id, roles),
        ).fetchall())  # fmt: skip
        missing = [name for name in roles if name not in found]
        if missing:
            print(f"operator {operator_id} has no role {missing[0]!r}", file=sys.stderr)
            return 1
        try:
            account_id = accounts.create(
                conn, operator_id=operator_id, login=login, name=login, password=password,
                role_ids=list(found.values()),
            )  # fmt: skip
        except psycopg.errors.UniqueViolation:
            print(f"the login {login!r} is taken", file=sys.stderr)
            return 1
        except psycopg.errors.CheckViolation:
            print(f"{login!r} is not a valid login: 3..200 characters of a-z, 0-9 and @ . _ + -",
                  file=sys.stderr)  # fmt: skip
            return 1
    print(f"account {account_id}: {login} (operator {operator_id}; roles {', '.join(roles)})")
    print(f"password: {password}")
    print("(shown once; only its hash is kept. Change it: PUT /api/auth/password)")
    return 0
