"""The list of devices that publish unregistered: the platform's alone."""

from __future__ import annotations

import psycopg
import pytest

from tests.cloud.api_support import problem_of
from tests.cloud.tenancy_support import make_tenancy

pytestmark = [pytest.mark.postgres]


def test_unknown_devices_are_the_platforms_alone(database):
    tenants = make_tenancy(database)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("INSERT INTO unknown_device VALUES ('g1', now(), now(), 3, 'vr/v1/g1/up')")
    with tenants.client(None) as client:
        problem_of(client.get("/api/unknown-devices"), 401)
    for who in ("a", "shop"):
        with tenants.client(who) as client:
            refused = problem_of(client.get("/api/unknown-devices"), 403)
        assert "platform.unknown_devices" in refused["detail"]
    with tenants.client("root") as client:
        listed = client.get("/api/unknown-devices").get_json()
    assert [(d["device_id"], d["messages"]) for d in listed] == [("g1", 3)]
