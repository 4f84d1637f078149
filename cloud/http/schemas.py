"""Fields and base schemas every resource shares."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import marshmallow as ma
from flask import Request, request
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request

from cloud.http.encoding import nodes
from cloud.http.problems import LOCATIONS, fail
from cloud.text import format_time

_INTERVAL = re.compile(r"(\d{1,9})([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}
MAX_BUCKET = timedelta(days=366)
BIGINT = range(-(2**63), 2**63)
F = TypeVar("F", bound=Callable[..., Any])


class Timestamp(ma.fields.AwareDateTime):
    """ISO 8601 with a timezone in (``2026-11-23T14:05:00Z``); UTC with milliseconds out."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_time(value)


class Interval(ma.fields.Field):
    """A duration: ``30s``, ``5m``, ``1h``, ``1d``, or a plain number of seconds."""

    default_error_messages = {
        "invalid": "Not a valid interval: use seconds or a number with s, m, h or d (5m).",
        "range": "Must be between 1 second and 366 days.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> timedelta:
        match = _INTERVAL.fullmatch(str(value).strip())
        if not match:
            raise self.make_error("invalid")
        interval = timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
        if not timedelta(seconds=1) <= interval <= MAX_BUCKET:
            raise self.make_error("range")
        return interval

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | None:
        return None if value is None else int(value.total_seconds())


class QueryArgs(ma.Schema):
    """Query arguments: a parameter the endpoint does not know is a 422, not ignored."""

    class Meta:
        unknown = ma.RAISE


class Boolean(ma.fields.Boolean):
    """``true`` or ``false``, as the document's ``boolean`` means: JSON's in a body, those
    words in a query. marshmallow's own also takes 0, 1, "yes", "off" and more."""

    default_error_messages = {"invalid": "Not a valid boolean: use true or false."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(self.root, QueryArgs) and value in ("true", "false"):
            return value == "true"
        raise self.make_error("invalid")


class ArgumentsParser(FlaskParser):
    """webargs' parser, reading a JSON body the way the document says: a body sent with
    another content type is a 415 (webargs would read it as ``{}``), and it is parsed by the
    app's bounded JSON provider (webargs' own ``json.loads`` has no bound)."""

    def parse(self, argmap: Any, req: Request | None = None, **kwargs: Any) -> Any:
        """webargs' parse(), refusing an integer PostgreSQL's bigint cannot hold anywhere in
        the arguments: ids, counts and seconds are bigint or smaller columns, and the store
        would answer a 500 (a free-form ``attributes`` number is held to it too)."""
        data = super().parse(argmap, req, **kwargs)
        found = _outside_bigint(data)
        if found:
            field, value = found
            location = kwargs.get("location") or self.location
            reason = f"{value} is out of range: at most {BIGINT.stop - 1}, at least {BIGINT.start}."
            error = {"field": field, "in": LOCATIONS.get(location, location), "reason": reason}
            fail(422, f"{field}: {reason}" if field else reason, errors=[error])
        return data

    def load_json(self, req: Request, schema: ma.Schema) -> Any:
        if not req.get_data(cache=True):
            return missing  # Blueprint.arguments refuses it where the body is required
        if not is_json_request(req):
            req.on_json_loading_failed(None)  # a 415 problem
        return req.get_json()


def _outside_bigint(data: Any) -> tuple[str | None, int] | None:
    for path, _, node in nodes(data):
        if isinstance(node, int) and not isinstance(node, bool) and node not in BIGINT:
            return path, node
    return None


def _require_body() -> None:
    if not request.get_data(cache=True):
        reason = "This operation needs a JSON body."
        fail(400, reason, errors=[{"field": None, "in": "body", "reason": reason}])


class Blueprint(SmorestBlueprint):
    """A flask-smorest Blueprint whose query schemas decide about unknown parameters, and
    whose operations refuse a missing JSON body unless the document says it may be left out
    (``required=False``).

    webargs excludes unknown query parameters by default, so a typo (``?onlin=true``)
    would silently list everything; with ``unknown=None`` the schema's RAISE applies.
    """

    ARGUMENTS_PARSER = ArgumentsParser(unknown=None)

    def arguments(
        self, schema: Any, *, location: str = "json", required: bool = True, **kwargs: Any
    ) -> Callable[[F], F]:
        """flask-smorest's arguments(); a required JSON body must be there."""
        parse = super().arguments(schema, location=location, required=required, **kwargs)
        if location != "json" or not required:
            return parse

        def decorator(func: F) -> F:
            parsed = parse(func)

            @functools.wraps(parsed)
            def with_body(*args: Any, **kw: Any) -> Any:
                _require_body()
                return parsed(*args, **kw)

            return with_body  # type: ignore[return-value]

        return decorator
