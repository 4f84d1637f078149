"""Tenant isolation, walked from the OpenAPI spec: whatever endpoints exist, an account of
operator A never reaches operator B's objects.

Two sibling operators under the platform, alpha and bravo, each get one object of every kind
(device, store, command, batch, lease, fence, alarm, webhook and delivery, account, role,
token, session, ...), every bravo object named so that "bravo" appears in any response that
shows it. Then, for every operation in the spec:

- every path parameter naming an object, set to bravo's object (the others to alpha's):
  alpha's administrator gets 404, whatever the method;
- the same GET with alpha's own objects answers 200 (so the ids are real and the 404 above
  is the scope's doing);
- a GET of a list never shows "bravo" to alpha, while the platform's administrator sees it
  (so the world really has bravo's objects where alpha looks).

The walk runs twice: as the API runs (its own filters plus row-level security), and with
row-level security switched off (VOLTRENT_API_DB_ROLE=""), so the API's own filters must
hold alone. A last test does the opposite: SQL with no filter at all, run in alpha's scope
under the policies, sees nothing of bravo's in any table.

A path parameter this file does not know fails the walk: give the world an object of that
kind (and cloud/access/objects.py a scope rule) when you add one.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg.types.json import Jsonb

from cloud.access.objects import NOT_OBJECTS, OBJECTS
from cloud.access.permissions import platform_only
from cloud.access.principal import issue
from cloud.api import create_app
from cloud.broker import accounts as broker_accounts
from cloud.config import CloudConfig
from tests.cloud.access_support import make_account, make_operator, make_role, make_store
from tests.cloud.api_support import UNREACHABLE_DATABASE, api_client

pytestmark = pytest.mark.postgres

NOW = datetime.now(UTC).replace(microsecond=0)
# Values for path parameters that name no tenant object.
CATALOGUE_VALUES = {"alarm_type": "low_soc", "model": "walk-model", "filename": "swagger-ui.css"}
METHODS = ("get", "post", "put", "patch", "delete")


def _spec() -> dict:
    app = create_app(CloudConfig(database_url=UNREACHABLE_DATABASE))
    return app.test_client().get("/api/openapi.json").get_json()


SPEC = _spec()
OPERATIONS = sorted(
    (path, method) for path, item in SPEC["paths"].items() for method in item if method in METHODS
)


def _params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def _object_params(path: str) -> list[str]:
    return [name for name in _params(path) if name not in NOT_OBJECTS]


def _build(conn: psycopg.Connection, tenant: str, operator_id: int) -> dict[str, object]:
    """One object of every kind for ``tenant``; returns the path parameter values."""
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
    make_role(conn, operator_id, f"{tenant} viewer", ["device.read"])
    role_id = conn.execute("SELECT id FROM role WHERE name = %s", (f"{tenant} viewer",)).fetchone()[
        0
    ]
    account_id = make_account(conn, operator_id, f"admin@{tenant}.test")
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


def _with_database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


@pytest.fixture(scope="module")
def world(pg_server, store_template):
    """A database with alpha's and bravo's objects, shared by the walks (they only read, or
    are refused before anything is touched)."""
    name = f"voltrent_walk_{os.getpid()}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{store_template}"')
    url = _with_database(pg_server, name)
    with psycopg.connect(url, autocommit=True) as conn:
        alpha_op = make_operator(conn, "alpha operator")
        bravo_op = make_operator(conn, "bravo operator")
        make_operator(conn, "bravo sub-operator", parent=bravo_op)
        # a platform webhook: it hears every operator's alarms (the fan-out is by subtree)
        conn.execute(
            "INSERT INTO webhook (name, url, secret, operator_id)"
            " VALUES ('platform hook', 'http://127.0.0.1:9/p', %s, 1)",
            ("p" * 32,),
        )
        alpha = _build(conn, "alpha", alpha_op)
        bravo = _build(conn, "bravo", bravo_op)
    yield url, alpha, bravo
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _url(path: str, values: dict[str, object]) -> str:
    for name in _params(path):
        value = CATALOGUE_VALUES.get(name, values.get(name))
        assert value is not None, (
            f"{path}: the walk has no object for the path parameter {{{name}}}; give the world "
            f"one (and cloud/access/objects.py a scope rule)"
        )
        path = path.replace(f"{{{name}}}", str(value))
    return path


def _request(client, method: str, url: str):
    if method in ("post", "put", "patch"):
        return client.open(url, method=method.upper(), json={})
    return client.open(url, method=method.upper())


@pytest.fixture(scope="module", params=["voltrent_api", ""], ids=["with-rls", "filters-only"])
def clients(request, world):
    url, alpha, bravo = world
    role = request.param
    with (
        api_client(url, secret=alpha["secret"], api_db_role=role) as as_alpha,
        api_client(url, api_db_role=role) as as_platform,
    ):
        yield as_alpha, as_platform, alpha, bravo


def test_every_path_parameter_is_known_to_the_scope_rules():
    """Every path parameter in the spec names a scoped object or a catalogue entry."""
    unknown = {
        (path, name)
        for path, _ in OPERATIONS
        for name in _params(path)
        if name not in OBJECTS and name not in NOT_OBJECTS
    }
    assert not unknown


@pytest.mark.parametrize(("path", "method"), [op for op in OPERATIONS if _object_params(op[0])])
def test_another_operators_object_is_404(clients, path, method):
    as_alpha, _, alpha, bravo = clients
    for name in _object_params(path):
        values = {**alpha, name: bravo[name]}
        response = _request(as_alpha, method, _url(path, values))
        assert response.status_code == 404, (
            f"{method.upper()} {path} with bravo's {name}: {response.status_code} "
            f"{response.get_data(as_text=True)[:300]}"
        )
        assert "bravo" not in response.get_data(as_text=True).replace(str(bravo[name]), "")


@pytest.mark.parametrize(
    "path", [path for path, method in OPERATIONS if method == "get" and _object_params(path)]
)
def test_own_objects_answer(clients, path):
    """The ids the walk uses are real: alpha reading its own objects gets them."""
    as_alpha, _, alpha, _ = clients
    response = as_alpha.get(_url(path, alpha))
    assert response.status_code == 200, f"{path}: {response.get_data(as_text=True)[:300]}"
    assert "bravo" not in response.get_data(as_text=True)


def _shows_bravo(path: str, response, bravo: dict[str, object]) -> bool:
    """Whether an answer shows anything of bravo's. The audit log is the one list that may
    name bravo's ids without showing bravo's objects: alpha's own requests above asked for
    them, and are alpha's to read; there the test is whose rows they are."""
    if path == "/api/audit" and response.status_code == 200:
        rows = response.get_json()
        return any(
            row["operator_id"] == bravo["operator_id"] or "bravo" in row["actor"] for row in rows
        )
    return "bravo" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", [path for path, method in OPERATIONS if method == "get" and not _params(path)]
)
def test_lists_never_show_another_operators_objects(clients, path):
    as_alpha, _, _, bravo = clients
    response = as_alpha.get(path)
    assert response.status_code == _alpha_lists(path), response.get_data(as_text=True)[:300]
    assert not _shows_bravo(path, response, bravo), path


def _alpha_lists(path: str) -> int:
    """What alpha's administrator gets for a list: 403 where it needs a platform.*
    permission, 404 for a singleton that may be unset (its spec says so), else 200."""
    operation = SPEC["paths"][path]["get"]
    if platform_only(operation.get("x-permission") or ""):
        return 403
    return 404 if "404" in operation["responses"] else 200


# Lists where bravo's objects must be visible to the platform: the walk above looks at real
# data, not at empty pages.
SEEN_BY_PLATFORM = (
    "/api/devices", "/api/alarms", "/api/geofences", "/api/geofence-events", "/api/webhooks",
    "/api/dead-letters", "/api/stores", "/api/accounts", "/api/roles", "/api/operators",
    "/api/audit",
)  # fmt: skip


@pytest.mark.parametrize("path", SEEN_BY_PLATFORM)
def test_the_platform_sees_bravo_where_alpha_does_not(clients, path):
    as_alpha, as_platform, _, bravo = clients
    assert path in {p for p, _ in OPERATIONS}
    # the walk's own requests fill the audit log's first pages: ask for bravo's actor
    url = f"{path}?actor=admin@bravo.test" if path == "/api/audit" else path
    response = as_platform.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert _shows_bravo(path, response, bravo), path
    seen_by_alpha = as_alpha.get(url)
    assert seen_by_alpha.status_code == _alpha_lists(path), path
    assert not _shows_bravo(path, seen_by_alpha, bravo), path


# Tables the policies leave alone: the platform's own bookkeeping, never served to a tenant
# (or served from a tenant table's join). Anything else must have row-level security.
WITHOUT_RLS = {
    "schema_migration", "store_setting", "worker_status", "alarm_profile", "rollup_pending",
    "sign_in_failure",
}  # fmt: skip


def test_row_level_security_alone_hides_another_operators_rows(world):
    """SQL with no filter at all, in alpha's scope as the API's role: no bravo anywhere."""
    url, alpha, _ = world
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                """
                SELECT c.relname FROM pg_class c
                WHERE c.relnamespace = current_schema()::regnamespace
                  AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                ORDER BY 1
                """
            )
        ]
        unguarded = {
            row[0]
            for row in conn.execute(
                """
                SELECT relname FROM pg_class
                WHERE relnamespace = current_schema()::regnamespace
                  AND relkind IN ('r', 'p') AND NOT relispartition AND NOT relrowsecurity
                """
            )
        }
        assert unguarded == WITHOUT_RLS
        # partitions have no policies: the API's role reads time series through the parents only
        readable_partitions = conn.execute(
            """
            SELECT relname FROM pg_class
            WHERE relnamespace = current_schema()::regnamespace AND relispartition
              AND has_table_privilege('voltrent_api', oid, 'SELECT')
            """
        ).fetchall()
        assert readable_partitions == []
        conn.execute(
            "SELECT set_config('voltrent.tenant', %s, false)", (str(alpha["operator_id"]),)
        )
        conn.execute("SET ROLE voltrent_api")
        seen_alpha = 0
        for table in tables:
            if table in WITHOUT_RLS:
                continue
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            if table == "audit_log":  # alpha's own requests for bravo's ids: see _shows_bravo
                rows = [row[:5] for row in rows]  # id, at, operator_id, account_id, actor
            text = json.dumps([list(map(str, row)) for row in rows])
            assert "bravo" not in text, table
            seen_alpha += "alpha" in text
        conn.execute("RESET ROLE")
        # the policies let alpha's own rows through (the test would pass on empty tables)
        assert seen_alpha >= 10
        # and a session with no tenant sees nothing at all
        conn.execute("RESET voltrent.tenant")
        conn.execute("SET ROLE voltrent_api")
        assert conn.execute("SELECT count(*) FROM device").fetchone()[0] == 0
        conn.execute("RESET ROLE")
