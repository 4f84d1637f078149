"""Interactive API docs that work offline: Swagger UI served from the swagger_ui_bundle
package by the app itself, so the page loads nothing from a CDN (a store's back office or
a demo on a laptop may have no internet)."""

from __future__ import annotations

from flask import Blueprint, Flask, send_from_directory
from swagger_ui_bundle import swagger_ui_path

SPEC_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"
# Relative to the docs page, so the page keeps working behind a path prefix.
ASSETS_RELATIVE_URL = "docs/assets/"

blp = Blueprint("swagger-ui-assets", __name__)


@blp.route(f"{DOCS_URL}/assets/<path:filename>")
def swagger_ui_asset(filename: str):
    """A file of the Swagger UI bundle (JS, CSS, images)."""
    return send_from_directory(swagger_ui_path, filename, max_age=86_400)


def configure_docs(app: Flask) -> None:
    """Point flask-smorest's spec and Swagger UI page at /api, with the local assets."""
    app.config.update(
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=ASSETS_RELATIVE_URL,
    )
    app.register_blueprint(blp)
