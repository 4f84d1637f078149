"""Benchmark 9: what access control costs an API request.

A store with 100 operators (10 under the platform, 9 sub-operators under each), 20,000
devices spread over them, one hour of 1 Hz BMS samples for every device of one sub-operator
(200 devices, 720,000 rows) plus a minute for everyone else. The app runs in-process
(Flask's test client: no HTTP server, so the numbers are the app and the store) and each
request is timed N times, for three callers:

- ``platform, RLS``: the platform's administrator, the connection under the API role with
  row-level security (as deployed);
- ``sub-operator, RLS``: an administrator of one sub-operator (200 of the 20,000 devices);
- ``platform, no RLS``: VOLTRENT_API_DB_ROLE="" (the views' own filters only): the
  difference to the first row is what the policies cost.

Also ``/api/health`` (public: no token, no scope) as the floor of a request.

    .venv/bin/python benchmarks/api_access.py           # ~1 min
    .venv/bin/python benchmarks/api_access.py --quick   # fewer repetitions
    .venv/bin/python benchmarks/api_access.py --quick --devices 500    # the smoke run's size
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import psycopg
from _common import base_parser, print_header, print_table
from _store import add_administrator, add_operator, drop_database, fresh_database

from cloud.app import create_app
from cloud.config import CloudConfig
from cloud.http.db import database
from cloud.identity.principal import issue

NAME = "voltrent_bench_access"
DEVICES = 20_000
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def build(devices: int) -> tuple[str, dict[str, str], str]:
    url = fresh_database(NAME)
    with psycopg.connect(url, autocommit=True) as conn:
        tops = [add_operator(conn, f"operator {i}") for i in range(10)]
        subs = [add_operator(conn, f"sub {top}.{j}", top) for top in tops for j in range(9)]
        owners = tops + subs
        conn.execute(
            "INSERT INTO device (id, operator_id, name)"
            " SELECT format('pack-%%s', lpad(i::text, 5, '0')), (%s::bigint[])[1 + i %% %s], ''"
            " FROM generate_series(0, %s - 1) i",
            (owners, len(owners), devices),
        )
        target_operator = subs[0]
        target = conn.execute(
            "SELECT min(id) FROM device WHERE operator_id = %s", (target_operator,)
        ).fetchone()[0]
        start = NOW - timedelta(hours=1)
        conn.execute(
            """
            INSERT INTO bms_sample (device_id, time, seq, received_at, pack_voltage_v, current_a,
                soc_percent, cell_voltages_v, temperatures_c, charge_mos, discharge_mos)
            SELECT d.id, %(start)s + make_interval(secs => s), s,
                   %(start)s + make_interval(secs => s), 52.1, -3.0, 80,
                   ARRAY[3.3, 3.31, 3.29, 3.3]::real[], ARRAY[25, 26]::real[], true, true
            FROM device d, generate_series(0, 3599) s
            WHERE d.operator_id = %(operator)s
               OR (s >= 3540 AND d.operator_id <> %(operator)s)
            """,
            {"start": start, "operator": target_operator},
        )
        conn.execute("ANALYZE")
        secrets = {}
        for label, operator_id in (("platform", 1), ("sub-operator", target_operator)):
            account = add_administrator(conn, operator_id, f"bench-{operator_id}@bench.test")
            secrets[label] = issue(conn, account, "token", name="bench")[1]
    return url, secrets, target


def timed(client, path: str, repeat: int) -> tuple[float, float]:
    client.get(path)  # warm the pool and the plan caches
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=DEVICES, help="spread over the operators")
    args = parser.parse_args()
    print_header("API access control cost", args)
    repeat = 30 if args.quick else 200
    url, secrets, target = build(args.devices)
    history = urlencode({"from": (NOW - timedelta(hours=1)).isoformat(), "to": NOW.isoformat()})
    paths = {
        "GET /api/health": "/api/health",
        "GET /api/devices (page of 50)": "/api/devices",
        "GET /api/devices/{id}": f"/api/devices/{target}",
        "GET /api/devices/{id}/bms (1 h, 3,600 rows)": f"/api/devices/{target}/bms?{history}",
        "GET /api/fleet/summary": "/api/fleet/summary",
    }
    callers = (
        ("platform, RLS", secrets["platform"], "voltrent_api"),
        ("sub-operator, RLS", secrets["sub-operator"], "voltrent_api"),
        ("platform, no RLS", secrets["platform"], ""),
    )
    rows = []
    for label, path in paths.items():
        row = [label]
        for _, secret, role in callers:
            app = create_app(CloudConfig(database_url=url, api_db_role=role))
            client = app.test_client()
            if path != "/api/health":
                client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
            median, p95 = timed(client, path, repeat)
            row.append(f"{median:.2f} / {p95:.2f}")
            database(app).close()
        rows.append(row)
    print(f"   {args.devices:,} devices, 100 operators; {repeat} requests each; median / p95 ms")
    print_table(["request", *(label for label, _, _ in callers)], rows)
    if not args.keep:
        drop_database(NAME)


if __name__ == "__main__":
    main()
