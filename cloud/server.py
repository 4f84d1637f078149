"""Serving the API with waitress (a production WSGI server, pure Python, no C build)."""

from __future__ import annotations

import logging

from waitress import create_server

from cloud.app import create_app
from cloud.config import CloudConfig
from cloud.http.db import POOL_MAX_SIZE, database

log = logging.getLogger(__name__)

# One pooled connection per thread (db.POOL_MAX_SIZE): a request never waits for one.
THREADS = POOL_MAX_SIZE


def serve(config: CloudConfig) -> None:
    """Serve the API on config.api_host:api_port until interrupted (port 0: any free one)."""
    app = create_app(config)
    server = create_server(app, host=config.api_host, port=config.api_port, threads=THREADS)
    base = f"http://{config.api_host}:{server.effective_port}"
    log.info("VoltRent API on %s/api (docs: %s/api/docs)", base, base)
    try:
        server.run()
    finally:
        database(app).close()
