"""The Mosquitto password file and ACL, written from ``broker_account``.

Devices may publish only under ``vr/v1/{their id}/up/`` and read only under
``vr/v1/{their id}/down/``: one ``pattern`` pair covers every device, since a device's
username is its id. Service accounts (the workers) may read and write all of ``vr/v1/`` and
read the broker's ``$SYS`` counters (doctor). Revoked accounts are left out, so after the
broker reloads the files (SIGHUP) they cannot connect any more.

The files are written next to each other, each to a temporary name and renamed into place,
so a broker reloading meanwhile reads the old files or the new ones, never half of one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from cloud.platform.broker_accounts import ACTIVE

PASSWORD_FILE = "passwd"
ACL_FILE = "acl"


@dataclass(frozen=True)
class Written:
    password_file: Path
    acl_file: Path
    devices: int
    services: int


def acl_text(services: list[str], stamp: str) -> str:
    lines = [
        f"# Written by `voltrent cloud broker-config` at {stamp}; it is rewritten, do not edit.",
        "# Every device: publish only under its own up/, read only its own down/.",
        "pattern write vr/v1/%u/up/#",
        "pattern read vr/v1/%u/down/#",
        "",
        "# The cloud's services: all of vr/v1/, and the broker's counters.",
    ]
    for name in services:
        lines += [f"user {name}", "topic readwrite vr/v1/#", "topic read $SYS/#", ""]
    return "\n".join(lines) + "\n"


def write(conn: psycopg.Connection, directory: Path) -> Written:
    """Write ``passwd`` and ``acl`` into ``directory`` from the active accounts."""
    rows = conn.execute(ACTIVE).fetchall()
    directory.mkdir(parents=True, exist_ok=True)
    services = [name for name, kind, _ in rows if kind == "service"]
    passwd = "".join(f"{name}:{password_hash}\n" for name, _, password_hash in rows)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    password_file = _replace(directory / PASSWORD_FILE, passwd, mode=0o600)
    acl_file = _replace(directory / ACL_FILE, acl_text(services, stamp), mode=0o644)
    return Written(password_file, acl_file, len(rows) - len(services), len(services))


def _replace(path: Path, text: str, *, mode: int) -> Path:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(temporary, mode)
    os.replace(temporary, path)
    return path
