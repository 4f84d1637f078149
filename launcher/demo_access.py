"""Who signs in to the demo: the platform's administrator ``admin@demo`` with a password made
at the first run and kept in the demo's directory, and an API token for the banner's curl
lines (a new one each run; the previous run's is revoked)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ADMIN_LOGIN = "admin@demo"
TOKEN_NAME = "demo banner"


@dataclass(frozen=True)
class DemoAccess:
    login: str
    password: str
    token_file: Path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text + "\n")


def kept_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret in ``path``, made by ``make`` and written there at the first run."""
    if not path.exists():
        write_private(path, make())
    return path.read_text().strip()


def set_up_access(database_url: str, work_dir: Path) -> DemoAccess:
    """The administrator (made once) and a fresh token; psycopg.Error when the store refuses."""
    from cloud.identity import accounts, passwords
    from cloud.identity.principal import issue
    from cloud.store.db import connect

    password = kept_secret(work_dir / "admin-password", passwords.generate)
    with connect(database_url) as conn:
        row = conn.execute("SELECT id FROM account WHERE login = %s", (ADMIN_LOGIN,)).fetchone()
        if row is None:
            administrator = conn.execute(
                "SELECT id FROM role WHERE operator_id = 1 AND name = 'administrator'"
            ).fetchone()[0]
            account_id = accounts.create(
                conn, operator_id=1, login=ADMIN_LOGIN, name="Demo administrator",
                password=password, role_ids=[administrator],
            )  # fmt: skip
        else:
            account_id = row[0]
        conn.execute(
            "UPDATE credential SET revoked_at = now(), revoked_by = 'demo'"
            " WHERE account_id = %s AND kind = 'token' AND name = %s AND revoked_at IS NULL",
            (account_id, TOKEN_NAME),
        )
        _, token = issue(conn, account_id, "token", name=TOKEN_NAME)
    token_file = work_dir / "token"
    write_private(token_file, token)
    return DemoAccess(ADMIN_LOGIN, password, token_file)
