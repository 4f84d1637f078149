"""Alarms and fences: the rules evaluated on every stored batch, and their API.

The engine (``engine``) evaluates each batch in its transaction: BMS thresholds computed in
numpy (``bms``), fences classified with shapely 2 (``geofence``, ``fences``, ``fence_rules``)
and turned by ``hysteresis`` into crossings GPS jitter cannot flap, alarm rows opened,
counted and cleared (``lifecycle``, ``machines``); ``offline`` sweeps for silent devices.
``catalogue`` lists every alarm type, its defaults and per-model profiles. The API side:
alarms and their mutes (``alarms``, ``views/alarms``), alarm profiles
(``views/alarm_profiles``), geofences (``views/geofences``) and fence crossings
(``views/geofence_events``).
"""
