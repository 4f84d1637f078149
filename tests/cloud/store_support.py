"""The store as an older head left it, and its catalog, for the migration tests.

``tests/data/migrations_ec8bef6.tar.gz`` keeps the numbered files that issue 14 rewrote, as
they were at commit ec8bef6 (the head before it): with them, a test migrates a store the way
that head did, functions and policies in the numbered files, and then upgrades it. They are
an archive so that a search for a function finds only its current definition.
"""

from __future__ import annotations

import functools
import tarfile
from dataclasses import replace
from pathlib import Path

import psycopg

from cloud.store import migrate as migrate_module

PREVIOUS_HEAD = Path(__file__).resolve().parents[1] / "data" / "migrations_ec8bef6.tar.gz"
PREVIOUS_HEAD_STEPS = 15  # the numbered steps that head had


@functools.cache
def previous_head_files() -> dict[str, str]:
    """The rewritten numbered files as ec8bef6 had them: step name -> text."""
    with tarfile.open(PREVIOUS_HEAD) as archive:
        return {
            member.name.removesuffix(".sql"): archive.extractfile(member).read().decode()
            for member in archive.getmembers()
            if member.isfile()
        }


_current_migrations = migrate_module.migrations


def previous_head_migrations(layout: str) -> list[migrate_module.Migration]:
    """The numbered steps as ec8bef6 had them (its text where issue 14 rewrote a file)."""
    old = previous_head_files()
    steps = [m for m in _current_migrations(layout) if m.version <= PREVIOUS_HEAD_STEPS]
    return [replace(m, sql=old[m.name]) if m.name in old else m for m in steps]


def migrate_as_previous_head(url: str, monkeypatch, *, before: int | None = None) -> None:
    """Migrate ``url`` as ec8bef6 did (only the steps numbered below ``before``, if given)."""
    with monkeypatch.context() as older:
        older.setattr(
            migrate_module,
            "migrations",
            lambda layout: [
                m for m in previous_head_migrations(layout) if before is None or m.version < before
            ],
        )
        older.setattr(migrate_module, "repeatables", lambda layout: [])
        migrate_module.migrate(url)


# What a migration makes, each as sorted rows of text: two stores with equal catalogs have the
# same schema, whatever order their objects were made in. Partitions are left out: the day
# partitions made are the days of the migrate, not something a migration decides.
_CATALOG = {
    "tables": """
        SELECT c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity,
               coalesce(pg_get_expr(c.relpartbound, c.oid), ''), c.relacl::text
        FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace
          AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND NOT c.relispartition""",
    "columns": """
        SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
               a.attnotnull, a.attgenerated, a.attidentity,
               coalesce(pg_get_expr(d.adbin, d.adrelid), ''), coalesce(a.attacl::text, ''),
               coalesce(col_description(c.oid, a.attnum), '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = current_schema()::regnamespace
          AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
          AND a.attnum > 0 AND NOT a.attisdropped""",
    "indexes": """
        SELECT c.relname, i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
        JOIN pg_class i ON i.oid = x.indexrelid
        WHERE c.relnamespace = current_schema()::regnamespace AND NOT c.relispartition""",
    "constraints": """
        SELECT c.relname, k.conname, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
        WHERE c.relnamespace = current_schema()::regnamespace AND NOT c.relispartition""",
    "functions": """
        SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), coalesce(p.proacl::text, '')
        FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_depend d  -- TimescaleDB's own, in public
                          WHERE d.objid = p.oid AND d.deptype = 'e')""",
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
          AND NOT c.relispartition""",
    "policies": """
        SELECT tablename, policyname, permissive, roles::text, cmd, coalesce(qual, ''),
               coalesce(with_check, '')
        FROM pg_policies WHERE schemaname = current_schema()""",
    "grants": """
        SELECT nspname, coalesce(nspacl::text, '') FROM pg_namespace
        WHERE oid = current_schema()::regnamespace""",
    "extensions": "SELECT extname, extversion FROM pg_extension",
    "settings": "SELECT key, value FROM store_setting",
    "steps": "SELECT version, name, checksum FROM schema_migration",
    "repeatables": "SELECT name, checksum FROM schema_repeatable",
}


def catalog(url: str) -> dict[str, list[tuple]]:
    """The schema of the store at ``url``: tables (with row-level security flags and grants),
    columns, indexes, constraints, function definitions, triggers, policies, extensions, and
    which migrations it records."""
    with psycopg.connect(url) as conn:
        return {
            part: sorted(tuple(map(str, row)) for row in conn.execute(query))
            for part, query in _CATALOG.items()
        }
