"""Every endpoint under ``/api/devices/{device_id}/...``, whichever context serves it, answers
an unknown device with the same 404 in the same words."""

from __future__ import annotations

import pytest

from tests.cloud.api_support import add_device, problem_of

pytestmark = pytest.mark.postgres


def test_an_unknown_device_is_the_same_404_on_every_device_path(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    asked = []
    for template, operations in sorted(paths.items()):
        if not template.startswith("/api/devices/{device_id}"):
            continue
        url = template.replace("{device_id}", "ghost")
        for method in sorted(set(operations) & {"get", "post", "put", "patch", "delete"}):
            body = {"json": {}} if method in ("post", "put", "patch") else {}
            answer = client.open(url, method=method.upper(), **body)
            assert problem_of(answer, 404)["detail"] == "no device 'ghost'", (method, url)
            asked.append((method, template))
    assert len(asked) >= 10  # devices, state, history, commands, lease, key, transfers, ...


def test_a_device_without_a_lease_term_says_so(client, db):
    add_device(db, "pack-1")
    for answer in (client.get("/api/devices/pack-1/lease"),
                   client.delete("/api/devices/pack-1/lease")):  # fmt: skip
        assert problem_of(answer, 404)["detail"] == "no lease term for device 'pack-1'"
