"""``serve()``: the API under waitress, as `voltrent cloud api` runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from launcher.broker import free_port
from tests.cloud.tenancy_support import root_token

pytestmark = pytest.mark.postgres

SERVE = (
    "import logging; logging.basicConfig(level=logging.INFO);"
    "from cloud.server import serve; from cloud.config import CloudConfig;"
    "serve(CloudConfig.from_env())"
)


def _get(url: str, token: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=5
        ) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_serve_answers_over_http_and_stops_on_interrupt(database):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database, "VOLTRENT_API_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/api/health")
                break
            except OSError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "the API did not start"
                time.sleep(0.1)
        assert (status, body) == (200, {"database": "ok"})
        status, problem = _get(f"http://127.0.0.1:{port}/api/devices/nope")
        assert (status, problem["status"]) == (401, 401)  # over HTTP too: sign in first
        status, problem = _get(f"http://127.0.0.1:{port}/api/devices/nope", root_token(database))
        assert (status, problem["status"]) == (404, 404)
    finally:
        process.send_signal(signal.SIGINT)
        _, log = process.communicate(timeout=20)
    assert process.returncode == 0, log
    assert f"VoltRent API on http://127.0.0.1:{port}/api" in log
