"""Placeholder: filled in by the rules issue's work on alarm_profiles."""

from __future__ import annotations

from cloud.api.schemas import Blueprint

blp = Blueprint(
    "alarm_profiles", __name__, url_prefix="/api", description="Alarm thresholds per device model"
)
