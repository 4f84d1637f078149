"""Placeholder: filled in by the rules issue's work on geofence events."""

from __future__ import annotations

from cloud.api.schemas import Blueprint

blp = Blueprint("geofence_events", __name__, url_prefix="/api", description="Fence crossings")
