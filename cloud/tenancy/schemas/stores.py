"""Schemas of stores: bodies, query arguments and responses, and the opening-hours rule.

Opening hours are ``{"mon": [["08:00", "12:00"], ["14:00", "20:00"]], ...}``: per weekday a
list of intervals, each ``[open, close]`` with ``open`` before ``close`` (``24:00`` closes at
midnight; a night past midnight is two intervals, one on each day), in order and not
overlapping. A day left out is closed. A fault is named by its place: ``opening_hours.mon.1``.
"""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma

from cloud.http.paging import PagedQueryArgs
from cloud.http.schemas import Timestamp

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How a store takes payment. 'offline': paid outside the platform, recorded afterwards.
PAYMENT_OPTIONS = ("cash", "card", "wechat_pay", "alipay", "bank_transfer", "offline")
MAX_INTERVALS_PER_DAY = 12
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")


def _interval_fault(interval: Any) -> str | None:
    """What is wrong with one ``[open, close]`` pair, or None."""
    if not isinstance(interval, list | tuple) or len(interval) != 2:
        return 'Must be a pair ["HH:MM", "HH:MM"].'
    for end in interval:
        if not isinstance(end, str) or not _TIME.fullmatch(end):
            return f"{end!r} is not a time of day HH:MM (00:00 to 24:00)."
    if interval[0] == "24:00":
        return "A store cannot open at 24:00."
    if interval[0] >= interval[1]:
        return f"Opens at {interval[0]} but closes at {interval[1]}: close must be later."
    return None


def _day_faults(intervals: Any) -> dict[Any, list[str]]:
    if not isinstance(intervals, list):
        return {"_schema": ['Must be a list of ["HH:MM", "HH:MM"] intervals.']}
    if len(intervals) > MAX_INTERVALS_PER_DAY:
        return {"_schema": [f"At most {MAX_INTERVALS_PER_DAY} intervals a day."]}
    faults: dict[Any, list[str]] = {}
    for index, interval in enumerate(intervals):
        fault = _interval_fault(interval)
        if fault is None and index > 0 and not faults and interval[0] < intervals[index - 1][1]:
            fault = (
                f"Opens at {interval[0]}, before the previous interval closes: keep them in order."
            )
        if fault:
            faults[index] = [fault]
    return faults


class OpeningHours(ma.fields.Field):
    """Per weekday (mon..sun) a list of ``["HH:MM", "HH:MM"]`` intervals."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if not isinstance(value, dict):
            raise ma.ValidationError(f"Must be an object keyed by weekday: {', '.join(WEEKDAYS)}.")
        faults: dict[str, Any] = {}
        for day, intervals in value.items():
            if day not in WEEKDAYS:
                faults[day] = [f"Not a weekday: use {', '.join(WEEKDAYS)}."]
            elif day_faults := _day_faults(intervals):
                faults[day] = day_faults
        if faults:
            raise ma.ValidationError(faults)
        return {day: [list(i) for i in value[day]] for day in WEEKDAYS if day in value}


def _fields() -> dict[str, ma.fields.Field]:
    """The editable fields, without defaults (PATCH leaves absent ones alone)."""
    return {
        "name": ma.fields.String(validate=ma.validate.Length(min=1, max=200)),
        "manager": ma.fields.String(validate=ma.validate.Length(max=200)),
        "phone": ma.fields.String(validate=ma.validate.Length(max=50)),
        "opening_hours": OpeningHours(
            metadata={"description": 'per weekday: {"mon": [["08:00", "20:00"]], ...}'}
        ),
        "address": ma.fields.String(validate=ma.validate.Length(max=500)),
        "lat": ma.fields.Float(allow_none=True, validate=ma.validate.Range(min=-90, max=90)),
        "lon": ma.fields.Float(allow_none=True, validate=ma.validate.Range(min=-180, max=180)),
        "payment_options": ma.fields.List(
            ma.fields.String(validate=ma.validate.OneOf(PAYMENT_OPTIONS)),
            metadata={"description": f"any of {', '.join(PAYMENT_OPTIONS)}"},
        ),
        "operator_id": ma.fields.Integer(
            metadata={"description": "an operator of the caller's subtree; default: the caller's"}
        ),
    }


class _StoreBody(ma.Schema.from_dict(_fields())):  # type: ignore[misc]
    @ma.validates_schema
    def _position(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("lat" in data) != ("lon" in data):
            raise ma.ValidationError(
                "Give lat and lon together.", "lon" if "lat" in data else "lat"
            )
        if "lat" in data and (data["lat"] is None) != (data["lon"] is None):
            missing = "lat" if data["lat"] is None else "lon"
            raise ma.ValidationError("Both null (no position) or both numbers.", missing)


class StoreCreateSchema(_StoreBody):
    """The body of POST /api/stores."""

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class StoreUpdateSchema(_StoreBody):
    """The fields of a store to change (PATCH); ``opening_hours`` and ``payment_options``
    replace the whole value, ``lat``/``lon`` go together."""


class StoreListArgs(PagedQueryArgs):
    operator_id = ma.fields.Integer(metadata={"description": "only this operator's stores"})
    q = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "substring of the name, manager or address (any case)"},
    )


class StoreSchema(ma.Schema):
    id = ma.fields.Integer()
    operator_id = ma.fields.Integer()
    name = ma.fields.String()
    manager = ma.fields.String()
    phone = ma.fields.String()
    opening_hours = ma.fields.Dict()
    address = ma.fields.String()
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)
    payment_options = ma.fields.List(ma.fields.String())
    device_count = ma.fields.Integer()
    account_count = ma.fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()
