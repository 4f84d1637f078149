"""Rules evaluated on ingest: geofences (and, next, alarms).

``geofence`` turns fence definitions into geometry and classifies a batch of positions
against the fences each device is assigned to, vectorised with shapely 2; ``hysteresis`` turns
those classifications, sample after sample, into ``left`` / ``reentered`` events that GPS jitter
at a border cannot flap. Both are pure: no I/O, state passed in and out as plain dicts.
"""
