"""The demo's fleet in the store: the simulated packs registered, and a keep-in service area
over part of their route, so that riders leave and re-enter it and the rules have work; and
the demo's command signing key, with each simulated gateway's key derived from it."""

from __future__ import annotations

import base64
import logging
import secrets
from pathlib import Path

from launcher.demo_access import kept_secret
from launcher.sim import FleetOptions

log = logging.getLogger("voltrent.demo")

SERVICE_AREA = "demo service area"
REGISTER_DEVICE = """
    INSERT INTO device (id, kind, model, name)
    VALUES (%s, 'pack', %s, %s)
    ON CONFLICT DO NOTHING
"""
ADD_SERVICE_AREA = """
    INSERT INTO geofence (name, kind, circle_lat, circle_lon, circle_radius_m, margin_m, dwell_s)
    SELECT %s, 'keep_in', %s, %s, %s, 25, 30
    WHERE NOT EXISTS (SELECT 1 FROM geofence WHERE name = %s)
"""
ASSIGN_SERVICE_AREA = """
    INSERT INTO geofence_assignment (geofence_id, device_id)
    SELECT g.id, d FROM geofence g, unnest(%s::text[]) AS d WHERE g.name = %s
    ON CONFLICT DO NOTHING
"""


def register_fleet(database_url: str, fleet: FleetOptions) -> None:
    """Register the simulated packs (existing ones kept) inside the service area
    (psycopg.Error when the store refuses)."""
    from cloud.store.db import connect

    model = f"JBD 16S {fleet.chemistry}"
    rows = [
        (device_id, model, f"Demo e-bike pack {n}")
        for n, device_id in enumerate(fleet.device_ids(), start=1)
    ]
    lat, lon, radius_m = service_area()
    with connect(database_url) as conn, conn.cursor() as cursor:
        cursor.executemany(REGISTER_DEVICE, rows)
        cursor.execute(ADD_SERVICE_AREA, (SERVICE_AREA, lat, lon, radius_m, SERVICE_AREA))
        cursor.execute(ASSIGN_SERVICE_AREA, ([r[0] for r in rows], SERVICE_AREA))
    log.info("registered %d simulated devices (existing ones kept) in a %.0f m keep-in fence",
             len(rows), radius_m)  # fmt: skip


GENERATIONS = "SELECT id, command_key_generation FROM device WHERE id = ANY(%s)"


def master_key_file(path: Path) -> Path:
    """The demo's master secret for signing commands: made once (32 random bytes, base64,
    readable by the owner only) and kept with the demo's data."""
    if not path.exists():
        kept_secret(path, lambda: base64.b64encode(secrets.token_bytes(32)).decode())
        log.info("made the command signing key %s", path)
    return path


def gateway_keys(
    database_url: str, master: bytes, fleet: FleetOptions
) -> dict[str, dict[str, str]]:
    """Each simulated gateway's [commands] keys: its current key (a key rotated in an earlier
    run of the demo included), as `voltrent cloud command-key` would print it."""
    from cloud.commands.keys import Signer
    from cloud.store.db import connect
    from protocols.contract.signing import encode_key

    signer = Signer(master)
    with connect(database_url) as conn:
        rows = conn.execute(GENERATIONS, (fleet.device_ids(),)).fetchall()
    keys = {}
    for device_id, generation in rows:
        key = signer.key(device_id, generation)
        keys[device_id] = {key.kid: encode_key(key.secret)}
    return keys


def service_area() -> tuple[float, float, float]:
    """(lat, lon, radius_m): centred on the route's bounding box, a third of its diagonal
    in radius, so part of the route lies outside."""
    from firmware_sim.route import Route, distance_m

    south, west, north, east = Route.load().bounding_box
    diagonal = distance_m(south, west, north, east)
    return (south + north) / 2, (west + east) / 2, round(diagonal / 3, -1)
