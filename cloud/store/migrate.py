"""Schema migrations: plain SQL files under cloud/migrations/, applied in order.

Numbered steps, ``NNNN_name.sql``, run once each and make tables, columns, indexes,
constraints, grants and data. ``NNNN_name.partitioned.sql`` and ``NNNN_name.timescale.sql``
are the two variants of one step, chosen by the store layout (the TimescaleDB code path
lives only in those files and in timescale.py). The layout is picked at the first migrate
and recorded, so later steps follow the same path. A file whose first line is
``-- voltrent: no-transaction`` runs statement by statement outside a transaction
(TimescaleDB's continuous aggregates require it); every other file runs in one transaction
with its record in ``schema_migration``.

Repeatable files, ``repeatable/name.sql`` (or ``name.partitioned.sql``, ``name.timescale.sql``
for one layout), hold every function, trigger and row-level policy: the current body of each
is in exactly one of them. They are written to be run again (CREATE OR REPLACE, DROP ... IF
EXISTS) and are applied after the numbered steps, in name order, whenever their text differs
from the one recorded in ``schema_repeatable``; each in one transaction with the search path
set to the store's schema and pg_temp (so ``SET search_path FROM CURRENT`` pins a function
to it). A numbered step that needs one of them while it runs (a generated column's function)
names it in a line ``-- voltrent: needs repeatable/name.sql``, and it is applied before it.
Taking an object out of a repeatable file leaves it in stores that have it: dropping it takes
a numbered step.

A numbered file rewritten on purpose after stores applied it (issue 14 moved the functions out
of them) is listed in cloud/store/superseded.py with the checksum it had: a store that recorded
exactly that one takes the new checksum without a warning; any other difference is reported
as ``changed``.

Safe to run on every start and from several processes at once (an advisory lock).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable

import psycopg

from cloud.errors import MigrationError
from cloud.store import partitions, superseded, timescale
from cloud.store.db import connect

log = logging.getLogger(__name__)

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(partitioned|timescale))?\.sql$")
_REPEATABLE = re.compile(r"^[a-z0-9_]+(?:\.(partitioned|timescale))?\.sql$")
_NEEDS = re.compile(r"^-- voltrent: needs repeatable/(\S+)$", re.M)
_NO_TRANSACTION = "-- voltrent: no-transaction"
_LOCK_KEY = 0x766F6C74  # "volt": one migrate at a time per database


def _checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Migration:
    """One numbered step: its version, name, and SQL text."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return _checksum(self.sql)

    @property
    def transactional(self) -> bool:
        return not self.sql.startswith(_NO_TRANSACTION)

    def edited_since(self, recorded: str) -> bool:
        """Whether this file differs from the text a store recorded as ``recorded``, other
        than by a rewrite cloud/store/superseded.py lists."""
        if recorded == self.checksum:
            return False
        return superseded.REWRITES.get(self.name, {}).get(recorded) != self.checksum

    @property
    def needs(self) -> list[str]:
        """The repeatable files this step uses while it runs."""
        return _NEEDS.findall(self.sql)


@dataclass(frozen=True)
class Repeatable:
    """One repeatable file: its name (``commands.sql``) and SQL text."""

    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return _checksum(self.sql)


@dataclass
class MigrationReport:
    """What migrate() found and did."""

    layout: str
    applied: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # applied files edited since
    superseded: list[str] = field(default_factory=list)  # rewritten on purpose (superseded.py)
    repeated: list[str] = field(default_factory=list)  # repeatable files (re-)applied


def _folder() -> Traversable:
    return resources.files("cloud").joinpath("migrations")


def migrations(layout: str) -> list[Migration]:
    """The numbered steps for a layout, in order."""
    steps: dict[int, Migration] = {}
    for entry in sorted(_folder().iterdir(), key=str):
        match = _FILE.match(entry.name)
        if not match:
            continue
        version, name, variant = int(match[1]), match[2], match[3]
        if variant not in (None, layout):
            continue
        if version in steps:
            raise MigrationError(f"two migrations numbered {version:04d}: {entry.name}")
        steps[version] = Migration(version, f"{version:04d}_{name}", entry.read_text())
    return [steps[v] for v in sorted(steps)]


def repeatables(layout: str) -> list[Repeatable]:
    """The repeatable files for a layout, in the order they are applied (by name)."""
    found = []
    for entry in sorted(_folder().joinpath("repeatable").iterdir(), key=lambda e: e.name):
        match = _REPEATABLE.match(entry.name)
        if match and match[1] in (None, layout):
            found.append(Repeatable(entry.name, entry.read_text()))
    return found


def migrate(
    url: str, *, layout: str = "auto", retention_days: int = 90, partitions_ahead_days: int = 3
) -> MigrationReport:
    """Bring the store at ``url`` up to date; MigrationError says what stops it."""
    with connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            report = _migrate_locked(conn, layout)
            if report.layout == "timescale":
                timescale.apply_retention(conn, retention_days)
            else:
                partitions.maintain(
                    conn, ahead_days=partitions_ahead_days, retention_days=retention_days
                )
            return report
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


def _migrate_locked(conn: psycopg.Connection, requested: str) -> MigrationReport:
    conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migration (
               version integer PRIMARY KEY,
               name text NOT NULL,
               checksum text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_repeatable (
               name text PRIMARY KEY,
               checksum text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS store_setting (key text PRIMARY KEY, value text NOT NULL)"
    )
    layout = _layout(conn, requested)
    report = MigrationReport(layout)
    done = {
        version: (name, checksum)
        for version, name, checksum in conn.execute(
            "SELECT version, name, checksum FROM schema_migration"
        )
    }
    files = {r.name: r for r in repeatables(layout)}
    for step in migrations(layout):
        if step.version in done:
            report.already.append(step.name)
            _compare(conn, step, done[step.version][1], report)
            continue
        for name in step.needs:
            if name not in files:
                raise MigrationError(f"migration {step.name} needs repeatable/{name}: no such file")
            _repeat(conn, files[name], report)
        log.info("applying migration %s (%s)", step.name, layout)
        try:
            _apply(conn, step)
        except psycopg.Error as err:
            raise MigrationError(f"migration {step.name} failed: {err}".strip()) from err
        report.applied.append(step.name)
    for repeatable in files.values():
        _repeat(conn, repeatable, report)
    return report


def _compare(
    conn: psycopg.Connection, step: Migration, recorded: str, report: MigrationReport
) -> None:
    """Note an applied step whose file differs from what was applied; take on the checksum
    of a rewrite superseded.py accepts."""
    if recorded == step.checksum:
        return
    if step.edited_since(recorded):
        report.changed.append(step.name)
        return
    conn.execute(
        "UPDATE schema_migration SET checksum = %s WHERE version = %s AND checksum = %s",
        (step.checksum, step.version, recorded),
    )
    report.superseded.append(step.name)


def _repeat(conn: psycopg.Connection, repeatable: Repeatable, report: MigrationReport) -> None:
    """Apply a repeatable file unless the store has this very text already."""
    row = conn.execute(
        "SELECT checksum FROM schema_repeatable WHERE name = %s", (repeatable.name,)
    ).fetchone()
    if row and row[0] == repeatable.checksum:
        return
    log.info("applying repeatable migration %s", repeatable.name)
    try:
        with conn.transaction():
            conn.execute(
                "SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true)"
            )
            conn.execute(repeatable.sql.encode())
            conn.execute(
                """INSERT INTO schema_repeatable (name, checksum) VALUES (%s, %s)
                   ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum,
                                                    applied_at = now()""",
                (repeatable.name, repeatable.checksum),
            )
    except psycopg.Error as err:
        raise MigrationError(f"repeatable migration {repeatable.name} failed: {err}") from err
    report.repeated.append(repeatable.name)


def _layout(conn: psycopg.Connection, requested: str) -> str:
    row = conn.execute("SELECT value FROM store_setting WHERE key = 'layout'").fetchone()
    if row:
        if requested not in ("auto", row[0]):
            raise MigrationError(
                f"this database was set up with the {row[0]!r} layout; VOLTRENT_STORE_LAYOUT"
                f" asks for {requested!r} (a layout cannot change in place)"
            )
        return row[0]
    why_not = timescale.unavailable_reason(conn)
    if requested == "timescale" and why_not:
        raise MigrationError(f"VOLTRENT_STORE_LAYOUT=timescale, but {why_not}")
    if requested == "auto" and why_not:
        log.info("using the partitioned layout: %s", why_not)
    layout = requested if requested != "auto" else ("partitioned" if why_not else "timescale")
    conn.execute(
        "INSERT INTO store_setting (key, value) VALUES ('layout', %s) ON CONFLICT DO NOTHING",
        (layout,),
    )
    return layout


def _apply(conn: psycopg.Connection, step: Migration) -> None:
    record = "INSERT INTO schema_migration (version, name, checksum) VALUES (%s, %s, %s)"
    if step.transactional:
        with conn.transaction():
            conn.execute(step.sql.encode())
            conn.execute(record, (step.version, step.name, step.checksum))
        return
    for statement in _statements(step.sql):
        conn.execute(statement.encode())
    conn.execute(record, (step.version, step.name, step.checksum))


def _statements(sql: str) -> list[str]:
    """Split a no-transaction file on semicolons that end a line (no function bodies)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]


def store_layout(conn: psycopg.Connection) -> str | None:
    """The layout a migrated store uses, or None before the first migrate."""
    try:
        row = conn.execute("SELECT value FROM store_setting WHERE key = 'layout'").fetchone()
    except psycopg.errors.UndefinedTable:
        conn.rollback()
        return None
    return row[0] if row else None
