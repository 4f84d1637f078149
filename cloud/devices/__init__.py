"""Devices and their telemetry: the registry (``views/devices``), devices that publish
unregistered (``views/unknown_devices``), the owner of a new device (``owners``), the CSV
import (``csv_import``), one device's history (``history``, ``views/history``) and the fleet
summary (``views/fleet``)."""
