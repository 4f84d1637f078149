"""The demo's broker accounts, made as production makes them: every simulated gateway its
own password, the worker's ingest and its dispatcher a service account each, and one more
for watching; the broker started with the password file and ACL of `voltrent cloud
broker-config`, anonymous clients refused.

Passwords are issued afresh at every start (each account rotated; only hashes are kept in
the store), and each is written where its user reads it, readable by the owner only: a
gateway's in its directory under ``sim/`` (the agent's ``mqtt.password_file``), the watch
account's broker URL in ``mqtt-watch-url``. The worker and dispatcher get theirs through
their environment (``MQTT_URL``, ``MQTT_DISPATCH_URL``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

from launcher.demo_access import write_private

if TYPE_CHECKING:
    from cloud.platform.broker_files import Written

WORKER = "_worker"
DISPATCHER = "_dispatcher"
WATCHER = "_watch"
AUTH_DIR = "broker-auth"
PASSWORD_FILE = "mqtt-password"
WATCH_URL_FILE = "mqtt-watch-url"


@dataclass(frozen=True)
class DemoAccounts:
    """What the broker is started with, and what each of its users signs in with."""

    files: Written
    service_passwords: dict[str, str]
    password_files: dict[str, Path]  # device id -> the file its agent reads

    def url(self, broker_url: str, username: str) -> str:
        """``broker_url`` with a service account's credentials in it."""
        return with_credentials(broker_url, username, self.service_passwords[username])


def with_credentials(url: str, username: str, password: str) -> str:
    """``url`` with ``username:password@`` (percent-encoded) before its host."""
    parts = urlsplit(url)
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


def issue_accounts(database_url: str, work_dir: Path, device_ids: list[str]) -> DemoAccounts:
    """Issue (or rotate) the accounts, write each device's password file and the broker's
    password file and ACL; psycopg.Error when the store refuses."""
    from cloud.platform import broker_accounts as accounts
    from cloud.platform import broker_files as files
    from cloud.store.db import connect

    password_files = {}
    service_passwords = {}
    with connect(database_url) as conn:
        for device_id in device_ids:
            password, _ = accounts.issue(conn, device_id)
            path = work_dir / "sim" / device_id / PASSWORD_FILE
            write_private(path, password)
            password_files[device_id] = path
        for name in (WORKER, DISPATCHER, WATCHER):
            service_passwords[name], _ = accounts.issue(conn, name, service=True)
        written = files.write(conn, work_dir / AUTH_DIR)
    return DemoAccounts(written, service_passwords, password_files)
