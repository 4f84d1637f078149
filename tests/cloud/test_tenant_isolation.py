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
  (so the world really has bravo's objects where alpha looks);
- every GET answers alpha the same with row-level security as with the API's filters alone
  (the two walls draw the same line).

The walk runs twice: as the API runs (its own filters plus row-level security), and with
row-level security switched off (VOLTRENT_API_DB_ROLE=""), so the API's own filters must
hold alone. A last test does the opposite: SQL with no filter at all, run in alpha's scope
under the policies, sees nothing of bravo's in any table.

A path parameter this file does not know fails the walk: give the world an object of that
kind (``walk_support.build_objects``) (and cloud/identity/objects.py a scope rule) when you add one.
"""

from __future__ import annotations

import json
import os

import psycopg
import pytest

from cloud.identity.objects import NOT_OBJECTS, OBJECTS
from cloud.identity.permissions import platform_only
from tests.cloud.api_support import api_client
from tests.cloud.tenancy_support import make_operator
from tests.cloud.walk_support import (
    OPERATIONS,
    SPEC,
    answers_on_both_walls,
    build_objects,
    fill,
    object_params,
    on_both_walls,
    path_params,
    send,
    steady_reads,
    walk_database,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def world(pg_server, store_template):
    """A database with alpha's and bravo's objects, shared by the walks (they only read, or
    are refused before anything is touched)."""
    with walk_database(pg_server, store_template, f"voltrent_walk_{os.getpid()}") as url:
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
            alpha = build_objects(conn, "alpha", alpha_op)
            bravo = build_objects(conn, "bravo", bravo_op)
        yield url, alpha, bravo


@pytest.fixture(scope="module")
def both_walls(world):
    url, alpha, _ = world
    with on_both_walls(url, alpha["secret"]) as clients:
        yield clients


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
        for name in path_params(path)
        if name not in OBJECTS and name not in NOT_OBJECTS
    }
    assert not unknown


@pytest.mark.slow
@pytest.mark.parametrize(("path", "method"), [op for op in OPERATIONS if object_params(op[0])])
def test_another_operators_object_is_404(clients, path, method):
    as_alpha, _, alpha, bravo = clients
    for name in object_params(path):
        values = {**alpha, name: bravo[name]}
        response = send(as_alpha, method, fill(path, values))
        assert response.status_code == 404, (
            f"{method.upper()} {path} with bravo's {name}: {response.status_code} "
            f"{response.get_data(as_text=True)[:300]}"
        )
        assert "bravo" not in response.get_data(as_text=True).replace(str(bravo[name]), "")


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", [path for path, method in OPERATIONS if method == "get" and object_params(path)]
)
def test_own_objects_answer(clients, path):
    """The ids the walk uses are real: alpha reading its own objects gets them."""
    as_alpha, _, alpha, _ = clients
    response = as_alpha.get(fill(path, alpha))
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


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", [path for path, method in OPERATIONS if method == "get" and not path_params(path)]
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


@pytest.mark.slow
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


@pytest.mark.slow
@pytest.mark.parametrize("path", steady_reads())
def test_both_walls_show_alpha_the_same(world, both_walls, path):
    """The API's filters and row-level security draw the same line: alpha gets the same
    answer with both walls as with the filters alone."""
    _, alpha, _ = world
    first, second = answers_on_both_walls(both_walls, fill(path, alpha))
    assert first == second, path


# Tables the policies leave alone: the platform's own bookkeeping, never served to a tenant
# (or served from a tenant table's join). Anything else must have row-level security.
WITHOUT_RLS = {
    "schema_migration", "schema_repeatable", "store_setting", "worker_status",
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
