"""Placeholder: filled in by the rules issue's work on webhooks."""

from __future__ import annotations

from cloud.api.schemas import Blueprint

blp = Blueprint(
    "webhooks", __name__, url_prefix="/api", description="Webhooks for alarm notifications"
)
