"""One exception tree for the cloud package."""

from __future__ import annotations


class CloudError(Exception):
    """Base of every error the cloud package raises on purpose."""


class ConfigError(CloudError, ValueError):
    """An environment variable or option with a value the cloud cannot use."""


class MigrationError(CloudError):
    """The store's schema cannot be brought up to date (and why)."""


class StoreUnavailable(CloudError, ConnectionError):
    """PostgreSQL does not answer or refuses the connection."""
