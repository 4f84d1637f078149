"""Errors of the dispatcher (part of the cloud's one exception tree)."""

from __future__ import annotations

from cloud.errors import CloudError


class DispatchError(CloudError):
    """The dispatcher cannot do its work now (it retries)."""


class PublishError(DispatchError, ConnectionError):
    """The broker did not take a publish: not connected, refused, or no PUBACK in time."""


class SigningOff(CloudError):
    """The cloud has no master command key: it signs nothing, so there is no key to rotate
    to (the API answers 503: the service is not set up for it)."""
