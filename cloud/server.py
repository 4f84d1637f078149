"""Serving the API with waitress (a production WSGI server, pure Python, no C build)."""

from __future__ import annotations

import logging

from waitress.server import create_server

from cloud.app import create_app
from cloud.config import CloudConfig
from cloud.http.db import database

log = logging.getLogger(__name__)


def serve(config: CloudConfig) -> None:
    """Serve the API on config.api_host:api_port until interrupted (port 0: any free one).

    ``config.api_threads`` threads; a live stream holds one while it is open, and at most
    ``config.api_max_streams`` are open at once (cloud/live/), so the others answer plain
    requests. ``channel_request_lookahead`` keeps reading a connection while its request
    runs, so a stream learns that its client went away without waiting to write to it."""
    app = create_app(config)
    server = create_server(
        app,
        host=config.api_host,
        port=config.api_port,
        threads=config.api_threads,
        channel_request_lookahead=1,
    )
    port = server.effective_port  # type: ignore[union-attr]  # waitress sets it; stubs lack it
    base = f"http://{config.api_host}:{port}"
    log.info("VoltRent API on %s/api (docs: %s/api/docs)", base, base)
    try:
        server.run()
    finally:
        database(app).close()
