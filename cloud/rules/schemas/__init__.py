"""Request and response schemas of alarms and crossings (``alarms``) and geofences
(``geofences``)."""
