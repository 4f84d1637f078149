"""Who signs in to the demo: the platform's administrator ``admin@demo`` with a password made
at the first run and kept in the demo's directory, and an API token for the banner's curl
lines (a new one each run; the previous run's is revoked)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

ADMIN_LOGIN = "admin@demo"
TOKEN_NAME = "demo banner"


@dataclass(frozen=True)
class DemoAccess:
    login: str
    password: str
    token: str
    token_file: Path


def _secret_file(path: Path, make) -> str:
    if path.exists():
        return path.read_text().strip()
    value = make()
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return value


def set_up_access(database_url: str, work_dir: Path) -> DemoAccess:
    """The administrator (made once) and a fresh token; psycopg.Error when the store refuses."""
    from argon2 import PasswordHasher

    from cloud.access.principal import issue
    from cloud.store.db import connect

    password = _secret_file(work_dir / "admin-password", lambda: secrets.token_urlsafe(12))
    with connect(database_url) as conn:
        row = conn.execute("SELECT id FROM account WHERE login = %s", (ADMIN_LOGIN,)).fetchone()
        if row is None:
            account_id = conn.execute(
                "INSERT INTO account (operator_id, login, name, password_hash,"
                " password_changed_at) VALUES (1, %s, 'Demo administrator', %s, now())"
                " RETURNING id",
                (ADMIN_LOGIN, PasswordHasher().hash(password)),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO account_role (account_id, role_id) SELECT %s, id FROM role"
                " WHERE operator_id = 1 AND name = 'administrator'",
                (account_id,),
            )
        else:
            account_id = row[0]
        conn.execute(
            "UPDATE credential SET revoked_at = now(), revoked_by = 'demo'"
            " WHERE account_id = %s AND kind = 'token' AND name = %s AND revoked_at IS NULL",
            (account_id, TOKEN_NAME),
        )
        _, token = issue(conn, account_id, "token", name=TOKEN_NAME)
    token_file = work_dir / "token"
    token_file.touch(mode=0o600)
    token_file.write_text(token + "\n")
    return DemoAccess(ADMIN_LOGIN, password, token, token_file)
