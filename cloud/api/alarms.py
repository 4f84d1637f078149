"""Placeholder: filled in by the rules issue's work on alarms."""

from __future__ import annotations

from cloud.api.schemas import Blueprint

blp = Blueprint(
    "alarms", __name__, url_prefix="/api", description="Alarms: list, resolve, curve, mutes"
)
