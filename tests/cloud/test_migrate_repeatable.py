"""Repeatable migrations: every function, trigger and policy is made by exactly one repeatable
file (never by a numbered step), and a file is applied again when, and only when, its text
changes."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace

import psycopg
import pytest

from cloud.errors import MigrationError
from cloud.store import migrate as migrate_module
from cloud.store.migrate import migrate, migrations, repeatables

pytestmark = pytest.mark.postgres

# Notes which migration file made each function, trigger and policy of the store's schema
# (dynamic SQL included: an event trigger sees every command).
_WATCH = """
CREATE TABLE ddl_seen (file text, tag text, identity text);
CREATE FUNCTION ddl_seen_note() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.ddl_seen
    SELECT current_setting('voltrent.test_file', true), c.command_tag, c.object_identity
    FROM pg_event_trigger_ddl_commands() c
    WHERE NOT c.in_extension AND c.object_type IN ('function', 'trigger', 'policy')
      AND c.object_identity NOT LIKE 'public.ddl_seen%';
END $$;
CREATE EVENT TRIGGER ddl_seen_note ON ddl_command_end EXECUTE FUNCTION ddl_seen_note();
"""


def _named(original):
    def run(conn, item, *rest):
        conn.execute("SELECT set_config('voltrent.test_file', %s, false)", (item.name,))
        return original(conn, item, *rest)

    return run


def test_each_function_trigger_and_policy_is_made_in_one_repeatable_file(
    layout_empty_database, store_layout, monkeypatch
):
    with psycopg.connect(layout_empty_database, autocommit=True) as conn:
        conn.execute(_WATCH)
    monkeypatch.setattr(migrate_module, "_apply", _named(migrate_module._apply))
    monkeypatch.setattr(migrate_module, "_repeat", _named(migrate_module._repeat))
    migrate(layout_empty_database)
    with psycopg.connect(layout_empty_database) as conn:
        made = conn.execute("SELECT file, tag, identity FROM ddl_seen").fetchall()
        schema = {
            name
            for (name,) in conn.execute(
                """SELECT p.oid::regprocedure::text FROM pg_proc p
                   WHERE p.pronamespace = current_schema()::regnamespace
                     AND p.proname NOT LIKE 'ddl_seen%'
                     AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                     WHERE d.objid = p.oid AND d.deptype = 'e')
                   UNION ALL
                   SELECT t.tgname || ' on ' || t.tgrelid::regclass::text FROM pg_trigger t
                   JOIN pg_class c ON c.oid = t.tgrelid
                   WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal
                   UNION ALL
                   SELECT policyname || ' on ' || tablename FROM pg_policies
                   WHERE schemaname = current_schema()"""
            )
        }
    files_of: dict[str, set[str]] = defaultdict(set)
    for file, _tag, identity in made:
        files_of[identity.replace("public.", "").replace('"', "")].add(file)
    assert schema and set(files_of) == schema  # nothing made any other way, nothing left over
    repeatable_names = {r.name for r in repeatables(store_layout)}
    for identity, files in files_of.items():
        assert len(files) == 1 and files <= repeatable_names, (identity, files)


_DEFINES = re.compile(
    r"\b(CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|TRIGGER)|(CREATE|DROP|ALTER)\s+POLICY"
    r"|ALTER\s+FUNCTION)\b",
    re.I,
)


def test_numbered_files_make_no_function_trigger_or_policy():
    for layout in ("partitioned", "timescale"):
        for step in migrations(layout):
            code = "\n".join(line.split("--")[0] for line in step.sql.splitlines())
            assert not _DEFINES.search(code), step.name


def _changed(name: str, old: str, new: str):
    every = repeatables

    def edited(layout):
        files = every(layout)
        assert any(r.name == name and old in r.sql for r in files)
        return [replace(r, sql=r.sql.replace(old, new)) if r.name == name else r for r in files]

    return edited


def test_a_repeatable_file_is_applied_again_only_when_its_text_changes(database, monkeypatch):
    assert migrate(database).repeated == []  # unchanged: not applied again
    monkeypatch.setattr(
        migrate_module, "repeatables", _changed("commands.sql", "'cmd:'", "'command:'")
    )
    assert migrate(database).repeated == ["commands.sql"]
    with psycopg.connect(database) as conn:
        body = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = 'command_notify'")
        assert "'command:'" in body.fetchone()[0]
        (checksum,) = conn.execute(
            "SELECT checksum FROM schema_repeatable WHERE name = 'commands.sql'"
        ).fetchone()
    (edited,) = [r for r in migrate_module.repeatables("partitioned") if r.name == "commands.sql"]
    assert checksum == edited.checksum
    assert migrate(database).repeated == []


def test_a_failing_repeatable_file_changes_nothing(database, monkeypatch):
    monkeypatch.setattr(
        migrate_module,
        "repeatables",
        _changed("commands.sql", "'cmd:'", "'command:'; CREATE POLICY broken ON nowhere USING (1)"),
    )
    with pytest.raises(MigrationError, match=r"repeatable migration commands\.sql failed"):
        migrate(database)
    with psycopg.connect(database) as conn:
        body = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = 'command_notify'")
        assert "'cmd:'" in body.fetchone()[0]


def test_a_step_that_needs_a_missing_repeatable_file_is_refused(empty_database, monkeypatch):
    every = migrations
    monkeypatch.setattr(
        migrate_module,
        "migrations",
        lambda layout: [
            replace(m, sql="-- voltrent: needs repeatable/nothing.sql\n" + m.sql)
            for m in every(layout)
        ],
    )
    with pytest.raises(MigrationError, match=r"0001_registry needs repeatable/nothing\.sql"):
        migrate(empty_database)
