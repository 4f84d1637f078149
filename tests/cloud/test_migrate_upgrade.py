"""A store migrated by the previous head (ec8bef6: functions, triggers and policies still in
the numbered files) upgrades to exactly the schema of a fresh store, on each layout, and the
rewrite of its numbered files is accepted while any other edit is still reported."""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from cloud.store import migrate as migrate_module
from cloud.store import superseded
from cloud.store.migrate import migrate, repeatables
from tests.cloud.store_support import (
    PREVIOUS_HEAD_STEPS,
    catalog,
    migrate_as_previous_head,
    previous_head_files,
)

pytestmark = pytest.mark.postgres


def test_a_store_of_the_previous_head_upgrades_to_the_fresh_schema(
    layout_empty_database, layout_database, store_layout, monkeypatch
):
    migrate_as_previous_head(layout_empty_database, monkeypatch)
    report = migrate(layout_empty_database)
    assert report.layout == store_layout
    steps = migrate_module.migrations(store_layout)
    later = [m.name for m in steps if m.version > PREVIOUS_HEAD_STEPS]
    assert report.applied == later and report.changed == []
    assert report.superseded == sorted(superseded.REWRITES)
    assert sorted(report.repeated) == sorted(r.name for r in repeatables(store_layout))
    upgraded, fresh = catalog(layout_empty_database), catalog(layout_database)
    for part in fresh:
        assert upgraded[part] == fresh[part], part
    assert migrate(layout_empty_database).superseded == []  # the new checksums are recorded


def test_the_kept_files_are_the_previous_heads_and_their_rewrites_are_listed():
    kept = previous_head_files()
    assert sorted(kept) == sorted(superseded.REWRITES)
    current = {m.name: m.checksum for m in migrate_module.migrations("partitioned")}
    for name, text in kept.items():
        old = hashlib.sha256(text.encode()).hexdigest()[:16]
        assert superseded.REWRITES[name] == {old: current[name]}, name


def _record(url: str, step: str, checksum: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE schema_migration SET checksum = %s WHERE name = %s", (checksum, step))


def test_an_edit_nobody_listed_is_still_reported(database):
    _record(database, "0001_registry", "0123456789abcdef")
    report = migrate(database)
    assert report.changed == ["0001_registry"] and report.superseded == []
    assert migrate(database).changed == ["0001_registry"]  # reported until someone looks


def test_a_listed_file_edited_again_is_reported(database, monkeypatch):
    (old,) = superseded.REWRITES["0011_tenancy"]
    _record(database, "0011_tenancy", old)
    monkeypatch.setitem(superseded.REWRITES, "0011_tenancy", {old: "fedcba9876543210"})
    report = migrate(database)
    assert report.changed == ["0011_tenancy"] and report.superseded == []


def test_the_migrate_command_names_the_rewrites_without_a_warning(
    empty_database, monkeypatch, capsys
):
    from cloud.cli import _migrate
    from cloud.config import CloudConfig, MqttSettings

    migrate_as_previous_head(empty_database, monkeypatch)
    config = CloudConfig(database_url=empty_database, mqtt=MqttSettings(url="mqtt://127.0.0.1:1"))
    assert _migrate(config) == 0
    out, err = capsys.readouterr()
    assert "0011_tenancy: rewritten on purpose" in out and "applied repeatable/tenancy.sql" in out
    assert "warning" not in err
    assert _migrate(config) == 0
    assert "up to date (" in capsys.readouterr().out


ROLLUPS = ("bms_1m", "bms_1h", "rollup_pending")
_REFRESH_JOBS = """SELECT count(*) FROM timescaledb_information.jobs
                   WHERE proc_name = 'policy_refresh_continuous_aggregate'"""


def _rollups(conn: psycopg.Connection) -> list[str]:
    return [t for t in ROLLUPS if conn.execute("SELECT to_regclass(%s)", (t,)).fetchone()[0]]


def test_the_unread_rollups_go_with_their_upkeep(layout_empty_database, store_layout, monkeypatch):
    """bms_1m and bms_1h were kept up and read by nothing, and could not answer the history's
    buckets as the raw rows do (0016 says why): an upgrade drops them, with what kept them."""
    migrate_as_previous_head(layout_empty_database, monkeypatch)
    with psycopg.connect(layout_empty_database) as conn:
        if store_layout == "timescale":
            assert _rollups(conn) == ["bms_1m", "bms_1h"]
            assert conn.execute(_REFRESH_JOBS).fetchone() == (2,)
        else:
            assert _rollups(conn) == list(ROLLUPS)
            conn.execute("INSERT INTO rollup_pending VALUES ('pack-1', now())")
            conn.execute("INSERT INTO bms_1m (bucket, device_id, samples) VALUES (now(), 'p', 1)")
    assert "0016_drop_rollups" in migrate(layout_empty_database).applied
    with psycopg.connect(layout_empty_database) as conn:
        assert _rollups(conn) == []
        if store_layout == "timescale":
            assert conn.execute(_REFRESH_JOBS).fetchone() == (0,)


def test_the_doctor_sends_a_store_of_the_previous_head_to_migrate_without_alarm(
    empty_database, monkeypatch
):
    from cloud.config import CloudConfig, MqttSettings
    from cloud.platform.doctor import check_store

    config = CloudConfig(database_url=empty_database, mqtt=MqttSettings(url="mqtt://127.0.0.1:1"))
    migrate_as_previous_head(empty_database, monkeypatch)
    schema = [f for f in check_store(config) if f.subject == "schema"]
    assert [f.level for f in schema] == ["FAIL"]  # pending, not "edited after applied"
    assert "repeatable/tenancy.sql" in schema[0].text and "cloud migrate" in schema[0].text
    migrate(empty_database)
    schema = [f for f in check_store(config) if f.subject == "schema"]
    assert [(f.level, "repeatable files" in f.text) for f in schema] == [("ok", True)]
