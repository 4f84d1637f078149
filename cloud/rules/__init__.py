"""Alarms and fences: the rules evaluated on every stored batch, and their API.

The engine (``engine``) evaluates each batch in its transaction: BMS thresholds computed in
numpy (``bms``), fences classified with shapely 2 (``geofence``, ``fences``, ``fence_rules``)
and turned by ``hysteresis`` into crossings GPS jitter cannot flap, alarm rows opened,
counted and cleared (``lifecycle``, ``machines``); ``offline`` sweeps for silent devices.
``catalogue`` lists every alarm type, its defaults and per-model profiles. The API side, in
domain modules served by ``views/``: alarms (``alarms``), the curve around one
(``curves``), mutes (``mutes``), alarm profiles (``profiles``), geofences and their
assignments (``fence_admin``) and fence crossings (``crossings``).
"""
