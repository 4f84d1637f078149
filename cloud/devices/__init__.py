"""Devices and their telemetry: the registry (``registry``, with ``require``, the one lookup
of a caller's device that other contexts use too), the owner of a new device (``owners``),
the CSV import (``csv_import``), devices that publish unregistered (``unknown``), one
device's history (``history``) and the fleet summary (``fleet``); their views in ``views/``.
"""
