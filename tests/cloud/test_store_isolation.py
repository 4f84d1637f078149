"""Store isolation, walked from the OpenAPI spec: an account of a store reaches nothing of
another store of its operator, nor of the operator's sub-operators, and changes none of the
objects its operator owns (fences, webhooks, roles, operators).

One operator, alpha, has two stores: alpha's (with the prober, ``admin@alpha.test``, an
account of that store holding the operator's administrator role) and storetwo's, each with
one object of every kind (``walk_support.build_objects``). What the prober must not see is
named so that "storetwo" appears in any answer that shows it: storetwo's store, device,
command, batch, lease, fence, alarm, account, session and token, a sub-operator of alpha and
its role, and alpha's webhooks (whose deliveries carry storetwo's alarms). Then, for every
operation in the spec:

- every path parameter naming an object, set to storetwo's (the others to alpha's): 404, or
  403 where the operation needs an operator-wide permission, which no store account has;
- every operation needing an operator-wide permission, with the prober's own objects (its
  operator, its role, the fence of its pack): 403;
- the same GET with its own objects answers 200 (so the ids are real);
- a list never shows "storetwo";
- none of these requests changes a row anywhere;
- every GET answers the same with row-level security as with the API's filters alone.

Twice, like the tenant walk: with row-level security and with the API's filters alone. A
last test runs SQL with no filter at all in the prober's scope under the policies.
"""

from __future__ import annotations

import json
import os

import psycopg
import pytest

from cloud.identity.permissions import OPERATOR_WIDE
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

OTHER = "storetwo"
# Rows a request may change without acting on anything: the guard's audit row, the
# credential's last use.
UNWATCHED = {"audit_log", "sign_in_failure"}
WATCHED_CREDENTIAL = "SELECT id, account_id, kind, secret_hash, stage, revoked_at FROM credential"


def _permission(path: str, method: str) -> str:
    return SPEC["paths"][path][method].get("x-permission") or ""


def _operator_wide(path: str, method: str) -> bool:
    return _permission(path, method) in OPERATOR_WIDE


@pytest.fixture(scope="module")
def world(pg_server, store_template):
    """Alpha with its two stores' objects and a sub-operator, shared by the walk (whose
    requests are all refused)."""
    with walk_database(pg_server, store_template, f"voltrent_store_walk_{os.getpid()}") as url:
        with psycopg.connect(url, autocommit=True) as conn:
            alpha_op = make_operator(conn, "alpha operator")
            sub = make_operator(conn, f"{OTHER} sub-operator", parent=alpha_op)
            mine = build_objects(conn, "alpha", alpha_op, store_account=True)
            other = build_objects(conn, OTHER, alpha_op, store_account=True, role_operator_id=sub)
            other["operator_id"] = sub  # the operator's own is the prober's too
        yield url, mine, other


@pytest.fixture(scope="module")
def both_walls(world):
    url, mine, _ = world
    with on_both_walls(url, mine["secret"]) as clients:
        yield clients


@pytest.fixture(scope="module", params=["voltrent_api", ""], ids=["with-rls", "filters-only"])
def clients(request, world):
    url, mine, other = world
    with (
        api_client(url, secret=mine["secret"], api_db_role=request.param) as prober,
        api_client(url, api_db_role=request.param) as platform,
    ):
        yield prober, platform, mine, other, url


def _rows(url: str) -> dict[str, list]:
    """Every row of every table (but the unwatched ones), to compare before and after."""
    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                """
                SELECT relname FROM pg_class
                WHERE relnamespace = current_schema()::regnamespace
                  AND relkind IN ('r', 'p') AND NOT relispartition
                """
            )
        ]
        rows = {}
        for table in tables:
            if table in UNWATCHED:
                continue
            sql = WATCHED_CREDENTIAL if table == "credential" else f'SELECT * FROM "{table}"'
            rows[table] = sorted(map(str, conn.execute(sql).fetchall()))
    return rows


def _refused(prober, url: str, method: str, path: str, expected: int, named: str = "") -> None:
    """The request answers ``expected``, shows nothing of storetwo's (but the ``named`` id
    it asked for) and changes no row."""
    before = _rows(url) if method != "get" else None
    response = send(prober, method, path)
    text = response.get_data(as_text=True)
    assert response.status_code == expected, f"{method.upper()} {path}: {text[:300]}"
    assert OTHER not in text.replace(named, ""), f"{method.upper()} {path}: {text[:300]}"
    if before is not None:
        after = _rows(url)
        changed = [table for table in before if before[table] != after[table]]
        assert not changed, f"{method.upper()} {path} changed {changed}"


@pytest.mark.slow
@pytest.mark.parametrize(("path", "method"), [op for op in OPERATIONS if object_params(op[0])])
def test_another_stores_object_is_out_of_reach(clients, path, method):
    prober, _, mine, other, url = clients
    expected = 403 if _operator_wide(path, method) else 404
    for name in object_params(path):
        values = {**mine, name: other[name]}
        _refused(prober, url, method, fill(path, values), expected, str(other[name]))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "method"), [op for op in OPERATIONS if _operator_wide(*op) and op[1] != "get"]
)
def test_the_operators_own_objects_are_not_a_stores_to_change(clients, path, method):
    prober, _, mine, _, url = clients
    _refused(prober, url, method, fill(path, mine), 403)


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", [path for path, method in OPERATIONS if method == "get" and object_params(path)]
)
def test_own_objects_answer(clients, path):
    """The ids the walk uses are real: the prober reading its own objects gets them, but
    the webhooks, which are its operator's alone."""
    prober, _, mine, _, _ = clients
    response = prober.get(fill(path, mine))
    expected = 403 if _operator_wide(path, "get") else 200
    assert response.status_code == expected, f"{path}: {response.get_data(as_text=True)[:300]}"
    assert OTHER not in response.get_data(as_text=True)


def _shows_other(path: str, response, other: dict[str, object]) -> bool:
    """Whether an answer shows anything of storetwo's. The audit log may name storetwo's ids
    in the prober's own refused requests: there the test is whose rows they are."""
    if path == "/api/audit" and response.status_code == 200:
        return any(OTHER in row["actor"] or row["account_id"] == other["account_id"]
                   for row in response.get_json())  # fmt: skip
    return OTHER in response.get_data(as_text=True)


def _lists(path: str) -> int:
    """What the prober gets for a list: 403 where it needs an operator-wide permission, 404
    for a singleton that may be unset (its spec says so), else 200."""
    if _operator_wide(path, "get"):
        return 403
    return 404 if "404" in SPEC["paths"][path]["get"]["responses"] else 200


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", [path for path, method in OPERATIONS if method == "get" and not path_params(path)]
)
def test_lists_never_show_another_stores_objects(clients, path):
    prober, _, _, other, _ = clients
    response = prober.get(path)
    assert response.status_code == _lists(path), response.get_data(as_text=True)[:300]
    assert not _shows_other(path, response, other), path


# Lists where storetwo's objects are, for the platform to see: the walk looks at real data.
SEEN_BY_THE_PLATFORM = (
    "/api/devices", "/api/alarms", "/api/geofences", "/api/geofence-events", "/api/stores",
    "/api/accounts", "/api/roles", "/api/operators",
)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("path", SEEN_BY_THE_PLATFORM)
def test_the_platform_sees_storetwo_where_the_store_does_not(clients, path):
    prober, platform, _, other, _ = clients
    response = platform.get(path)
    assert response.status_code == 200 and _shows_other(path, response, other), path
    assert not _shows_other(path, prober.get(path), other), path


def _bodies(mine: dict, other: dict) -> list[tuple[str, str, dict, int]]:
    """Requests whose body names storetwo's objects or alpha's sub-operator, and the
    refusal each gets: (method, path, body, status)."""
    sub, store = other["operator_id"], other["store_id"]
    return [
        ("post", "/api/commands", {"type": "locate", "args": {}, "device_ids":
                                   [mine["device_id"], other["device_id"]]}, 404),
        ("post", "/api/alarms/resolve", {"alarm_ids": [other["alarm_id"]], "note": "x"}, 404),
        ("post", "/api/devices", {"id": "intruder", "store_id": store}, 404),
        ("post", "/api/devices", {"id": "intruder", "operator_id": sub}, 404),
        ("post", "/api/accounts", {"login": "intruder@x.test", "role_ids": [],
                                   "store_id": store}, 422),
        ("post", "/api/accounts", {"login": "intruder@x.test", "role_ids": [],
                                   "operator_id": sub}, 422),
        ("post", "/api/accounts", {"login": "intruder@x.test",
                                   "role_ids": [other["role_id"]]}, 422),
        ("patch", f"/api/accounts/{mine['account_id']}", {"store_id": store}, 422),
    ]  # fmt: skip


def test_bodies_naming_another_stores_objects_are_refused(clients):
    prober, _, mine, other, url = clients
    for method, path, body, status in _bodies(mine, other):
        before = _rows(url)
        response = getattr(prober, method)(path, json=body)
        text = response.get_data(as_text=True)
        assert response.status_code == status, f"{method.upper()} {path} {body}: {text[:300]}"
        assert _rows(url) == before, f"{method.upper()} {path} {body}"


def test_row_level_security_alone_keeps_a_store_account_to_its_store(world):
    """SQL with no filter at all, in the prober's scope as the API's role: no storetwo."""
    url, mine, _ = world
    with psycopg.connect(url, autocommit=True) as conn:
        store = conn.execute(
            "SELECT store_id FROM account WHERE id = %s", (mine["account_id"],)
        ).fetchone()[0]
        tables = [
            row[0]
            for row in conn.execute(
                """
                SELECT relname FROM pg_class
                WHERE relnamespace = current_schema()::regnamespace
                  AND relkind IN ('r', 'p') AND NOT relispartition AND relrowsecurity
                ORDER BY 1
                """
            )
        ]
        conn.execute(
            "SELECT set_config('voltrent.tenant', %s, false), set_config('voltrent.store', %s,"
            " false)",
            (str(mine["operator_id"]), str(store)),
        )
        conn.execute("SET ROLE voltrent_api")
        seen = 0
        for table in tables:
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            if table == "audit_log":  # the prober's own requests may name storetwo's ids
                rows = [row[:5] for row in rows]  # id, at, operator_id, account_id, actor
            text = json.dumps([list(map(str, row)) for row in rows])
            assert OTHER not in text, table
            seen += "alpha" in text
        # and it writes none of the operator's objects
        for sql in (
            "UPDATE geofence SET action = '{\"cut_discharge_after_s\": 60}'",
            "UPDATE role SET permissions = '{*}'",
            "UPDATE operator SET name = 'mine'",
            "DELETE FROM store",
        ):
            assert conn.execute(sql).rowcount == 0, sql
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO webhook (name, url, secret, operator_id) VALUES ('x', 'http://x',"
                " %s, %s)",
                ("s" * 32, mine["operator_id"]),
            )
        conn.execute("RESET ROLE")
    # the policies let the prober's own rows through (the test would pass on empty tables)
    assert seen >= 10


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    [path for path in steady_reads() if not _operator_wide(path, "get")],
)
def test_both_walls_show_a_store_account_the_same(world, both_walls, path):
    """The API's filters and row-level security draw the same line: every answer the prober
    gets is the same with both walls as with the filters alone."""
    _, mine, _ = world
    first, second = answers_on_both_walls(both_walls, fill(path, mine))
    assert first == second, path
