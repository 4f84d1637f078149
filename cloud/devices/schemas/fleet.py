"""Schemas of the fleet summary."""

from __future__ import annotations

import marshmallow as ma

from cloud.devices.fleet import CHARGING_ABOVE_A, DISCHARGING_BELOW_A


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
