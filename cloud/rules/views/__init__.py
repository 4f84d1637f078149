"""The HTTP views of alarms, alarm profiles, geofences and fence crossings: one module per
blueprint."""
