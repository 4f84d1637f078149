"""Helpers for the API tests (no tests here): an app on a test database, and rows put in
the store with plain SQL, the way ingest would leave them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from flask import Flask
from flask.testing import FlaskClient
from psycopg import sql
from psycopg.types.json import Jsonb

from cloud.app import create_app
from cloud.config import CloudConfig
from cloud.http.db import database as app_database
from cloud.http.db import init_database
from cloud.notify.destinations import AllowList
from tests.cloud.tenancy_support import root_token

# A whole hour three hours ago: T0 .. T0 + 150 min (the furthest any test goes) is past
# whatever the hour the tests run at, and inside the partitions of yesterday and today that
# a migrated store has. (01:00 today, as it was, lies ahead of the tests run before 03:30.)
T0 = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)


UNREACHABLE_DATABASE = "postgresql://postgres@127.0.0.1:1/voltrent"
ROOT = "root"  # api_client's default: sign in as the platform's administrator


def at(minutes: float) -> datetime:
    """T0 plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


def iso(moment: datetime) -> str:
    """The API's spelling of a time (UTC, milliseconds, Z)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Building the app (its routes and OpenAPI document) takes longer than most API tests: one
# app per test process and configuration, given each test's database afresh. Everything
# else an app holds is read from its configuration (see cloud/app.py).
_APPS: dict[CloudConfig, Flask] = {}


def _app_for(config: CloudConfig) -> Flask:
    """The app for ``config``, on ``config``'s database."""
    key = dataclasses.replace(config, database_url="")
    app = _APPS.get(key)
    if app is None:
        app = _APPS[key] = create_app(config)
    else:
        init_database(app, config.database_url, config.api_db_role)
        app.config["CLOUD_CONFIG"] = config
    return app


@contextmanager
def api_client(
    database_url: str, *, secret: str | None = ROOT, api_db_role: str = "voltrent_api",
    webhook_allow: AllowList | None = None, fresh: bool = False,
) -> Iterator[FlaskClient]:  # fmt: skip
    """A test client of an app on ``database_url``, sending ``secret`` as its bearer (by
    default a token of the platform's administrator; None: not signed in); its pool is
    closed afterwards. ``webhook_allow``: the private receivers webhooks may name. ``fresh``:
    an app of its own, for a test that changes the app."""
    config = CloudConfig(database_url=database_url, api_db_role=api_db_role,
                         webhook_allow=webhook_allow or AllowList())  # fmt: skip
    app = create_app(config) if fresh else _app_for(config)
    client = app.test_client()
    if secret == ROOT:
        secret = root_token(database_url)
    if secret is not None:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    try:
        yield client
    finally:
        app_database(app).close()


@contextmanager
def offline_api_client() -> Iterator[FlaskClient]:
    """A test client of an app whose database does not answer (nothing listens on port 1):
    for what the API must decide before it needs the store, and for the store being down."""
    app = create_app(CloudConfig(database_url=UNREACHABLE_DATABASE))
    app_database(app).timeout_s = 0.5
    try:
        yield app.test_client()
    finally:
        app_database(app).close()


def problem_of(response, status: int) -> dict[str, Any]:
    """The problem body of ``response``, after checking its status and content type."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    return body


def add_device(conn: psycopg.Connection, device_id: str, **columns: Any) -> None:
    columns = {"kind": "pack", "model": "", "name": "", **columns}
    if "attributes" in columns:
        columns["attributes"] = Jsonb(columns["attributes"])
    names = ["id", *columns]
    conn.execute(
        sql.SQL("INSERT INTO device ({}) VALUES ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(sql.Placeholder() * len(names)),
        ),
        [device_id, *columns.values()],
    )


def set_state(conn: psycopg.Connection, device_id: str, **columns: Any) -> None:
    """Update the device's device_state row as ingest would."""
    conn.execute(
        sql.SQL("UPDATE device_state SET {} WHERE device_id = %s").format(
            sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(name)) for name in columns)
        ),
        [Jsonb(v) if isinstance(v, dict) else v for v in columns.values()] + [device_id],
    )


def insert(conn: psycopg.Connection, table: str, **columns: Any) -> None:
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        ),
        [Jsonb(v) if isinstance(v, dict) else v for v in columns.values()],
    )


def insert_bms(
    conn: psycopg.Connection, device_id: str, time: datetime, seq: int, **columns: Any
) -> None:
    row = {
        "pack_voltage_v": 52.0,
        "current_a": 0.0,
        "soc_percent": 50.0,
        "cell_voltages_v": [3.7] * 14,
        "temperatures_c": [25.0, 26.0],
        "charge_mos": True,
        "discharge_mos": True,
        **columns,
    }
    insert(conn, "bms_sample", device_id=device_id, time=time, seq=seq, received_at=time, **row)


def insert_position(
    conn: psycopg.Connection, device_id: str, time: datetime, seq: int, **columns: Any
) -> None:
    row = {"lat": 22.5, "lon": 113.9, "valid": True, "speed_kmh": 10.0, "course_deg": 90.0}
    insert(
        conn, "position", device_id=device_id, time=time, seq=seq, received_at=time, **row | columns
    )


def insert_vehicle(
    conn: psycopg.Connection, device_id: str, time: datetime, seq: int, signals: dict
) -> None:
    insert(
        conn,
        "vehicle_sample",
        device_id=device_id,
        time=time,
        seq=seq,
        received_at=time,
        signals=signals,
    )


def insert_event(
    conn: psycopg.Connection, device_id: str, time: datetime, seq: int, type: str, **columns: Any
) -> None:
    insert(
        conn,
        "device_event",
        device_id=device_id,
        time=time,
        seq=seq,
        received_at=time,
        type=type,
        **columns,
    )
