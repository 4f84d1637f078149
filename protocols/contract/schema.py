"""The JSON Schemas under ``schemas/``, validating every payload.

The schema files declare draft 2020-12 and use only keywords that draft-07 validators
understand too, so the gateway can validate with fastjsonschema (fast, small) while the
test suite checks the files against the 2020-12 metaschema with the reference validator.

The validators are fastjsonschema's generated code, committed as ``_validators.py`` by
``scripts/generate_validators.py``: compiling them at run time would cost the gateway
~8 MiB of RSS. A test fails while that module is older than the schemas.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from fastjsonschema.exceptions import JsonSchemaValueException

from protocols.errors import PayloadError

SCHEMA_NAMES = ("telemetry", "event", "ack", "status", "cmd", "lease", "config")


class SchemaViolation(PayloadError):
    """A payload that does not follow its schema; ``path`` points at the offending value."""

    def __init__(self, schema: str, path: str, message: str) -> None:
        super().__init__(f"{schema} payload: {message}")
        self.schema = schema
        self.path = path


def load_schema(name: str) -> dict[str, Any]:
    """The parsed schema document ``schemas/<name>.schema.json``."""
    if name not in SCHEMA_NAMES:
        raise KeyError(f"no schema named {name!r}; known: {', '.join(SCHEMA_NAMES)}")
    text = resources.files("schemas").joinpath(f"{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(name: str) -> Any:
    # Imported on first use so that scripts/generate_validators.py can still import this
    # module when the generated one is missing or stale.
    from protocols.contract._validators import VALIDATORS

    return VALIDATORS[name]


def validate(name: str, document: Any) -> None:
    """Raise SchemaViolation (with a JSON path like ``$.samples[2].lat``) unless valid."""
    try:
        _validator(name)(document)
    except JsonSchemaValueException as err:
        path = "$" + (err.name or "data").removeprefix("data")
        message = err.message.replace(err.name or "data", path, 1)
        raise SchemaViolation(name, path, message) from err
