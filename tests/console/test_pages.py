"""The console's frames without a browser: the tile server's configuration and its place in
the Content-Security-Policy, the vendored libraries served from their packages only, and
pages that do not exist."""

from __future__ import annotations

import pytest

from cloud.config import CloudConfig, ConfigError
from cloud.console import assets
from cloud.console.pages import content_security_policy
from tests.cloud.api_support import offline_api_client


def test_a_tile_url_must_be_an_http_template():
    config = CloudConfig.from_env({"VOLTRENT_TILE_URL": "https://t.example/{z}/{x}/{y}.png"})
    assert config.tile_url == "https://t.example/{z}/{x}/{y}.png"
    for wrong in ("ftp://t.example/{z}/{x}/{y}", "https://t.example/tiles.png"):
        with pytest.raises(ConfigError, match="VOLTRENT_TILE_URL"):
            CloudConfig.from_env({"VOLTRENT_TILE_URL": wrong})


@pytest.mark.parametrize(
    ("tile_url", "source"),
    [
        ("", None),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://10.0.0.5:8081/tiles/{z}/{x}/{y}.png", "http://10.0.0.5:8081"),
    ],
)
def test_images_may_come_from_the_tile_server_only(tile_url, source):
    policy = dict(
        directive.split(" ", 1)
        for directive in content_security_policy(CloudConfig(tile_url=tile_url)).split("; ")
    )
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["img-src"].split() == ["'self'", "data:", "blob:", *([source] if source else [])]


def test_only_the_dist_folder_of_a_listed_package_is_served():
    assert assets.missing() == [], "npm ci has not run in cloud/console (scripts/bootstrap.sh)"
    with offline_api_client() as client:
        answer = client.get("/console/vendor/leaflet/leaflet.css")
        assert answer.status_code == 200 and answer.mimetype == "text/css"
        assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
        assert client.get("/console/vendor/leaflet/../package.json").status_code == 404
        assert client.get("/console/vendor/kdbush/kdbush.js").status_code == 404  # not listed
        assert client.get("/console/vendor/leaflet/no-such-file.js").status_code == 404


def test_a_page_frame_needs_no_session_and_holds_no_data():
    with offline_api_client() as client:  # the store is down: a frame does not need it
        answer = client.get("/sign-in")
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "no-store"
        assert b'id="catalog"' in answer.data
        assert client.get("/no-such-page").status_code == 404
