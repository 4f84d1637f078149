"""The OpenAPI walk's world and moves, shared by the tenant and store isolation tests (no
tests here): every operation of the spec, one object of every kind for a tenant, and a
request of any operation with its path filled in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import psycopg
from flask.testing import FlaskClient
from psycopg.types.json import Jsonb

from cloud.identity.objects import NOT_OBJECTS
from cloud.identity.principal import issue
from cloud.platform import broker_accounts
from tests.cloud.api_support import api_client
from tests.cloud.conformance_support import openapi_document
from tests.cloud.tenancy_support import make_account, make_role, make_store

NOW = datetime.now(UTC).replace(microsecond=0)
# Values for path parameters that name no tenant object.
CATALOGUE_VALUES = {"alarm_type": "low_soc", "model": "walk-model", "filename": "swagger-ui.css"}
METHODS = ("get", "post", "put", "patch", "delete")


SPEC = openapi_document()
# Server-sent event streams (cloud/live/) never end on their own: a walk that opened one
# would wait for ever. test_live_stream.py tests their scope over HTTP.
STREAMS = {
    (path, "get")
    for path, item in SPEC["paths"].items()
    if "text/event-stream"
    in item.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
}
OPERATIONS = sorted(
    (path, method)
    for path, item in SPEC["paths"].items()
    for method in item
    if method in METHODS and (path, method) not in STREAMS
)


def path_params(path: str) -> list[str]:
    """The names of ``path``'s parameters, in order."""
    return re.findall(r"{(\w+)}", path)


def object_params(path: str) -> list[str]:
    """The parameters of ``path`` that name a tenant's object."""
    return [name for name in path_params(path) if name not in NOT_OBJECTS]


def build_objects(
    conn: psycopg.Connection,
    tenant: str,
    operator_id: int,
    *,
    store_account: bool = False,
    role_operator_id: int | None = None,
) -> dict[str, object]:
    """One object of every kind for ``tenant`` (its operator, its store); returns the path
    parameter values and ``secret``, a token of the account ``admin@<tenant>.test``: an
    administrator of the operator, and of the store with ``store_account``. The role goes
    to ``role_operator_id`` (default the operator)."""
    store_id = make_store(conn, operator_id, f"{tenant} store")
    device = f"{tenant}-pack"
    conn.execute(
        "INSERT INTO device (id, name, operator_id, store_id, model) VALUES (%s, %s, %s, %s, %s)",
        (device, f"{tenant} pack", operator_id, store_id, "walk-model"),
    )
    conn.execute(
        "UPDATE device_state SET online = true, last_seen_at = %s, lat = 52.5, lon = 13.4,"
        " position_time = %s, soc_percent = 50 WHERE device_id = %s",
        (NOW, NOW, device),
    )
    conn.execute(
        "INSERT INTO position (device_id, time, seq, received_at, lat, lon, valid)"
        " VALUES (%s, %s, 1, %s, 52.5, 13.4, true)",
        (device, NOW - timedelta(minutes=5), NOW),
    )
    cmd_id = f"{tenant}-cmd"
    conn.execute(
        "INSERT INTO command_batch (batch_id, issued_by, type, args, selector, operator_id)"
        " VALUES (%s, %s, 'locate', '{}', %s, %s)",
        (f"{tenant}-batch", f"admin@{tenant}.test", Jsonb({"device_ids": [device]}), operator_id),
    )
    conn.execute(
        "INSERT INTO command (cmd_id, device_id, type, args, issued_by, expires_at, batch_id)"
        " VALUES (%s, %s, 'locate', '{}', %s, now() + interval '1 hour', %s)",
        (cmd_id, device, f"admin@{tenant}.test", f"{tenant}-batch"),
    )
    conn.execute(
        "INSERT INTO lease_term (device_id, leased, cutoff_when_not_leased, lease_id)"
        " VALUES (%s, true, false, %s)",
        (device, f"{tenant}-lease"),
    )
    geofence_id = conn.execute(
        "INSERT INTO geofence (name, kind, circle_lat, circle_lon, circle_radius_m, operator_id)"
        " VALUES (%s, 'keep_in', 52.5, 13.4, 500, %s) RETURNING id",
        (f"{tenant} fence", operator_id),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO geofence_assignment (geofence_id, device_id) VALUES (%s, %s)",
        (geofence_id, device),
    )
    conn.execute(
        "INSERT INTO geofence_event (device_id, geofence_id, geofence_name, type, breach, time)"
        " VALUES (%s, %s, %s, 'left', true, %s)",
        (device, geofence_id, f"{tenant} fence", NOW - timedelta(minutes=3)),
    )
    webhook_id = conn.execute(
        "INSERT INTO webhook (name, url, secret, operator_id) VALUES (%s, %s, %s, %s) RETURNING id",
        (f"{tenant} hook", f"http://127.0.0.1:9/{tenant}", "s" * 32, operator_id),
    ).fetchone()[0]
    alarm_id = conn.execute(
        "INSERT INTO alarm (device_id, type, severity, first_at, latest_at, message, value)"
        " VALUES (%s, 'low_soc', 'warning', %s, %s, %s, 8) RETURNING id",
        (device, NOW - timedelta(minutes=4), NOW - timedelta(minutes=4), f"{tenant} soc low"),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO alarm_occurrence (alarm_id, n, time, value, sample) VALUES (%s, 1, %s, 8, %s)",
        (alarm_id, NOW - timedelta(minutes=4), Jsonb({"device": device})),
    )
    # the event's trigger queues a delivery to the webhook (and the platform's, if any)
    conn.execute(
        "INSERT INTO alarm_event (alarm_id, event, time) VALUES (%s, 'raised', %s)",
        (alarm_id, NOW - timedelta(minutes=4)),
    )
    delivery_id = conn.execute(
        "SELECT id FROM alarm_notification WHERE webhook_id = %s", (webhook_id,)
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO device_transfer (device_id, from_operator_id, to_operator_id, to_store_id,"
        " moved_by, note) VALUES (%s, 1, %s, %s, 'root', %s)",
        (device, operator_id, store_id, f"{tenant} arrives"),
    )
    broker_accounts.issue(conn, device)
    make_role(conn, role_operator_id or operator_id, f"{tenant} viewer", ["device.read"])
    role_id = conn.execute("SELECT id FROM role WHERE name = %s", (f"{tenant} viewer",)).fetchone()[
        0
    ]
    account_id = make_account(
        conn, operator_id, f"admin@{tenant}.test", store_id=store_id if store_account else None
    )
    session_id, _ = issue(conn, account_id, "session", name=f"{tenant} browser")
    token_id, secret = issue(conn, account_id, "token", name=f"{tenant} token")
    conn.execute(
        "INSERT INTO alarm_mute (operator, type) VALUES (%s, 'offline')", (f"admin@{tenant}.test",)
    )
    conn.execute(
        "INSERT INTO audit_log (operator_id, account_id, actor, via, action, target, status)"
        " VALUES (%s, %s, %s, 'session', 'POST /api/x', %s, 200)",
        (operator_id, account_id, f"admin@{tenant}.test", f"/api/{tenant}"),
    )
    conn.execute(
        "INSERT INTO dead_letter (topic, device_id, reason, payload, payload_bytes)"
        " VALUES (%s, %s, %s, %s, 1)",
        (f"vr/v1/{device}/up/telemetry", device, f"{tenant} garbage", b"x"),
    )
    return {
        "secret": secret,
        "device_id": device,
        "cmd_id": cmd_id,
        "batch_id": f"{tenant}-batch",
        "geofence_id": geofence_id,
        "alarm_id": alarm_id,
        "webhook_id": webhook_id,
        "delivery_id": delivery_id,
        "operator_id": operator_id,
        "store_id": store_id,
        "account_id": account_id,
        "role_id": role_id,
        "session_id": session_id,
        "token_id": token_id,
    }


@contextmanager
def walk_database(pg_server: str, template: str, name: str) -> Iterator[str]:
    """The URL of a new database ``name`` cloned from the migrated ``template``, dropped
    afterwards."""
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield urlsplit(pg_server)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(path: str, values: dict[str, object]) -> str:
    """``path`` with its parameters set from ``values`` (catalogue ones from the walk's)."""
    for name in path_params(path):
        value = CATALOGUE_VALUES.get(name, values.get(name))
        assert value is not None, (
            f"{path}: the walk has no object for the path parameter {{{name}}}; give the world "
            f"one (and cloud/identity/objects.py a scope rule)"
        )
        path = path.replace(f"{{{name}}}", str(value))
    return path


def send(client, method: str, url: str):
    """``method`` on ``url``, with an empty JSON body where the method takes one."""
    if method in ("post", "put", "patch"):
        return client.open(url, method=method.upper(), json={})
    return client.open(url, method=method.upper())


# Answers that change between two requests whatever the walls: the audit log grows with the
# walk's own requests, and a credential's last use is written as it is used; a history's
# default window (its `from` and `to`) ends now, and the live snapshot's `cursor` names the
# moment it was read.
_CHANGING = ("/api/audit", "/sessions", "/tokens", "/api/auth/me")
_WINDOW = ("from", "to", "cursor")


def steady_reads() -> list[str]:
    """The paths of every GET whose answer stays the same from one request to the next."""
    return [path for path, method in OPERATIONS if method == "get" and not path.endswith(_CHANGING)]


@contextmanager
def on_both_walls(url: str, secret: str) -> Iterator[list[FlaskClient]]:
    """Two clients bearing ``secret``: one under row-level security, one with the API's
    filters alone."""
    with (
        api_client(url, secret=secret, api_db_role="voltrent_api") as with_rls,
        api_client(url, secret=secret, api_db_role="") as filters_only,
    ):
        yield [with_rls, filters_only]


def answers_on_both_walls(clients: list[FlaskClient], path: str) -> list[tuple[int, object]]:
    """GET ``path`` with each of ``clients`` (``on_both_walls``): the two (status, body)
    answers, the history window and the live cursor left out."""
    answers = []
    for client in clients:
        response = client.get(path)
        body = response.get_json(silent=True)
        if isinstance(body, dict):
            body = {key: value for key, value in body.items() if key not in _WINDOW}
        answers.append((response.status_code, body))
    return answers
