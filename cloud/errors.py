"""One exception tree for the cloud package."""

from __future__ import annotations

from typing import Any, NoReturn


class CloudError(Exception):
    """Base of every error the cloud package raises on purpose."""


class ConfigError(CloudError, ValueError):
    """An environment variable or option with a value the cloud cannot use."""


class MigrationError(CloudError):
    """The store's schema cannot be brought up to date (and why)."""


class StoreUnavailable(CloudError, ConnectionError):
    """PostgreSQL does not answer or refuses the connection."""


class Refused(CloudError):
    """A request the domain refuses: ``detail`` says what was wrong, ``errors`` (each
    ``{"field", "in", "reason"}``) which fields. The API answers each kind with its own
    status (cloud/http/problems.py); domain code never names HTTP."""

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class NotFound(Refused):
    """Nothing with that key, or nothing of the caller's: the same answer for both."""


class Forbidden(Refused):
    """The caller may not do this, whatever the input."""


class Conflict(Refused):
    """It clashes with what the store holds now (taken, in use, changed meanwhile)."""


class Invalid(Refused):
    """A value in the request is not acceptable; ``errors`` names the field."""


def not_found(kind: str, key: object) -> NoReturn:
    """Refuse in the one wording every resource uses: ``no device 'sim-0001'``, ``no alarm 7``."""
    raise NotFound(f"no {kind} {key!r}")


def field_error(field: str, reasons: list[str]) -> None:
    """Refuse the body's ``field`` with each reason, if there are any."""
    if reasons:
        raise Invalid(
            f"{field}: " + "; ".join(reasons),
            errors=[{"field": field, "in": "body", "reason": r} for r in reasons],
        )
