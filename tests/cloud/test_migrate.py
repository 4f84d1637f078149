"""Migrations against a real PostgreSQL: applied once, recorded, on each store layout; the
plain path's day partitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from cloud.errors import MigrationError
from cloud.store import partitions
from cloud.store.migrate import migrate, migrations, repeatables
from cloud.store.migrate import store_layout as layout_of

pytestmark = pytest.mark.postgres


def test_migrate_applies_every_step_once_and_is_idempotent(layout_empty_database, store_layout):
    first = migrate(layout_empty_database, layout="auto")
    # auto: timescale where the server has it loaded (the throwaway cluster), else partitioned
    assert first.layout == store_layout
    assert first.applied == [m.name for m in migrations(store_layout)]
    assert sorted(first.repeated) == sorted(r.name for r in repeatables(store_layout))
    second = migrate(layout_empty_database)
    assert second.applied == second.repeated == second.changed == []
    assert second.already == first.applied
    with psycopg.connect(layout_empty_database) as conn:
        recorded = [r[0] for r in conn.execute("SELECT name FROM schema_migration ORDER BY 1")]
        assert recorded == first.applied
        assert layout_of(conn) == store_layout


def test_each_layout_has_the_same_steps():
    plain = [m.version for m in migrations("partitioned")]
    assert plain == [m.version for m in migrations("timescale")]
    timescale_only = {m.name for m in migrations("timescale")} - {
        m.name for m in migrations("partitioned")
    }
    assert timescale_only == set()  # same step names: only the file variant differs
    texts = {m.sql for m in migrations("timescale")} - {m.sql for m in migrations("partitioned")}
    assert texts and all("timescaledb" in text for text in texts)


def test_asking_for_timescale_without_the_extension_is_refused(empty_database):
    # either state of a server without a usable timescaledb: no files, or files not preloaded
    why = r"timescaledb extension is (not installed|installed on this server but not loaded)"
    with pytest.raises(MigrationError, match=why):
        migrate(empty_database, layout="timescale")


def test_layout_cannot_change_in_place(database):
    with pytest.raises(MigrationError, match="cannot change in place"):
        migrate(database, layout="timescale")


def test_concurrent_migrates_apply_each_step_once(layout_empty_database, store_layout):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(lambda _: migrate(layout_empty_database), range(4)))
    applied = [name for report in reports for name in report.applied]
    assert sorted(applied) == sorted(m.name for m in migrations(store_layout))
    repeated = [name for report in reports for name in report.repeated]
    assert sorted(repeated) == sorted(r.name for r in repeatables(store_layout))


def test_partitions_ahead_and_retention(database):
    today = datetime.now(UTC).date()
    with psycopg.connect(database) as conn:
        partitions.maintain(conn, ahead_days=5, retention_days=30, today=today)
        days = partitions.existing_days(conn)
        assert {today + timedelta(days=n) for n in range(-1, 6)} <= days
        old = today - timedelta(days=40)
        with conn.transaction():
            partitions.ensure_days(conn, [old])
        assert old in partitions.existing_days(conn)
        _, dropped = partitions.maintain(conn, ahead_days=5, retention_days=30, today=today)
        assert partitions.partition_name("bms_sample", old) in dropped
        assert old not in partitions.existing_days(conn)


def test_rows_land_in_their_day_partition(database):
    day = datetime.now(UTC).date()
    with psycopg.connect(database) as conn:
        conn.execute("INSERT INTO device (id) VALUES ('pack-1')")
        conn.execute(
            """INSERT INTO position (device_id, time, seq, received_at, lat, lon, valid)
               VALUES ('pack-1', %s, 1, now(), 22.5, 113.9, true)""",
            (datetime(day.year, day.month, day.day, 12, tzinfo=UTC),),
        )
        (table,) = conn.execute("SELECT tableoid::regclass::text FROM position").fetchone()
        assert table == partitions.partition_name("position", day)
        # registering a device creates its state row
        assert conn.execute("SELECT count(*) FROM device_state").fetchone() == (1,)


def test_dead_letters_past_retention_are_deleted(database):
    from cloud.store.retention import prune_dead_letters

    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO dead_letter (received_at, topic, reason, payload, payload_bytes)
               VALUES (now() - INTERVAL '31 days', 't', 'old', 'x', 1),
                      (now() - INTERVAL '29 days', 't', 'recent', 'x', 1)"""
        )
        assert prune_dead_letters(conn, retention_days=30) == 1
        assert conn.execute("SELECT reason FROM dead_letter").fetchall() == [("recent",)]
