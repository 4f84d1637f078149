"""``/api/fleet/summary``: the caller's fleet in numbers, from device_state (no history scan).

The counts are of the caller's subtree (a store's account: its store). Unknown devices and
dead letters are the platform's: they are counted only for a caller who may list them.
"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from cloud.http.db import connection
from cloud.http.schemas import Blueprint
from cloud.identity import scope
from cloud.identity.guard import principal, requires

blp = Blueprint("fleet", __name__, url_prefix="/fleet", description="The fleet at a glance")

# Thresholds of the state buckets: a pack's BMS reads a few tens of mA of noise at rest.
CHARGING_ABOVE_A = 0.5
DISCHARGING_BELOW_A = -0.5

SUMMARY = f"""
SELECT count(*) AS total,
       count(*) FILTER (WHERE s.online) AS online,
       count(*) FILTER (WHERE NOT s.online AND s.last_seen_at IS NOT NULL) AS offline,
       count(*) FILTER (WHERE NOT s.online AND s.last_seen_at IS NULL) AS never_seen,
       count(*) FILTER (WHERE d.kind = 'pack') AS pack,
       count(*) FILTER (WHERE d.kind = 'vehicle') AS vehicle,
       count(*) FILTER (WHERE s.current_a > %(charging)s) AS charging,
       count(*) FILTER (WHERE s.current_a < %(discharging)s) AS discharging,
       count(*) FILTER (WHERE s.current_a BETWEEN %(discharging)s AND %(charging)s) AS idle,
       count(*) FILTER (WHERE s.current_a IS NULL) AS no_bms_data,
       count(*) FILTER (WHERE NOT s.discharge_mos) AS discharge_mos_off,
       count(*) FILTER (WHERE s.soc_percent < 20) AS soc_below_20,
       count(*) FILTER (WHERE s.soc_percent >= 20 AND s.soc_percent < 50) AS soc_20_50,
       count(*) FILTER (WHERE s.soc_percent >= 50 AND s.soc_percent < 80) AS soc_50_80,
       count(*) FILTER (WHERE s.soc_percent >= 80) AS soc_80_up,
       CASE WHEN %(unknown)s THEN (SELECT count(*) FROM unknown_device) END AS unknown_devices,
       CASE WHEN %(dead_letters)s THEN (
           SELECT count(*) FROM dead_letter WHERE received_at > now() - INTERVAL '24 hours')
       END AS dead_letters_24h
FROM device d JOIN device_state s ON s.device_id = d.id
WHERE {scope.device("d")}
"""


class ByKindSchema(ma.Schema):
    pack = ma.fields.Integer()
    vehicle = ma.fields.Integer()


class ByStateSchema(ma.Schema):
    charging = ma.fields.Integer(metadata={"description": f"current > {CHARGING_ABOVE_A} A"})
    discharging = ma.fields.Integer(metadata={"description": f"current < {DISCHARGING_BELOW_A} A"})
    idle = ma.fields.Integer()
    no_bms_data = ma.fields.Integer(metadata={"description": "no BMS sample yet"})


class SocBandsSchema(ma.Schema):
    below_20 = ma.fields.Integer(data_key="<20")
    from_20_to_50 = ma.fields.Integer(data_key="20-50")
    from_50_to_80 = ma.fields.Integer(data_key="50-80")
    from_80 = ma.fields.Integer(data_key=">=80")


class FleetSummarySchema(ma.Schema):
    total = ma.fields.Integer(metadata={"description": "registered devices"})
    online = ma.fields.Integer()
    offline = ma.fields.Integer(metadata={"description": "seen before, offline now"})
    never_seen = ma.fields.Integer()
    by_kind = ma.fields.Nested(ByKindSchema)
    by_state = ma.fields.Nested(
        ByStateSchema, metadata={"description": "by each device's latest BMS current"}
    )
    discharge_mos_off = ma.fields.Integer(metadata={"description": "power cut at the BMS"})
    soc_bands = ma.fields.Nested(SocBandsSchema, metadata={"description": "latest SOC, %"})
    unknown_devices = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "publishing unregistered; null without `platform.unknown_devices`"
        },
    )
    dead_letters_24h = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "rejected in the last 24 h; null without `platform.dead_letters`"},
    )


@blp.route("/summary")
class FleetSummary(MethodView):
    @requires("device.read")
    @blp.response(200, FleetSummarySchema)
    def get(self):
        """Count devices by connectivity, kind, charge state and SOC band

        Charge state and SOC are each device's latest reading, also for a device that
        is offline now.
        """
        who = principal()
        params = scope.params(
            charging=CHARGING_ABOVE_A,
            discharging=DISCHARGING_BELOW_A,
            unknown=who.can("platform.unknown_devices"),
            dead_letters=who.can("platform.dead_letters"),
        )
        with connection() as conn:
            row = conn.execute(SUMMARY, params).fetchone()
        return {
            **{key: row[key] for key in ("total", "online", "offline", "never_seen")},
            "by_kind": {"pack": row["pack"], "vehicle": row["vehicle"]},
            "by_state": {
                key: row[key] for key in ("charging", "discharging", "idle", "no_bms_data")
            },
            "discharge_mos_off": row["discharge_mos_off"],
            "soc_bands": {
                "below_20": row["soc_below_20"],
                "from_20_to_50": row["soc_20_50"],
                "from_50_to_80": row["soc_50_80"],
                "from_80": row["soc_80_up"],
            },
            "unknown_devices": row["unknown_devices"],
            "dead_letters_24h": row["dead_letters_24h"],
        }
